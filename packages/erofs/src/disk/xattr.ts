/** Extended attributes (docs/format.md#xattrs): inline area, entries, prefixes, bloom filter. */
import { ErofsError } from '../errors.js';
import { decodeName, le16, le32, roundUp } from './bytes.js';

/** Short prefix indexes (docs/format.md#xattr-short-prefixes). Index 0 is "" (hidden); 5 and 7..127 are unknown. */
export const SHORT_PREFIXES: ReadonlyMap<number, string> = new Map([
  [0, ''],
  [1, 'user.'],
  [2, 'system.posix_acl_access'],
  [3, 'system.posix_acl_default'],
  [4, 'trusted.'],
  [6, 'security.'],
]);

export interface LongPrefix {
  /** Short prefix index the long prefix extends (docs/format.md#xattr-long-prefixes). */
  base: number;
  infix: Uint8Array;
}

export interface XattrEntry {
  nameIndex: number;
  suffix: Uint8Array;
  value: Uint8Array;
  /** Absolute offset of the entry header (primary device, or container offset). */
  offset: number;
  shared: boolean;
}

export interface XattrHeader {
  nameFilter: number;
  sharedIds: number[];
  inline: XattrEntry[];
}

export const XATTR_ENTRY_HEADER = 4;
export const xattrEntrySize = (nameLen: number, valueSize: number): number =>
  roundUp(XATTR_ENTRY_HEADER + nameLen + valueSize, 4);

/**
 * Parse the inline xattr area (docs/format.md#xattr-ibody) of `xattrIsize` bytes at absolute `offset`.
 * `area` holds exactly those bytes.
 */
export function parseXattrArea(area: Uint8Array, offset: number, nid: number, maxCount: number): XattrHeader {
  const isize = area.length;
  if (isize === 0) return { nameFilter: 0, sharedIds: [], inline: [] };
  if (isize < 12)
    throw new ErofsError('ENOTSUP', `xattr area of ${isize} bytes (i_xattr_icount 1) is not supported`, {
      nid,
      offset,
    });
  const sharedCount = area[4]!;
  // docs/format.md#xattr-ibody: 12 + 4n <= xattr_isize
  if (12 + 4 * sharedCount > isize) {
    throw new ErofsError('ECORRUPT', `h_shared_count ${sharedCount} overflows xattr area of ${isize} bytes`, {
      nid,
      offset: offset + 4,
    });
  }
  const sharedIds: number[] = [];
  for (let i = 0; i < sharedCount; i++) sharedIds.push(le32(area, 12 + 4 * i));
  const inline: XattrEntry[] = [];
  let pos = 12 + 4 * sharedCount;
  while (pos < isize) {
    const remaining = isize - pos;
    if (remaining < XATTR_ENTRY_HEADER)
      throw new ErofsError('ECORRUPT', `truncated xattr entry (${remaining} bytes left)`, {
        nid,
        offset: offset + pos,
      });
    const nameLen = area[pos]!;
    const nameIndex = area[pos + 1]!;
    const valueSize = le16(area, pos + 2);
    const sz = xattrEntrySize(nameLen, valueSize);
    if (sz > remaining) {
      throw new ErofsError(
        'ECORRUPT',
        `xattr entry of ${sz} bytes exceeds remaining ${remaining} bytes of the area`,
        { nid, offset: offset + pos },
      );
    }
    // Zero-filled padding "entries" (name_len 0, index 0, value 0) are legal and never listed (docs/format.md#xattr-ibody).
    if (!(nameLen === 0 && nameIndex === 0 && valueSize === 0)) {
      if (inline.length + sharedCount >= maxCount)
        throw new ErofsError('ELIMIT', `more than ${maxCount} xattrs`, { nid, offset: offset + pos });
      const s = pos + XATTR_ENTRY_HEADER;
      inline.push({
        nameIndex,
        suffix: area.subarray(s, s + nameLen),
        value: area.subarray(s + nameLen, s + nameLen + valueSize),
        offset: offset + pos,
        shared: false,
      });
    }
    pos += sz;
  }
  return { nameFilter: le32(area, 0), sharedIds, inline };
}

/**
 * The fingerprint of an inline xattr area without building its entries, for the case a
 * metadata scan meets on almost every inode: only hidden xattrs (short prefix index 0, none
 * listed), no shared ones. Returns the value of the first xattr named `fpName` (a view of
 * `area`) or null when there is none; undefined when the area needs parseXattrArea and
 * resolveName: anything it would refuse (the error is theirs to word), shared xattrs, a
 * listed xattr, or a name that is not plain ASCII (decodeName decides what those equal).
 * Same result as resolving every entry and comparing full names (test/disk.test.ts).
 */
export function inlineFingerprint(
  area: Uint8Array,
  maxCount: number,
  prefixes: readonly LongPrefix[],
  fpName: string | null,
  at = 0,
  isize = area.length - at,
): Uint8Array | null | undefined {
  const span: ValueSpan = { start: 0, length: 0 };
  const found = findInlineFingerprint(area, maxCount, prefixes, fpName, at, isize, span);
  return found === FP_FOUND
    ? area.subarray(span.start, span.start + span.length)
    : found === FP_NONE
      ? null
      : undefined;
}

