/**
 * Shell scripts of mount commands (a node agent's setup script, a README snippet):
 *
 *   set -eu
 *   IMAGES=/var/lib/images
 *   losetup -r /dev/loop3 "$IMAGES/app.fp.img"
 *   mount -t erofs -o inode_share,domain_id=acme-signed /dev/loop3 /run/images/app
 *
 * A small POSIX-shell subset, interpreted in order: `\`-newline continuations, comments,
 * single and double quotes, backslash escapes, `NAME=value` / `export NAME=value`,
 * `$NAME`, `${NAME}`, `${NAME:-default}` (unquoted expansions are field-split), `;`, `&&`,
 * `||`, `|`, `&` lists, redirections (dropped), `set -e`/`-u`/`-o errexit`, `exit`, `sudo`.
 * `mount -t erofs` lines become entries, `mount -t overlay` lines context, `losetup [-r]
 * /dev/loopN FILE` loop-device mappings. Control flow (if/for/while/case/functions) and
 * command substitution are not modelled and are reported as warnings.
 *
 * `set -e` semantics: a mount that fails (EINVAL, docs/format.md#ishare-mount / R2) outside an `&&`/`||`
 * list stops the script; every later mount is reported `notMounted: 'script-stopped'` and
 * later overlays as inactive. With `set -u` an unset variable stops the script too.
 * Variable values never leave this file: domain_id values are redacted (R11).
 */
import { MountConfigError } from './errors.js';
import { buildEntry, checkEntryCount, emptyConfig, overlayContext } from './entry.js';
import { createDomainRedactor } from './domains.js';
import { MAX_SHELL_VARIABLES, MAX_SHELL_WORD_LENGTH } from './limits.js';
import { splitLines } from './text.js';
import type { DomainRedactor, MountConfig, MountWarning, Origin, ParseOptions } from './types.js';

interface Word {
  value: string;
  line: number;
  /** Column of the word's first character (inside an opening quote, if it starts with one). */
  column: number;
}
type Sep = '\n' | ';' | '&&' | '||' | '|' | '&' | 'eof';
interface Command {
  words: Word[];
  /** Separator before this command ('\n' at the start) and after it. */
  before: Sep;
  after: Sep;
  line: number;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

class Interpreter {
  private pos = 0;
  private line = 1;
  private col = 1;
  readonly vars = new Map<string, string>();
  errexit = false;
  nounset = false;
  /** Set once the script has stopped (set -e failure, exit, set -u). */
  stoppedAt: Origin | null = null;
  private lastStatus = 0;
  private warnedLines = new Set<number>();
  readonly config: MountConfig;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly domains: DomainRedactor,
  ) {
    this.config = emptyConfig('mount-commands', file);
  }

  private warn(code: MountWarning['code'], problem: string, line: number, column: number): void {
    this.config.warnings.push({
      code,
      message: `${this.file}:${line}:${column}: ${problem}`,
      origin: { file: this.file, line, column },
    });
  }

  private peek(k = 0): string | undefined {
    return this.text[this.pos + k];
  }

  private advance(): string {
    const c = this.text[this.pos++]!;
    if (c === '\n') {
      this.line++;
      this.col = 1;
    } else this.col++;
    return c;
  }

  private lookupVar(name: string, line: number, column: number, dflt: string | null): string {
    const v = this.vars.get(name);
    if (v !== undefined && !(dflt !== null && v === '')) return v;
    if (dflt !== null) return dflt;
    if (this.nounset) {
      this.warn(
        'unset-variable',
        `variable ${name} is not set; under set -u the script stops here`,
        line,
        column,
      );
      this.stoppedAt ??= { file: this.file, line, column };
    } else {
      this.warn('unset-variable', `variable ${name} is not set (expands to nothing)`, line, column);
    }
    return '';
  }

