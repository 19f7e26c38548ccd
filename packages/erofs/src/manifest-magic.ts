/**
 * Telling a manifest's form from its first bytes (docs/manifest.md, "Forms"), without loading
 * any form's library: the columnar form is a Parquet file ("PAR1" first and last), gzip starts
 * 1f 8b, anything else is JSON or NDJSON text.
 */
export function isParquet(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x41 && bytes[2] === 0x52 && bytes[3] === 0x31
  );
}

/** Whether `bytes` start with the gzip magic (1f 8b, RFC 1952). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}
