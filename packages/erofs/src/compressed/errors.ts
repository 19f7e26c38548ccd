// Typed error for compressed-data problems (docs/format.md#validate-compressed). The core reader may wrap or map it
// onto its own ErofsError; `code` follows the same vocabulary.

export type CompressedErrorCode =
  | 'ECORRUPT' // image is corrupt (EFSCORRUPTED)
  | 'ENOTSUP' // valid but unsupported (EOPNOTSUPP)
  | 'ELIMIT'; // exceeds a configured reader limit

export class CompressedDataError extends Error {
  override readonly name = 'CompressedDataError';
  readonly code: CompressedErrorCode;
  /** Byte offset of the offending structure (absolute in its container), or -1 if none. */
  readonly offset: number;
  /** Inode number of the file being read, or -1. */
  readonly nid: number;

  constructor(code: CompressedErrorCode, message: string, offset = -1, nid = -1) {
    super(`${message}${nid >= 0 ? ` (nid ${nid})` : ''}${offset >= 0 ? ` at offset ${offset}` : ''}`);
    this.code = code;
    this.offset = offset;
    this.nid = nid;
  }
}
