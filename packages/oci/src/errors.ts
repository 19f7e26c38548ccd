/**
 * Typed errors of the OCI / tar predictor, in the style of @sharemap/erofs's ErofsError:
 * a machine-readable `code`, a human message, and where the problem is (the archive
 * member or blob, the tar path, the byte offset in the stream that was being read).
 *
 * Codes:
 *  - ETRUNCATED  the stream ended inside a header, a member's data or before the end-of-archive blocks
 *  - EFORMAT     not a tar / bad header checksum / malformed PAX record / bad JSON document
 *  - EDIGEST     a blob's sha256 or size does not match its descriptor (or a diff id)
 *  - EMISSING    a blob, layer or config named by a manifest is not in the archive
 *  - EESCAPE     a member path, hard link or symlink target climbs above the root
 *  - ELIMIT      a named limit of limits.ts was exceeded (tar bombs, absurd sizes)
 *  - EMKFS       mkfs.erofs itself would refuse this tar (hard link to a missing file or a directory, a path through a non-directory)
 *  - ENOTSUP     valid input sharemap does not handle (e.g. a compressed docker-save archive)
 *  - EPLATFORM   the requested platform is not in the image index
 */
export type OciErrorCode =
  | 'ETRUNCATED'
  | 'EFORMAT'
  | 'EDIGEST'
  | 'EMISSING'
  | 'EESCAPE'
  | 'ELIMIT'
  | 'EMKFS'
  | 'ENOTSUP'
  | 'EPLATFORM';

export interface OciErrorDetails {
  /** Archive member or blob being read (e.g. "blobs/sha256/ab12..." or "c98.../layer.tar"). */
  member?: string;
  /** Path inside a layer tar. */
  path?: string;
  /** Byte offset in the (decompressed) stream being parsed. */
  offset?: number;
  cause?: unknown;
}

export class OciError extends Error {
  readonly code: OciErrorCode;
  readonly member?: string;
  readonly path?: string;
  readonly offset?: number;

  constructor(code: OciErrorCode, message: string, details: OciErrorDetails = {}) {
    const where: string[] = [];
    if (details.member !== undefined) where.push(`member ${JSON.stringify(details.member)}`);
    if (details.path !== undefined) where.push(`path ${JSON.stringify(details.path)}`);
    if (details.offset !== undefined) where.push(`offset ${details.offset}`);
    super(
      `${code}: ${message}${where.length ? ` @ ${where.join(', ')}` : ''}`,
      details.cause !== undefined ? { cause: details.cause } : undefined,
    );
    this.name = 'OciError';
    this.code = code;
    if (details.member !== undefined) this.member = details.member;
    if (details.path !== undefined) this.path = details.path;
    if (details.offset !== undefined) this.offset = details.offset;
  }

  /** The same error, also naming the archive member it happened in (kept if already set). */
  inMember(member: string): OciError {
    if (this.member !== undefined) return this;
    const base = this.message.replace(/^[A-Z]+: /, '').replace(/ @ .*$/, '');
    return new OciError(this.code, base, { member, path: this.path, offset: this.offset, cause: this.cause });
  }
}

export function isOciError(e: unknown, code?: OciErrorCode): e is OciError {
  return e instanceof OciError && (code === undefined || e.code === code);
}
