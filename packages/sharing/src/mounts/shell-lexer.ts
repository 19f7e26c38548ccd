/**
 * The lexer of mount-commands.ts: a POSIX-shell subset's words, quoting and lists. It turns the
 * script into commands (words up to a separator), one at a time, handling `\`-newline
 * continuations, comments, single and double quotes, backslash escapes, `$NAME`, `${NAME}`,
 * `${NAME:-default}` (unquoted expansions are field-split), `;`, `&&`, `||`, `|`, `&` and
 * redirections (dropped with their target). What a variable holds is the interpreter's
 * business: the lexer asks its host, at the moment it reads the word, so an assignment on one
 * line is seen by the next command, as in a shell. Subshells, groups, command substitution
 * and special parameters are reported through the host as not modelled.
 */
import { MountConfigError } from './errors.js';
import { MAX_SHELL_WORD_LENGTH } from './limits.js';
import type { MountWarning } from './types.js';

export interface Word {
  value: string;
  line: number;
  /** Column of the word's first character (inside an opening quote, if it starts with one). */
  column: number;
}
export type Sep = '\n' | ';' | '&&' | '||' | '|' | '&' | 'eof';
export interface Command {
  words: Word[];
  /** Separator before this command ('\n' at the start) and after it. */
  before: Sep;
  after: Sep;
  line: number;
}

/** What the lexer needs from the interpreter running the script. */
export interface ShellHost {
  /** The value of `$name` (`dflt`: the default of `${name:-dflt}`, null without one). */
  variable(name: string, line: number, column: number, dflt: string | null): string;
  warn(code: MountWarning['code'], problem: string, line: number, column: number): void;
  /** Lines with an "unsupported" warning already: one such warning per line. */
  readonly warnedLines: Set<number>;
}

export class ShellLexer {
  private pos = 0;
  private line = 1;
  private col = 1;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly host: ShellHost,
  ) {}

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
        this.host.warn(
          'unsupported-shell',
          'unsupported parameter expansion (expands to nothing)',
          line,
          column,
        );
        return '';
      }
      return this.host.variable(m[1]!, line, column, m[2] ?? null);
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
      this.host.warn(
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
      return this.host.variable(name, line, column, null);
    }
    if (c !== undefined && /[0-9@*#?$!-]/.test(c)) {
      this.advance();
      this.host.warn(
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
  next(before: Sep): Command | null {
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
        if (!this.host.warnedLines.has(this.line)) {
          this.host.warnedLines.add(this.line);
          this.host.warn(
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
}