  /** Parse `$...` after the `$`; returns the expansion. */
  private dollar(line: number, column: number): string {
    const c = this.peek();
    if (c === '{') {
      this.advance();
      let body = '';
      while (this.peek() !== undefined && this.peek() !== '}') body += this.advance();
      if (this.peek() !== '}')
        throw new MountConfigError(
          'unterminated-quote',
          'unterminated ${...} expansion',
          this.file,
          line,
          column,
        );
      this.advance();
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::?-(.*))?$/s.exec(body);
      if (!m) {
        this.warn('unsupported-shell', 'unsupported parameter expansion (expands to nothing)', line, column);
        return '';
      }
      return this.lookupVar(m[1]!, line, column, m[2] ?? null);
    }
    if (c === '(') {
      let depth = 0;
      do {
        const ch = this.advance();
        if (ch === '(') depth++;
        else if (ch === ')') depth--;
      } while (depth > 0 && this.peek() !== undefined);
      if (depth > 0)
        throw new MountConfigError(
          'unterminated-quote',
          'unterminated $(...) command substitution',
          this.file,
          line,
          column,
        );
      this.warn(
        'unsupported-shell',
        'command substitution is not modelled (expands to nothing)',
        line,
        column,
      );
      return '';
    }
    if (c !== undefined && /[A-Za-z_]/.test(c)) {
      let name = '';
      while (this.peek() !== undefined && /[A-Za-z0-9_]/.test(this.peek()!)) name += this.advance();
      return this.lookupVar(name, line, column, null);
    }
    if (c !== undefined && /[0-9@*#?$!-]/.test(c)) {
      this.advance();
      this.warn(
        'unsupported-shell',
        `special parameter $${c} is not modelled (expands to nothing)`,
        line,
        column,
      );
      return '';
    }
    return '$';
  }

