/**
 * Typed errors of the EROFS reader. Every error carries a short machine-readable
 * `code` and, where known, the byte offset, nid and path of the problem, so that a
 * message like "ECORRUPT: bogus dirent nameoff 65520 (block size 160) @ nid 69 offset 2260"
 * points straight at the bytes (house style: errors are values with a location).
 *
 * Codes mirror the Linux errno classes of docs/format.md#conventions:
 *  - EBADMAGIC          not an EROFS image (superblock magic, docs/format.md#superblock)
 *  - EINVAL_SUPERBLOCK  superblock present but invalid or refused (docs/format.md#validate-superblock), incl. checksum (EBADMSG)
 *  - ECORRUPT           image is corrupt (EFSCORRUPTED)
 *  - ENOTSUP            valid but unsupported feature (EOPNOTSUPP)
 *  - EIO                read outside a byte source / truncated image
 *  - ELIMIT             a named limit of limits.ts was exceeded
 *  - ENOENT / ENOTDIR / EISDIR / EINVAL / ENODATA / ENODEV: fs-like API errors
 */
export type ErofsErrorCode =
  | 'EINVAL_SUPERBLOCK'
  | 'EBADMAGIC'
  | 'ECORRUPT'
  | 'ENOTSUP'
  | 'EIO'
  | 'ELIMIT'
  | 'ENOENT'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'EINVAL'
  | 'ENODATA'
  | 'ENODEV';

export interface ErofsErrorDetails {
  offset?: number;
  nid?: number;
  path?: string;
  cause?: unknown;
}

export class ErofsError extends Error {
  readonly code: ErofsErrorCode;
  /** What went wrong, without the code and the location (`message` is built from the three):
   * what a wrapper that adds its own context or location starts from. */
  readonly detail: string;
  readonly offset?: number;
  readonly nid?: number;
  readonly path?: string;

  constructor(code: ErofsErrorCode, message: string, details: ErofsErrorDetails = {}) {
    const where: string[] = [];
    if (details.path !== undefined) where.push(`path ${JSON.stringify(details.path)}`);
    if (details.nid !== undefined) where.push(`nid ${details.nid}`);
    if (details.offset !== undefined) where.push(`offset ${details.offset}`);
    super(
      `${code}: ${message}${where.length ? ` @ ${where.join(', ')}` : ''}`,
      details.cause !== undefined ? { cause: details.cause } : undefined,
    );
    this.name = 'ErofsError';
    this.code = code;
    this.detail = message;
    if (details.offset !== undefined) this.offset = details.offset;
    if (details.nid !== undefined) this.nid = details.nid;
    if (details.path !== undefined) this.path = details.path;
  }

  /** A copy of this error that also names `path` (used when a lookup walks through a bad inode). */
  withPath(path: string): ErofsError {
    if (this.path !== undefined) return this;
    const e = new ErofsError(this.code, this.detail, {
      offset: this.offset,
      nid: this.nid,
      path,
      cause: this.cause,
    });
    return e;
  }
}

export function isErofsError(e: unknown, code?: ErofsErrorCode): e is ErofsError {
  return e instanceof ErofsError && (code === undefined || e.code === code);
}

/** Errors of parseManifest: untrusted manifest text, with the 1-based line (NDJSON) or record index. */
export class ManifestError extends Error {
  readonly line: number;
  readonly field?: string;
  constructor(message: string, line: number, field?: string) {
    super(`manifest line ${line}${field ? `, field ${field}` : ''}: ${message}`);
    this.name = 'ManifestError';
    this.line = line;
    if (field !== undefined) this.field = field;
  }
}
