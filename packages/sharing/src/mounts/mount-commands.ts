/**
 * Shell scripts of mount commands (a node agent's setup script, a README snippet):
 *
 *   set -eu
 *   IMAGES=/var/lib/images
 *   losetup -r /dev/loop3 "$IMAGES/app.fp.img"
 *   mount -t erofs -o inode_share,domain_id=acme-signed /dev/loop3 /run/images/app
 *
 * A small POSIX-shell subset, interpreted in order. Two parts: the lexer (shell-lexer.ts:
 * words, quoting, escapes, continuations, comments, `$NAME` expansions, `;` `&&` `||` `|` `&`
 * lists, redirections) and, here, the interpreter (the semantics): `NAME=value` /
 * `export NAME=value`, `set -e`/`-u`/`-o errexit`, `exit`, `sudo`, `&&`/`||` statuses,
 * `mount` and `losetup`. `mount -t erofs` lines become entries, `mount -t overlay` lines context, `losetup [-r]
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
import { MAX_SHELL_VARIABLES } from './limits.js';
import { ShellLexer, type Command, type ShellHost, type Sep, type Word } from './shell-lexer.js';
import { splitLines } from './text.js';
import type { DomainRedactor, MountConfig, MountWarning, Origin, ParseOptions } from './types.js';

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The semantics of a script's commands, in order (the lexer hands them over one at a time,
 * after the previous one ran, so variables are expanded with the values assigned so far). */
export class MountScriptInterpreter implements ShellHost {
  readonly vars = new Map<string, string>();
  errexit = false;
  nounset = false;
  /** Set once the script has stopped (set -e failure, exit, set -u). */
  stoppedAt: Origin | null = null;
  private lastStatus = 0;
  readonly warnedLines = new Set<number>();
  readonly config: MountConfig;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly domains: DomainRedactor,
  ) {
    this.config = emptyConfig('mount-commands', file);
  }

  warn(code: MountWarning['code'], problem: string, line: number, column: number): void {
    this.config.warnings.push({
      code,
      message: `${this.file}:${line}:${column}: ${problem}`,
      origin: { file: this.file, line, column },
    });
  }

  variable(name: string, line: number, column: number, dflt: string | null): string {
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

  run(): MountConfig {
    const first = this.text.split('\n', 1)[0] ?? '';
    if (/^#!\S*\s+-\w*e/.test(first)) this.errexit = true;
    let before: Sep = '\n';
    const lexer = new ShellLexer(this.text, this.file, this);
    for (let cmd = lexer.next(before); cmd; cmd = lexer.next(before)) {
      before = cmd.after;
      this.execute(cmd);
    }
    return this.config;
  }

  /** Run one command: assignments, set, exit, losetup, mount; others have no effect on mounts. */
  execute(cmd: Command): void {
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
    // losetup(8): without --direct-io the loop device reads through the backing file's page
    // cache; `--direct-io` alone means on.
    let directIo = false;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!.value;
      if (a === '--direct-io' || a === '--direct-io=on') directIo = true;
      else if (a === '--direct-io=off') directIo = false;
      else if (a === '-o' || a === '--offset' || a === '--sizelimit' || a === '-b' || a === '--sector-size') {
        const v = args[++i];
        if ((a === '-o' || a === '--offset') && v && v.value !== '0') {
          this.warn('loop-offset', 'loop device with a non-zero offset', v.line, v.column);
        }
      } else if (a === '-d' || a === '--detach') detach = true;
      else if (a.startsWith('-')) continue;
      else pos.push(args[i]!);
    }
    if (detach) {
      for (const p of pos) {
        delete this.config.loopDevices[p.value];
        if (this.config.loopDirectIo) delete this.config.loopDirectIo[p.value];
      }
      return;
    }
    if (pos.length === 2 && pos[0]!.value.startsWith('/dev/')) {
      this.config.loopDevices[pos[0]!.value] = pos[1]!.value;
      (this.config.loopDirectIo ??= {})[pos[0]!.value] = directIo;
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
  return new MountScriptInterpreter(text, file, opts.domains ?? createDomainRedactor()).run();
}