  /** Next command (words up to a separator), or null at the end of input. */
  private nextCommand(before: Sep): Command | null {
    const words: Word[] = [];
    let cur: string | null = null;
    let curLine = this.line;
    let curCol = this.col;
    let dropNext = false; // word after a redirection operator
    const start = (): void => {
      if (cur === null) {
        cur = '';
        curLine = this.line;
        curCol = this.col;
      }
    };
    const append = (s: string): void => {
      start();
      cur += s;
      if (cur!.length > MAX_SHELL_WORD_LENGTH)
        throw new MountConfigError(
          'too-large',
          `shell word longer than ${MAX_SHELL_WORD_LENGTH} characters`,
          this.file,
          curLine,
          curCol,
        );
    };
    const finish = (): void => {
      if (cur === null) return;
      if (dropNext) dropNext = false;
      else words.push({ value: cur, line: curLine, column: curCol });
      cur = null;
    };
    const firstLine = this.line;
    while (this.pos < this.text.length) {
      const c = this.peek()!;
      if (c === '\\' && this.peek(1) === '\n') {
        this.advance();
        this.advance();
        continue;
      }
      if (c === ' ' || c === '\t' || c === '\r') {
        finish();
        this.advance();
        continue;
      }
      if (c === '#' && cur === null) {
        while (this.pos < this.text.length && this.peek() !== '\n') this.advance();
        continue;
      }
      if (c === '\n' || c === ';' || c === '&' || c === '|') {
        finish();
        let sep: Sep = c === '\n' ? '\n' : c;
        this.advance();
        if ((c === '&' || c === '|') && this.peek() === c) {
          this.advance();
          sep = c === '&' ? '&&' : '||';
        } else if (c === '&' && this.peek() === '>') {
          this.advance();
          dropNext = true; // &> file
          continue;
        }
        if (words.length === 0 && (sep === '\n' || sep === ';')) {
          before = sep;
          continue;
        }
        return { words, before, after: sep, line: words[0]?.line ?? firstLine };
      }
      if (c === '>' || c === '<') {
        if (cur !== null && /^\d+$/.test(cur)) cur = null; // 2>...
        finish();
        this.advance();
        if (this.peek() === '>' || this.peek() === '&') this.advance();
        dropNext = true;
        continue;
      }
      if (c === '(' || c === ')' || (c === '{' && cur === null) || (c === '}' && cur === null)) {
        if (!this.warnedLines.has(this.line)) {
          this.warnedLines.add(this.line);
          this.warn(
            'unsupported-shell',
            `"${c}" (subshells, groups, functions) is not modelled`,
            this.line,
            this.col,
          );
        }
        finish();
        this.advance();
        continue;
      }
      if (c === "'") {
        const l = this.line;
        const col = this.col;
        this.advance();
        start();
        if (cur === '') curCol = this.col;
        let s = '';
        while (this.pos < this.text.length && this.peek() !== "'") s += this.advance();
        if (this.pos >= this.text.length)
          throw new MountConfigError('unterminated-quote', 'unterminated single quote', this.file, l, col);
        this.advance();
        append(s);
        continue;
      }
      if (c === '"') {
        const l = this.line;
        const col = this.col;
        this.advance();
        start();
        if (cur === '') curCol = this.col;
        for (;;) {
          if (this.pos >= this.text.length)
            throw new MountConfigError('unterminated-quote', 'unterminated double quote', this.file, l, col);
          const d = this.peek()!;
          if (d === '"') {
            this.advance();
            break;
          }
          if (d === '\\' && this.peek(1) !== undefined && '"\\$`\n'.includes(this.peek(1)!)) {
            this.advance();
            const e = this.advance();
            if (e !== '\n') append(e);
            continue;
          }
          if (d === '$') {
            const el = this.line;
            const ec = this.col;
            this.advance();
            append(this.dollar(el, ec));
            continue;
          }
          if (d === '`')
            throw new MountConfigError(
              'unterminated-quote',
              'backquote command substitution is not supported',
              this.file,
              this.line,
              this.col,
            );
          append(this.advance());
        }
        continue;
      }
      if (c === '`')
        throw new MountConfigError(
          'unterminated-quote',
          'backquote command substitution is not supported',
          this.file,
          this.line,
          this.col,
        );
      if (c === '\\') {
        start();
        this.advance();
        if (this.pos < this.text.length) append(this.advance());
        continue;
      }
      if (c === '$') {
        const el = this.line;
        const ec = this.col;
        const wasEmpty = cur === null;
        this.advance();
        const v = this.dollar(el, ec);
        // Unquoted expansion: field splitting on blanks.
        const parts = v.split(/[ \t\n]+/);
        parts.forEach((p, k) => {
          if (k > 0) finish();
          if (p !== '') {
            const fresh = cur === null;
            append(p);
            if (fresh && k === 0 && wasEmpty) {
              curLine = el;
              curCol = ec;
            }
          }
        });
        continue;
      }
      start();
      append(this.advance());
    }
    finish();
    if (words.length === 0) return null;
    return { words, before, after: 'eof', line: words[0]!.line };
  }