/** Where a value lies in the memory it was found in: [start, start + length). */
export interface ValueSpan {
  start: number;
  length: number;
}

/** findInlineFingerprint's answers: inlineFingerprint's view, null and undefined. */
export const FP_FOUND = 1;
export const FP_NONE = 0;
export const FP_UNKNOWN = -1;

/**
 * inlineFingerprint without a view per value (the scan's walk calls it on every inode: a
 * subarray per fingerprint was 140 MB of a 1M-inode scan's allocation): FP_FOUND with the
 * value's place in `area` written to `span`, FP_NONE, or FP_UNKNOWN (inlineFingerprint's
 * undefined).
 */
export function findInlineFingerprint(
  area: Uint8Array,
  maxCount: number,
  prefixes: readonly LongPrefix[],
  fpName: string | null,
  at: number,
  isize: number,
  span: ValueSpan,
): number {
  // The area is area[at, at + isize): a block cache's memory read in place, or a copy (at 0).
  const end = at + isize;
  if (isize < 12 || area[at + 4] !== 0) return FP_UNKNOWN; // header only, or shared xattrs
  let found = false;
  let count = 0;
  let pos = at + 12;
  while (pos < end) {
    if (end - pos < XATTR_ENTRY_HEADER) return FP_UNKNOWN;
    const nameLen = area[pos]!;
    const nameIndex = area[pos + 1]!;
    const valueSize = le16(area, pos + 2);
    const sz = xattrEntrySize(nameLen, valueSize);
    if (sz > end - pos) return FP_UNKNOWN;
    if (!(nameLen === 0 && nameIndex === 0 && valueSize === 0)) {
      if (++count > maxCount) return FP_UNKNOWN;
      const s = pos + XATTR_ENTRY_HEADER;
      let infix: Uint8Array | null = null;
      let base = nameIndex;
      if (nameIndex & 0x80) {
        const p = prefixes[nameIndex & 0x7f];
        if (p) {
          base = p.base;
          infix = p.infix;
        } else base = -1; // unknown long prefix: no name, never listed (resolveName)
      }
      if (base === 0 && nameLen === 0 && infix !== null) {
        // A long prefix alone (how mkfs.erofs names the fingerprint): known per prefix.
        const known = infixAlone(prefixes, fpName)[nameIndex & 0x7f]!;
        if (known === INFIX_NOT_ASCII) return FP_UNKNOWN;
        if (known === INFIX_IS_FP_NAME && !found) {
          found = true;
          span.start = s;
          span.length = valueSize;
        }
      } else if (base === 0) {
        // Hidden: full name = infix + suffix, compared with fpName unit by unit.
        const il = infix ? infix.length : 0;
        let same = !found && fpName !== null && fpName.length === il + nameLen;
        for (let i = 0; i < il + nameLen; i++) {
          const c = i < il ? infix![i]! : area[s + i - il]!;
          if (c >= 0x80) return FP_UNKNOWN;
          if (same && fpName!.charCodeAt(i) !== c) same = false;
        }
        if (same) {
          found = true;
          span.start = s + nameLen;
          span.length = valueSize;
        }
      } else if (base > 0 && SHORT_PREFIXES.has(base)) return FP_UNKNOWN; // listed
    }
    pos += sz;
  }
  return found ? FP_FOUND : FP_NONE;
}

const INFIX_OTHER = 0;
const INFIX_IS_FP_NAME = 1;
const INFIX_NOT_ASCII = 2;
/** infixAlone's last table and what it was made for: a scan asks with the same two always. */
let infixTable: Uint8Array = new Uint8Array(0);
let infixTableFor: { prefixes: readonly LongPrefix[] | null; fpName: string | null } = {
  prefixes: null,
  fpName: null,
};

/**
 * For each long prefix, what inlineFingerprint's name comparison concludes for an entry whose
 * name is that prefix's infix alone: a name that is not plain ASCII (INFIX_NOT_ASCII), fpName
 * (INFIX_IS_FP_NAME) or another name. Made once per (prefixes, fpName) instead of comparing
 * the infix with fpName byte by byte on every inode (11 % of the walk on fp-1m.img).
 */
function infixAlone(prefixes: readonly LongPrefix[], fpName: string | null): Uint8Array {
  if (infixTableFor.prefixes === prefixes && infixTableFor.fpName === fpName) return infixTable;
  const table = new Uint8Array(prefixes.length);
  prefixes.forEach((p, i) => {
    const infix = p.infix;
    let same = fpName !== null && fpName.length === infix.length;
    for (let j = 0; j < infix.length; j++) {
      if (infix[j]! >= 0x80) {
        table[i] = INFIX_NOT_ASCII;
        return;
      }
      if (same && fpName!.charCodeAt(j) !== infix[j]) same = false;
    }
    table[i] = same ? INFIX_IS_FP_NAME : INFIX_OTHER;
  });
  infixTable = table;
  infixTableFor = { prefixes, fpName };
  return table;
}

