/**
 * The per-file pieces of the sharing key (docs/format.md#sharing-key): eligibility (R1, R4), the
 * address-space-operations class (R6), and content identity for findings.
 * Mirrors the kernel's erofs_ishare_fill_inode(); see docs/sharing-rules.md.
 */
import type { DataLayout, FileRecord } from '@sharemap/erofs';
import type { AopsClass, Backing } from '../report.js';

/** Hex of the ASCII prefix `sha256:` that mkfs.erofs puts before the 32 raw digest bytes (docs/format.md#fingerprints). */
export const SHA256_FINGERPRINT_PREFIX_HEX = '7368613235363a';
/** Length in hex digits of an mkfs fingerprint value: 7 + 32 bytes. */
export const SHA256_FINGERPRINT_HEX_LENGTH = 2 * (7 + 32);

/** R6: `compressed` for layouts 1 and 3, else by how the image is attached. */
export function aopsClassOf(layout: DataLayout, backing: Backing): AopsClass {
  if (layout === 'compressed_full' || layout === 'compressed_compact') return 'compressed';
  return backing === 'bdev' ? 'block' : 'file-backed';
}

export type FingerprintState = 'ok' | 'missing' | 'empty' | 'oversized';

/**
 * R4: the kernel uses the xattr value only when 1 <= length <= block size; otherwise the file
 * stays private without any error.
 */
export function fingerprintState(
  fingerprintHex: string | null | undefined,
  blockSize: number,
): FingerprintState {
  if (fingerprintHex === null || fingerprintHex === undefined) return 'missing';
  if (fingerprintHex.length === 0) return 'empty';
  if (fingerprintHex.length / 2 > blockSize) return 'oversized';
  return 'ok';
}

/** The fingerprint mkfs.erofs --xattr-inode-digest writes for content with this sha256 (hex). */
export function sha256Fingerprint(sha256Hex: string): string {
  return SHA256_FINGERPRINT_PREFIX_HEX + sha256Hex.toLowerCase();
}

/** The digest (hex) of a `sha256:`+32-byte fingerprint, or null for any other value (serials, UUIDs...). */
export function fingerprintDigest(fingerprintHex: string | null | undefined): string | null {
  if (!fingerprintHex || fingerprintHex.length !== SHA256_FINGERPRINT_HEX_LENGTH) return null;
  const lower = fingerprintHex.toLowerCase();
  return lower.startsWith(SHA256_FINGERPRINT_PREFIX_HEX)
    ? lower.slice(SHA256_FINGERPRINT_PREFIX_HEX.length)
    : null;
}

/**
 * Whether a fingerprint is exactly `sha256:` + the given digest (hex, case-insensitive).
 * Compares characters in place: no substring is made (this runs once per record).
 */
export function fingerprintMatchesSha256(fingerprintHex: string, sha256Hex: string): boolean {
  const p = SHA256_FINGERPRINT_PREFIX_HEX.length;
  if (
    fingerprintHex.length !== SHA256_FINGERPRINT_HEX_LENGTH ||
    sha256Hex.length !== SHA256_FINGERPRINT_HEX_LENGTH - p
  )
    return false;
  for (let k = 0; k < p; k++)
    if ((fingerprintHex.charCodeAt(k) | 0x20) !== SHA256_FINGERPRINT_PREFIX_HEX.charCodeAt(k)) return false;
  for (let k = 0; k < sha256Hex.length; k++)
    if ((fingerprintHex.charCodeAt(p + k) | 0x20) !== (sha256Hex.charCodeAt(k) | 0x20)) return false;
  return true;
}

/**
 * What "same content" means for findings: the record's own sha256 (hex) when scanned with
 * --hash, else the digest its sha256 fingerprint claims, else `fp:` + the raw fingerprint
 * value (e.g. a publisher serial, comparable only with the same publisher's serials).
 * null: unknown. Digests are returned as stored (lower-case hex) to avoid copying 2M strings.
 */
export function contentIdentity(rec: Pick<FileRecord, 'sha256' | 'fingerprint'>): string | null {
  if (rec.sha256) return rec.sha256;
  const digest = fingerprintDigest(rec.fingerprint);
  if (digest !== null) return digest;
  return rec.fingerprint ? 'fp:' + rec.fingerprint : null;
}
