/**
 * How a fingerprint xattr value is shown to people. Manifests carry it as hex of its bytes;
 * mkfs.erofs --xattr-inode-digest writes the ASCII `sha256:` and then the 32 raw digest bytes
 * (docs/sharing-rules.md R4), so its hex starts with the hex of "sha256:" and tells nothing at
 * a glance. Shown instead: the algorithm and the hex of the digest ("sha256:ab12..."); a
 * value that is text (a serial, a UUID) as that text; anything else as hex.
 */
import { fingerprintDigest } from '../model/keys.js';

/** Printable ASCII (space to tilde). */
const isText = (b: number) => b >= 0x20 && b <= 0x7e;
/** Characters of an algorithm name before its colon ("sha256", "blake3", "xxh3-128"). */
const isAlgorithmChar = (b: number) =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || b === 0x2d;
/** Longest algorithm name read as one (longer prefixes are shown as hex). */
const MAX_ALGORITHM_CHARS = 16;

function bytesOf(hex: string): number[] | null {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) return null;
  const out: number[] = [];
  for (let i = 0; i < hex.length; i += 2) out.push(parseInt(hex.slice(i, i + 2), 16));
  return out;
}

/** The fingerprint (hex of the xattr value) as people read it: "sha256:<digest hex>", its text, or "hex:<bytes>". */
export function formatFingerprint(hex: string): string {
  const digest = fingerprintDigest(hex);
  if (digest !== null) return `sha256:${digest}`;
  const bytes = bytesOf(hex);
  if (bytes === null) return hex; // not hex: shown as given
  if (bytes.length > 0 && bytes.every(isText)) return String.fromCharCode(...bytes);
  const colon = bytes.indexOf(0x3a);
  if (colon > 0 && colon <= MAX_ALGORITHM_CHARS && bytes.slice(0, colon).every(isAlgorithmChar))
    return `${String.fromCharCode(...bytes.slice(0, colon))}:${hex.slice(2 * (colon + 1)).toLowerCase()}`;
  return `hex:${hex.toLowerCase()}`;
}