/** Decode one entry whose 4-byte header is `head`; returns the number of body bytes that follow. */
export function entryBodyLength(head: Uint8Array): number {
  return head[0]! + le16(head, 2);
}

/** Decode the long-prefix table records (docs/format.md#xattr-long-prefixes) from `read(pos, len)` of their container. */
export async function readLongPrefixes(
  read: (pos: number, len: number) => Promise<Uint8Array>,
  start: number,
  count: number,
): Promise<LongPrefix[]> {
  const out: LongPrefix[] = [];
  let pos = start;
  for (let i = 0; i < count; i++) {
    pos = roundUp(pos, 4);
    const rawLen = le16(await read(pos, 2), 0);
    const len = rawLen === 0 ? 65536 : rawLen;
    if (len < 1 || len > 256)
      throw new ErofsError('ECORRUPT', `long xattr prefix ${i} has invalid length ${len} (want 1..256)`, {
        offset: pos,
      });
    const rec = (await read(pos + 2, len)).slice();
    out.push({ base: rec[0]!, infix: rec.subarray(1) });
    pos += 2 + len;
  }
  return out;
}

export interface ResolvedName {
  /** Effective short prefix index (docs/format.md#xattr-names). */
  base: number;
  /** Name after the short prefix: infix + suffix for long entries. */
  rest: Uint8Array;
  /** Full name, or null when the prefix is unknown (entry skipped). */
  full: string | null;
  /** Whether listxattr shows it (known, non-empty base prefix). */
  listed: boolean;
}

/** Full name reconstruction (docs/format.md#xattr-names). */
export function resolveName(
  e: { nameIndex: number; suffix: Uint8Array },
  prefixes: readonly LongPrefix[],
): ResolvedName {
  let base: number;
  let rest: Uint8Array;
  if (e.nameIndex & 0x80) {
    const p = prefixes[e.nameIndex & 0x7f];
    if (!p) return { base: -1, rest: e.suffix, full: null, listed: false };
    base = p.base;
    rest = new Uint8Array(p.infix.length + e.suffix.length);
    rest.set(p.infix, 0);
    rest.set(e.suffix, p.infix.length);
  } else {
    base = e.nameIndex;
    rest = e.suffix;
  }
  const short = SHORT_PREFIXES.get(base);
  if (short === undefined) return { base, rest, full: null, listed: false };
  return { base, rest, full: short + decodeName(rest), listed: short !== '' };
}

/** Split a user-visible name into (short index, remainder) the way the kernel does for lookups (docs/format.md#xattr-names). */
export function splitName(name: string): { base: number; rest: string } {
  let best = 0;
  let bestLen = 0;
  for (const [idx, p] of SHORT_PREFIXES) {
    if (p && name.startsWith(p) && p.length > bestLen) {
      best = idx;
      bestLen = p.length;
    }
  }
  return { base: best, rest: name.slice(bestLen) };
}

// ---- bloom filter (docs/format.md#xattr-filter): an optimisation only, never the source of truth ----

const P1 = 0x9e3779b1,
  P2 = 0x85ebca77,
  P3 = 0xc2b2ae3d,
  P4 = 0x27d4eb2f,
  P5 = 0x165667b1;
const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
const mul = (a: number, b: number) => Math.imul(a, b) >>> 0;

/** Standard 32-bit xxHash. */
export function xxh32(data: Uint8Array, seed: number): number {
  const len = data.length;
  let i = 0;
  let h: number;
  if (len >= 16) {
    let v1 = (seed + P1 + P2) >>> 0,
      v2 = (seed + P2) >>> 0,
      v3 = seed >>> 0,
      v4 = (seed - P1) >>> 0;
    const round = (v: number, input: number) => mul(rotl((v + mul(input, P2)) >>> 0, 13), P1);
    while (i + 16 <= len) {
      v1 = round(v1, le32(data, i));
      v2 = round(v2, le32(data, i + 4));
      v3 = round(v3, le32(data, i + 8));
      v4 = round(v4, le32(data, i + 12));
      i += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) >>> 0;
  } else {
    h = (seed + P5) >>> 0;
  }
  h = (h + len) >>> 0;
  while (i + 4 <= len) {
    h = mul(rotl((h + mul(le32(data, i), P3)) >>> 0, 17), P4);
    i += 4;
  }
  while (i < len) {
    h = mul(rotl((h + mul(data[i]!, P5)) >>> 0, 11), P1);
    i++;
  }
  h ^= h >>> 15;
  h = mul(h, P2);
  h ^= h >>> 13;
  h = mul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}

export const XATTR_FILTER_SEED = 0x25bbe08f;
/** Bit of the bloom filter for a name (docs/format.md#xattr-filter). */
export function filterBit(base: number, rest: Uint8Array): number {
  return xxh32(rest, (XATTR_FILTER_SEED + base) >>> 0) & 31;
}
