/** The shell lexer alone (shell-lexer.ts): words, quoting, expansions and separators, with a
 * host that records what the lexer asks of it. The semantics are in mount-commands.test.ts. */
import { describe, expect, it } from 'vitest';
import { MountConfigError } from '../../src/mounts/errors.js';
import { ShellLexer, type Command, type Sep, type ShellHost } from '../../src/mounts/shell-lexer.js';

function lex(text: string, vars: Record<string, string> = {}) {
  const warnings: string[] = [];
  const asked: string[] = [];
  const host: ShellHost = {
    variable(name, line, column, dflt) {
      asked.push(`${name}@${line}:${column}`);
      return vars[name] ?? dflt ?? '';
    },
    warn(code, problem, line, column) {
      warnings.push(`${line}:${column} ${code}: ${problem}`);
    },
    warnedLines: new Set(),
  };
  const lexer = new ShellLexer(text, 'x.sh', host);
  const commands: Command[] = [];
  let before: Sep = '\n';
  for (let c = lexer.next(before); c; c = lexer.next(before)) {
    commands.push(c);
    before = c.after;
  }
  const words = commands.map((c) => c.words.map((w) => w.value));
  return { commands, words, warnings, asked };
}

describe('shell lexer', () => {
  it('splits words on blanks; quotes and escapes join them; continuations and comments vanish', () => {
    const { words } = lex(
      `mount -t erofs -o 'inode_share,domain_id=a b' \\\n  "/var/lib/x y.img" /run/a\\ b # comment\n`,
    );
    expect(words).toEqual([
      ['mount', '-t', 'erofs', '-o', 'inode_share,domain_id=a b', '/var/lib/x y.img', '/run/a b'],
    ]);
  });

  it('reports each word at its line and column (inside an opening quote)', () => {
    const { commands } = lex(`echo\nlosetup -r "/dev/loop3" $F\n`, { F: '/f.img' });
    expect(commands[1]!.words.map((w) => [w.value, w.line, w.column])).toEqual([
      ['losetup', 2, 1],
      ['-r', 2, 9],
      ['/dev/loop3', 2, 13],
      ['/f.img', 2, 25],
    ]);
  });

  it('expands $NAME, ${NAME} and ${NAME:-default}; unquoted values are field-split, quoted ones are not', () => {
    const { words, asked } = lex(`a $V "$V" \${V}x \${U:-dflt}\n`, { V: 'one two' });
    expect(words).toEqual([['a', 'one', 'two', 'one two', 'one', 'twox', 'dflt']]);
    expect(asked).toEqual(['V@1:3', 'V@1:7', 'V@1:11', 'U@1:17']);
  });

  it('separates commands at newlines, ; && || | & and records the separator on both sides', () => {
    const { commands } = lex(`a; b && c || d | e & f\n\ng`);
    expect(commands.map((c) => [c.words[0]!.value, c.before, c.after])).toEqual([
      ['a', '\n', ';'],
      ['b', ';', '&&'],
      ['c', '&&', '||'],
      ['d', '||', '|'],
      ['e', '|', '&'],
      ['f', '&', '\n'],
      ['g', '\n', 'eof'],
    ]);
  });

  it('drops redirections with their targets', () => {
    expect(lex(`mount a b > /dev/null 2>&1\nmount c d &> log\n`).words).toEqual([
      ['mount', 'a', 'b'],
      ['mount', 'c', 'd'],
    ]);
  });

  it('warns once per line about subshells and command substitution, which it does not model', () => {
    const { words, warnings } = lex(`( a ) ; ( b )\nx=$(date)\n`);
    expect(words).toEqual([['a'], ['b'], ['x=']]);
    expect(warnings).toEqual([
      '1:1 unsupported-shell: "(" (subshells, groups, functions) is not modelled',
      '2:3 unsupported-shell: command substitution is not modelled (expands to nothing)',
    ]);
  });

  it('refuses an unterminated quote with its location', () => {
    expect(() => lex(`echo ok\nmount "abc\n`)).toThrow(MountConfigError);
    expect(() => lex(`echo ok\nmount "abc\n`)).toThrow(/unterminated double quote/);
    const e = ((): unknown => {
      try {
        lex(`echo 'a`);
        return null;
      } catch (x) {
        return x;
      }
    })() as MountConfigError;
    expect([e.code, e.line, e.column, e.problem]).toEqual([
      'unterminated-quote',
      1,
      6,
      'unterminated single quote',
    ]);
  });
});