  run(): MountConfig {
    const first = this.text.split('\n', 1)[0] ?? '';
    if (/^#!\S*\s+-\w*e/.test(first)) this.errexit = true;
    let before: Sep = '\n';
    for (let cmd = this.nextCommand(before); cmd; cmd = this.nextCommand(before)) {
      before = cmd.after;
      this.execute(cmd);
    }
    return this.config;
  }

  private execute(cmd: Command): void {
    // && / || lists: run the right side only when the left side's status says so.
    if (cmd.before === '&&' && this.lastStatus !== 0) return;
    if (cmd.before === '||' && this.lastStatus === 0) return;
    let words = cmd.words;
    // Leading assignments.
    let k = 0;
    while (k < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[k]!.value)) k++;
    if (k === words.length) {
      for (const w of words) this.assign(w);
      this.lastStatus = 0;
      return;
    }
    words = words.slice(k);
    while (words.length > 1 && ['sudo', 'exec', 'command', 'env', 'time', 'nice'].includes(words[0]!.value))
      words = words.slice(1);
    const name = words[0]!.value;
    const args = words.slice(1);
    let status = 0;
    switch (name) {
      case 'export':
      case 'readonly':
      case 'local':
        for (const w of args) if (w.value.includes('=')) this.assign(w);
        break;
      case 'set':
        this.set(args);
        break;
      case 'exit':
        this.stoppedAt ??= { file: this.file, line: words[0]!.line, column: words[0]!.column };
        break;
      case 'losetup':
        this.losetup(args, words[0]!);
        break;
      case 'mount':
        status = this.mount(args, words[0]!);
        break;
      case 'if':
      case 'then':
      case 'else':
      case 'elif':
      case 'fi':
      case 'for':
      case 'while':
      case 'until':
      case 'do':
      case 'done':
      case 'case':
      case 'esac':
      case 'function':
        if (!this.warnedLines.has(words[0]!.line)) {
          this.warnedLines.add(words[0]!.line);
          this.warn(
            'unsupported-shell',
            `control flow ("${name}") is not modelled; commands are read in order`,
            words[0]!.line,
            words[0]!.column,
          );
        }
        break;
      default:
        break; // mkdir, echo, modprobe, ...: no effect on mounts
    }
    this.lastStatus = status;
    const inList = cmd.after === '&&' || cmd.after === '||' || cmd.after === '&' || cmd.after === '|';
    if (status !== 0 && this.errexit && !inList && !this.stoppedAt) {
      const w = words[0]!;
      this.stoppedAt = { file: this.file, line: w.line, column: w.column };
      this.warn(
        'script-stopped',
        'the command fails and set -e stops the script here; later commands do not run',
        w.line,
        w.column,
      );
    }
  }

  private assign(w: Word): void {
    const eq = w.value.indexOf('=');
    const name = w.value.slice(0, eq);
    if (!NAME_RE.test(name)) return;
    if (!this.vars.has(name) && this.vars.size >= MAX_SHELL_VARIABLES) {
      throw new MountConfigError(
        'too-large',
        `more than ${MAX_SHELL_VARIABLES} shell variables`,
        this.file,
        w.line,
        w.column,
      );
    }
    this.vars.set(name, w.value.slice(eq + 1));
  }

