/** Small text helpers shared by the line-based parsers. */
import { MountConfigError } from './errors.js';
import { MAX_INPUT_BYTES, MAX_LINE_LENGTH, MAX_LINES } from './limits.js';

/** Bounds of a line-based input: the mount parsers' (limits.ts) unless a caller gives its own. */
export interface LineBounds {
  maxBytes: number;
  maxLines: number;
  maxLineLength: number;
}

const MOUNT_BOUNDS: LineBounds = {
  maxBytes: MAX_INPUT_BYTES,
  maxLines: MAX_LINES,
  maxLineLength: MAX_LINE_LENGTH,
};

/** UTF-8 length without allocating when the answer is obvious. */
function utf8Length(text: string, maxBytes: number): number {
  if (text.length * 3 <= maxBytes) return text.length; // cannot exceed; exact value not needed
  return new TextEncoder().encode(text).length;
}

/** Enforce the total size (MAX_INPUT_BYTES unless a caller gives its own): the one bound JSON inputs share with line formats. */
export function checkInputSize(text: string, file: string, maxBytes: number = MAX_INPUT_BYTES): void {
  if (text.length > maxBytes || utf8Length(text, maxBytes) > maxBytes) {
    throw new MountConfigError('too-large', `input larger than ${maxBytes} bytes`, file, 1, 1);
  }
}

/** Split into lines (LF or CRLF), enforcing the byte, line-count and line-length bounds. */
export function splitLines(text: string, file: string, bounds: LineBounds = MOUNT_BOUNDS): string[] {
  checkInputSize(text, file, bounds.maxBytes);
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length > bounds.maxLines) {
    throw new MountConfigError(
      'too-large',
      `more than ${bounds.maxLines} lines`,
      file,
      bounds.maxLines + 1,
      1,
    );
  }
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i]!;
    if (l.endsWith('\r')) l = lines[i] = l.slice(0, -1);
    if (l.length > bounds.maxLineLength) {
      throw new MountConfigError(
        'too-large',
        `line longer than ${bounds.maxLineLength} characters`,
        file,
        i + 1,
        bounds.maxLineLength + 1,
      );
    }
  }
  return lines;
}

export interface Field {
  text: string;
  /** 1-based column of the field's first character. */
  column: number;
}

/** Whitespace-separated fields with their columns. */
export function fields(line: string): Field[] {
  const out: Field[] = [];
  const re = /[^ \t]+/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push({ text: m[0], column: m.index + 1 });
  return out;
}

/**
 * Undo the kernel's octal escaping of paths in /proc/mounts and mountinfo
 * (seq_path/mangle_path escape space, tab, newline and backslash as `\ooo`); fstab uses the same.
 */
export function unescapeOctal(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * `s` without trailing `ch` characters. A scan from the end: the regular expression
 * `/\/+$/` it replaces restarts at every slash of a run that is not at the end, which is
 * quadratic in the run (a 720 KB mountinfo of slash-heavy mount points froze the server 30 s).
 */
export function trimTrailing(s: string, ch: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === ch) end--;
  return end === s.length ? s : s.slice(0, end);
}

/** `s` without trailing slashes (`/a//` -> `/a`, `///` -> ``). Linear time. */
export function trimTrailingSlashes(s: string): string {
  return trimTrailing(s, '/');
}

export function basename(p: string): string {
  const trimmed = trimTrailingSlashes(p);
  const i = trimmed.lastIndexOf('/');
  return i < 0 ? trimmed : trimmed.slice(i + 1);
}

/** True for sources that name a block device (loop, device-mapper, virtio, NVMe, UUID=...). */
export function isBlockDeviceSource(source: string): boolean {
  return source.startsWith('/dev/') || /^(UUID|LABEL|PARTUUID|PARTLABEL|ID)=/.test(source);
}