  private set(args: Word[]): void {
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!.value;
      if ((a === '-o' || a === '+o') && args[i + 1]) {
        const opt = args[++i]!.value;
        if (opt === 'errexit') this.errexit = a === '-o';
        if (opt === 'nounset') this.nounset = a === '-o';
      } else if (/^[-+][a-zA-Z]+$/.test(a)) {
        const on = a[0] === '-';
        if (a.includes('e')) this.errexit = on;
        if (a.includes('u')) this.nounset = on;
      }
    }
  }

  private losetup(args: Word[], cmd: Word): void {
    const pos: Word[] = [];
    let detach = false;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!.value;
      if (a === '-o' || a === '--offset' || a === '--sizelimit' || a === '-b' || a === '--sector-size') {
        const v = args[++i];
        if ((a === '-o' || a === '--offset') && v && v.value !== '0') {
          this.warn('loop-offset', 'loop device with a non-zero offset', v.line, v.column);
        }
      } else if (a === '-d' || a === '--detach') detach = true;
      else if (a.startsWith('-')) continue;
      else pos.push(args[i]!);
    }
    if (detach) {
      for (const p of pos) delete this.config.loopDevices[p.value];
      return;
    }
    if (pos.length === 2 && pos[0]!.value.startsWith('/dev/')) {
      this.config.loopDevices[pos[0]!.value] = pos[1]!.value;
    } else if (pos.length > 0) {
      this.warn(
        'unsupported-shell',
        'losetup without an explicit /dev/loopN (e.g. -f --show) is not modelled',
        cmd.line,
        cmd.column,
      );
    }
  }

  /** Returns the command's exit status: 32 (mount failure) for EINVAL, else 0. */
  private mount(args: Word[], cmd: Word): number {
    let type: string | null = null;
    const optionParts: { text: string; line: number; column: number }[] = [];
    const pos: Word[] = [];
    let fake = false;
    for (let i = 0; i < args.length; i++) {
      const w = args[i]!;
      const a = w.value;
      const takeValue = (prefixLen: number): Word | undefined => {
        if (a.length > prefixLen)
          return { value: a.slice(prefixLen), line: w.line, column: w.column + prefixLen };
        return args[++i];
      };
      if (a === '-t' || a === '--types' || (a.startsWith('-t') && !a.startsWith('--'))) {
        type = takeValue(2)?.value ?? null;
      } else if (a.startsWith('--types=')) type = a.slice(8);
      else if (a === '-o' || a === '--options' || (a.startsWith('-o') && !a.startsWith('--'))) {
        const v = a === '--options' ? args[++i] : takeValue(2);
        if (v) optionParts.push({ text: v.value, line: v.line, column: v.column });
      } else if (a.startsWith('--options='))
        optionParts.push({ text: a.slice(10), line: w.line, column: w.column + 10 });
      else if (a === '-r' || a === '--read-only')
        optionParts.push({ text: 'ro', line: w.line, column: w.column });
      else if (a === '-w' || a === '--rw' || a === '--read-write')
        optionParts.push({ text: 'rw', line: w.line, column: w.column });
      else if (a === '-f' || a === '--fake') fake = true;
      else if (a === '-a' || a === '--all') {
        this.warn(
          'unsupported-shell',
          'mount -a mounts /etc/fstab entries: parse the fstab instead',
          w.line,
          w.column,
        );
        return 0;
      } else if (a === '-L' || a === '-U' || a === '--source' || a === '--target') {
        const v = args[++i];
        if (v)
          pos.push(
            a === '-L'
              ? { ...v, value: `LABEL=${v.value}` }
              : a === '-U'
                ? { ...v, value: `UUID=${v.value}` }
                : v,
          );
      } else if (a.startsWith('-')) continue;
      else pos.push(w);
    }
    if (pos.length !== 2) {
      this.warn(
        'unsupported-shell',
        `mount with ${pos.length} operand(s) is not modelled (expected SOURCE DIR)`,
        cmd.line,
        cmd.column,
      );
      return 0;
    }
    const [src, dir] = pos as [Word, Word];
    const origin: Origin = { file: this.file, line: cmd.line, column: cmd.column };
    checkEntryCount(this.config, origin);
    const stopped = this.stoppedAt !== null || fake;
    if (type === 'erofs') {
      // Several -o options are joined with commas, as mount(8) does; columns refer to the first.
      const first = optionParts[0];
      const text = optionParts.map((p) => p.text).join(',');
      const { entry, warnings } = buildEntry({
        source: src.value,
        mountPoint: dir.value,
        optionsText: text,
        optionsColumn: first?.column ?? cmd.column,
        optionsLine: first?.line ?? cmd.line,
        origin,
        domains: this.domains,
        view: 'config',
        notMounted: stopped ? 'script-stopped' : null,
      });
      this.config.entries.push(entry);
      this.config.warnings.push(...warnings.filter((w) => !stopped || w.code !== 'mount-failed'));
      return !stopped && entry.mountError ? 32 : 0;
    }
    if (type === 'overlay') {
      this.config.context.push(
        overlayContext(
          dir.value,
          optionParts.map((p) => p.text).join(','),
          { file: this.file, line: dir.line, column: dir.column },
          !stopped,
        ),
      );
    } else {
      this.config.ignored.push({ fsType: type ?? '', mountPoint: dir.value, origin });
    }
    return 0;
  }
}

export function parseMountCommands(text: string, opts: ParseOptions = {}): MountConfig {
  const file = opts.file ?? 'mount-commands.sh';
  splitLines(text, file); // bounds
  return new Interpreter(text, file, opts.domains ?? createDomainRedactor()).run();
}
