// Map header and extent table of a compressed inode (docs/format.md#map-header to docs/format.md#encoded-extents). Builds the complete,
// validated list of logical extents once per inode. The per-lcluster decoding mirrors
// z_erofs_load_full_lcluster() / z_erofs_load_compact_lcluster() and the extent logic mirrors
// z_erofs_do_map_blocks() / z_erofs_map_blocks_ext() in the kernel's fs/erofs/zmap.c.

import {
  INCOMPAT_BIG_PCLUSTER,
  INCOMPAT_FRAGMENTS,
  INCOMPAT_ZTAILPACKING,
  type CompressedFileContext,
  type ZExtent,
  type ZExtentKind,
} from './context.js';
import { CompressedDataError } from './errors.js';

/** h_advise bits (docs/format.md#map-advise). */
export const ADVISE_COMPACTED_2B = 0x0001;
export const ADVISE_EXTENTS = 0x0001;
export const ADVISE_BIG_PCLUSTER_1 = 0x0002;
export const ADVISE_BIG_PCLUSTER_2 = 0x0004;
export const ADVISE_INLINE_PCLUSTER = 0x0008;
export const ADVISE_INTERLACED_PCLUSTER = 0x0010;
export const ADVISE_FRAGMENT_PCLUSTER = 0x0020;

/** lcluster types (docs/format.md#compression-terms). */
export const LCLUSTER_PLAIN = 0;
export const LCLUSTER_HEAD1 = 1;
export const LCLUSTER_NONHEAD = 2;
export const LCLUSTER_HEAD2 = 3;

/** di_advise bits of full indexes (docs/format.md#full-indexes, docs/format.md#dedupe, docs/format.md#sparse). */
const LI_PARTIAL_REF = 0x8000;
const LI_HOLE = 0x4000;
/** NONHEAD delta[0] flag: the low 11 bits are the pcluster's block count (Z_EROFS_LI_D0_CBLKCNT). */
const LI_D0_CBLKCNT = 0x800;

/** Encoded-extent plen fields (docs/format.md#encoded-extents). */
const EXTENT_PLEN_MASK = 0x1fffff;
const EXTENT_PLEN_PARTIAL = 1 << 27;

/** Z_EROFS_PCLUSTER_MAX_DSIZE: largest decoded (non-fragment) extent, 12 MiB (docs/format.md#compression-terms). */
export const MAX_EXTENT_DSIZE = 12 << 20;
/** Compact indexes support lclusters up to 16 KiB (kernel: lclusterbits > 14 -> EOPNOTSUPP). */
const MAX_COMPACT_LCLUSTERBITS = 14;
/** The 2-byte compact form stores 12-bit lo fields (docs/format.md#compact-indexes). */
const MAX_COMPACT_2B_LCLUSTERBITS = 12;
/** erofs-utils proposal: lclusterbits above 30 is corrupt (docs/format.md#validate-compressed). */
const MAX_LCLUSTERBITS = 30;
/** Physical addresses stay below block 2^48 (docs/format.md#pcluster-length). */
const MAX_BLOCK = 2 ** 48;

export interface MapHeader {
  /** Absolute offset (inode container) of the 8-byte header. */
  offset: number;
  raw: Uint8Array;
  advise: number;
  algorithmType: [number, number];
  lclusterBits: number;
  /** Whole file stored in the packed inode (bit 63 form, docs/format.md#map-header). */
  wholeFragment: boolean;
  fragmentOffset: number;
  idataSize: number;
}

/** Internal extent: the public ZExtent plus the decoding details. */
export interface ZExtentInternal extends ZExtent {
  /** Compression algorithm (0-3) for compressed kinds, else -1. */
  algorithm: number;
}

export function corrupt(ctx: CompressedFileContext, what: string, offset: number): never {
  throw new CompressedDataError('ECORRUPT', what, offset, ctx.nid);
}
function unsupported(ctx: CompressedFileContext, what: string, offset: number): never {
  throw new CompressedDataError('ENOTSUP', what, offset, ctx.nid);
}
function overLimit(ctx: CompressedFileContext, what: string, offset: number): never {
  throw new CompressedDataError('ELIMIT', what, offset, ctx.nid);
}

const le16 = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
const le32 = (b: Uint8Array, o: number): number =>
  (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const le64 = (b: Uint8Array, o: number): number => le32(b, o) + le32(b, o + 4) * 2 ** 32;

export function readMeta(ctx: CompressedFileContext, offset: number, length: number): Promise<Uint8Array> {
  return ctx.readMeta ? ctx.readMeta(offset, length) : ctx.readMain(offset, length);
}

/** Read and validate the map header; mirrors z_erofs_fill_inode_lazy() (docs/format.md#map-header). */
export async function readMapHeader(ctx: CompressedFileContext): Promise<MapHeader> {
  const offset = Math.ceil((ctx.inodeOffset + ctx.inodeSize + ctx.xattrIsize) / 8) * 8;
  const raw = await readMeta(ctx, offset, 8);
  if (raw.length < 8) corrupt(ctx, 'map header truncated', offset);
  const wholeFragment = (raw[7]! & 0x80) !== 0;
  if (wholeFragment) {
    // docs/format.md#map-header: the 63-bit fragment offset is the only field.
    if (!(ctx.featureIncompat & INCOMPAT_FRAGMENTS)) {
      corrupt(ctx, 'whole-file fragment without the FRAGMENTS feature', offset);
    }
    const fragmentOffset = le32(raw, 0) + (le32(raw, 4) & 0x7fffffff) * 2 ** 32;
    if (!Number.isSafeInteger(fragmentOffset))
      unsupported(ctx, `fragment offset ${fragmentOffset} too large`, offset);
    return {
      offset,
      raw,
      advise: ADVISE_FRAGMENT_PCLUSTER,
      algorithmType: [0, 0],
      lclusterBits: ctx.blockSizeBits,
      wholeFragment,
      fragmentOffset,
      idataSize: 0,
    };
  }
  const advise = le16(raw, 4);
  const algorithmType: [number, number] = [raw[6]! & 15, raw[6]! >> 4];
  const lclusterBits = ctx.blockSizeBits + (raw[7]! & 15);
  const extents = ctx.layout === 1 && (advise & ADVISE_EXTENTS) !== 0;
  const hdr: MapHeader = {
    offset,
    raw,
    advise,
    algorithmType,
    lclusterBits,
    wholeFragment,
    fragmentOffset: le32(raw, 0),
    idataSize: le16(raw, 2),
  };
  // with 16/32-byte extent records bytes 6-7 hold h_extents_hi instead (docs/format.md#map-header)
  const variableExtents = extents && ((advise >> 1) & 3) >= 2;
  if (!variableExtents && lclusterBits > MAX_LCLUSTERBITS) {
    corrupt(ctx, `lclusterbits ${lclusterBits} out of range`, offset + 7);
  }
  if (!extents) {
    // kernel: "unknown HEAD%u format %u" -> EOPNOTSUPP
    if (algorithmType[0] >= 4 || algorithmType[1] >= 4) {
      unsupported(ctx, `unknown compression algorithm type 0x${raw[6]!.toString(16)}`, offset + 6);
    }
    if (
      advise & (ADVISE_BIG_PCLUSTER_1 | ADVISE_BIG_PCLUSTER_2) &&
      !(ctx.featureIncompat & INCOMPAT_BIG_PCLUSTER)
    ) {
      corrupt(ctx, 'per-inode big pcluster without sb feature', offset + 4);
    }
    if (ctx.layout === 3 && !(advise & ADVISE_BIG_PCLUSTER_1) !== !(advise & ADVISE_BIG_PCLUSTER_2)) {
      corrupt(
        ctx,
        `big pcluster head1/2 of compact indexes should be consistent (advise 0x${advise.toString(16)})`,
        offset + 4,
      );
    }
    if (ctx.layout === 3) {
      if (lclusterBits > MAX_COMPACT_LCLUSTERBITS) {
        unsupported(ctx, `compact lclusterbits ${lclusterBits} unsupported`, offset + 7);
      }
      if (advise & ADVISE_COMPACTED_2B && lclusterBits > MAX_COMPACT_2B_LCLUSTERBITS) {
        unsupported(ctx, `2-byte compact indexes with lclusterbits ${lclusterBits} unsupported`, offset + 7);
      }
    }
  }
  if (advise & ADVISE_INLINE_PCLUSTER && advise & ADVISE_FRAGMENT_PCLUSTER) {
    corrupt(ctx, 'both INLINE_PCLUSTER and FRAGMENT_PCLUSTER set', offset + 4);
  }
  if (advise & ADVISE_INLINE_PCLUSTER && !(ctx.featureIncompat & INCOMPAT_ZTAILPACKING)) {
    corrupt(ctx, 'inline pcluster without the ZTAILPACKING feature', offset + 4);
  }
  if (advise & ADVISE_FRAGMENT_PCLUSTER && !(ctx.featureIncompat & INCOMPAT_FRAGMENTS)) {
    corrupt(ctx, 'fragment pcluster without the FRAGMENTS feature', offset + 4);
  }
  return hdr;
}

/**
 * The decoded lcluster index entries of one inode (struct z_erofs_maprecorder in the kernel,
 * one per lcluster) in flat typed arrays (16 bytes per lcluster, no object per entry or per
 * lookup), so that large files stay cheap to index and small ones make no garbage per lcluster.
 * One table per thread is reused from file to file (lclusterTable()) rather than six typed
 * arrays (and their buffers) made per compressed file
 * (docs/benchmarks.md#verify-lz4e-the-digest-threads-compressed-path-2026-12-07).
 */
class LclusterTable {
  /** lcluster type (LCLUSTER_*) */
  readonly type: Uint8Array;
  /** head types: offset of the extent start in the lcluster */
  readonly clusterofs: Uint16Array;
  /** NONHEAD: lookback distance */
  readonly delta0: Uint16Array;
  /** NONHEAD with CBLKCNT: block count of the pcluster; else -1 */
  readonly cblkcnt: Int16Array;
  /** FLAG_PARTIAL_REF | FLAG_HOLE */
  readonly flags: Uint8Array;
  /** head types: physical block (full: blkaddr field) */
  readonly pblk: Float64Array;
  /** Where entry `lcn` was read (for messages); set for each file by lclusterTable(). */
  posOf: (lcn: number) => number = noPos;
  constructor(capacity: number) {
    this.type = new Uint8Array(capacity);
    this.clusterofs = new Uint16Array(capacity);
    this.delta0 = new Uint16Array(capacity);
    this.cblkcnt = new Int16Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.pblk = new Float64Array(capacity);
  }
  /**
   * The table for a new file: nothing is cleared, since fullEntries and compactEntries write
   * every field extentsOf reads of each of the file's entries (type and clusterofs of all;
   * delta0 and cblkcnt of NONHEAD ones; pblk and flags of heads).
   */
  reset(posOf: (lcn: number) => number): this {
    this.posOf = posOf;
    return this;
  }
}
const noPos = (): number => -1;
/** The largest table kept for reuse (lclusters; 16 bytes each): larger files get one of their own. */
const SHARED_TABLE_MAX = 1 << 16;
let sharedTable: LclusterTable | null = null;
/**
 * The table for a file of `n` lclusters: the thread's shared one (grown as needed, up to
 * SHARED_TABLE_MAX), valid until the next call. Safe to share because the entries are decoded
 * and turned into extents with no await in between (fullEntries/compactEntries, extentsOf).
 */
function lclusterTable(n: number, posOf: (lcn: number) => number): LclusterTable {
  if (n > SHARED_TABLE_MAX) return new LclusterTable(n).reset(posOf);
  if (!sharedTable || sharedTable.type.length < n)
    sharedTable = new LclusterTable(
      Math.min(SHARED_TABLE_MAX, Math.max(n, 2 * (sharedTable?.type.length ?? 64))),
    );
  return sharedTable.reset(posOf);
}
const FLAG_PARTIAL_REF = 1;
const FLAG_HOLE = 2;

/** Compact index geometry (docs/format.md#compact-indexes), shared by the decoder and the inline-tail locator. */
export class CompactIndex {
  readonly ebase: number;
  readonly initial4b: number;
  readonly count2b: number;
  readonly lobits: number;
  constructor(
    ebase: number,
    totalidx: number,
    advise: number,
    readonly lclusterBits: number,
  ) {
    this.ebase = ebase;
    this.initial4b = ((32 - (ebase % 32)) / 4) & 7;
    this.count2b =
      advise & ADVISE_COMPACTED_2B && this.initial4b < totalidx
        ? Math.floor((totalidx - this.initial4b) / 16) * 16
        : 0;
    this.lobits = Math.max(lclusterBits, 12);
  }
  /** Absolute position of entry `lcn`, its pack start, pack size and entries per pack. */
  locate(lcn: number): {
    pos: number;
    packStart: number;
    packSize: number;
    vcnt: number;
    k: number;
    bits: number;
  } {
    let pos = this.ebase;
    let shift = 2; // 4B entries
    let i = lcn;
    if (i >= this.initial4b) {
      pos += this.initial4b * 4;
      i -= this.initial4b;
      if (i < this.count2b) shift = 1;
      else {
        pos += this.count2b * 2;
        i -= this.count2b;
      }
    }
    pos += i << shift;
    const vcnt = shift === 1 ? 16 : 2;
    const packSize = vcnt << shift;
    const packStart = pos - (pos % packSize);
    const k = (pos - packStart) >> shift;
    return { pos, packStart, packSize, vcnt, k, bits: shift === 1 ? 14 : 16 };
  }
}

/**
 * decode_compactedbits(): entry `k` of a pack, shifted down to its `lo` field (the low `lobits`
 * bits) with the type in the two bits above it (compactLo, compactType): a number, not a pair,
 * as it runs several times per lcluster.
 */
function compactBits(buf: Uint8Array, packOff: number, bits: number, k: number): number {
  const bit = k * bits;
  return le32(buf, packOff + (bit >>> 3)) >>> (bit & 7);
}
function compactLo(v: number, lobits: number): number {
  return v & ((1 << lobits) - 1);
}
function compactType(v: number, lobits: number): number {
  return (v >>> lobits) & 3;
}

/**
 * Build the validated extent list (docs/format.md#map-lookup and the sections after it, to docs/format.md#sparse). Every
 * entry is read once from one buffer holding the whole index area; loops are bounded by the
 * entry count, which is bounded by limits.maxExtents. Only the reads wait: the decoding is in
 * synchronous functions (fullEntries, compactEntries, extentsOf), which V8 compiles apart and
 * much more cheaply than one async function holding every loop (an optimizing compile of that
 * took 50-95 ms per thread, the largest single compile of `scan --hash` on lz4hc images).
 */
export async function loadExtents(ctx: CompressedFileContext, hdr: MapHeader): Promise<ZExtentInternal[]> {
  const size = ctx.size;
  if (size === 0) return [];
  if (hdr.wholeFragment) {
    return [fragmentExtent(ctx, 0, size, hdr.fragmentOffset)];
  }
  if (ctx.layout === 1 && hdr.advise & ADVISE_EXTENTS) return loadEncodedExtents(ctx, hdr);

  const bs = 2 ** ctx.blockSizeBits;
  const L = 2 ** hdr.lclusterBits;
  const n = Math.ceil(size / L);
  if (n > ctx.limits.maxExtents) {
    overLimit(ctx, `${n} lclusters exceed the limit of ${ctx.limits.maxExtents}`, hdr.offset);
  }

  // --- read every index entry ---
  if (ctx.layout === 1) {
    // docs/format.md#full-indexes: z_erofs_load_full_lcluster()
    const base = hdr.offset + 16;
    const buf = await readMeta(ctx, base, 8 * n);
    // inlinePos: the byte just past the last lcluster's entry (docs/format.md#ztailpacking)
    return extentsOf(ctx, hdr, fullEntries(ctx, hdr, buf, base, n), n, base + 8 * n);
  }
  // docs/format.md#compact-indexes: z_erofs_load_compact_lcluster()
  const ebase = hdr.offset + 8;
  const totalidx = Math.ceil(size / bs); // erofs_iblks()
  const ci = new CompactIndex(ebase, totalidx, hdr.advise, hdr.lclusterBits);
  if (n > totalidx) corrupt(ctx, `lcluster count ${n} exceeds index count ${totalidx}`, hdr.offset);
  const last = ci.locate(n - 1);
  const end = last.packStart + last.packSize;
  const start = ebase - (ebase % 32); // packs are aligned; read whole packs
  const buf = await readMeta(ctx, start, end - start);
  return extentsOf(ctx, hdr, compactEntries(ctx, hdr, ci, buf, start, end, n), n, end);
}

/** The `n` full index entries in `buf`, read at `base` (docs/format.md#full-indexes). */
function fullEntries(
  ctx: CompressedFileContext,
  hdr: MapHeader,
  buf: Uint8Array,
  base: number,
  n: number,
): LclusterTable {
  const big1 = (hdr.advise & ADVISE_BIG_PCLUSTER_1) !== 0;
  const big2 = (hdr.advise & ADVISE_BIG_PCLUSTER_2) !== 0;
  const entries = lclusterTable(n, (lcn) => base + 8 * lcn);
  if (buf.length < 8 * n) corrupt(ctx, 'full lcluster indexes truncated', base);
  for (let lcn = 0; lcn < n; lcn++) {
    const o = 8 * lcn;
    const advise = le16(buf, o);
    const type = advise & 3;
    entries.type[lcn] = type;
    entries.clusterofs[lcn] = le16(buf, o + 2);
    entries.pblk[lcn] = le32(buf, o + 4);
    entries.flags[lcn] =
      (advise & LI_PARTIAL_REF ? FLAG_PARTIAL_REF : 0) | (advise & LI_HOLE ? FLAG_HOLE : 0);
    if (type === LCLUSTER_NONHEAD) {
      const d0 = le16(buf, o + 4);
      if (d0 & LI_D0_CBLKCNT) {
        if (!big1 && !big2) corrupt(ctx, `CBLKCNT @ lcn ${lcn} without big pcluster`, base + o + 4);
        entries.cblkcnt[lcn] = d0 & ~LI_D0_CBLKCNT;
        entries.delta0[lcn] = 1;
      } else {
        entries.cblkcnt[lcn] = -1;
        entries.delta0[lcn] = d0;
      }
    }
  }
  return entries;
}

/**
 * The `n` compact index entries in `buf`, the packs read from `start` to `end`
 * (docs/format.md#compact-indexes).
 */
function compactEntries(
  ctx: CompressedFileContext,
  hdr: MapHeader,
  ci: CompactIndex,
  buf: Uint8Array,
  start: number,
  end: number,
  n: number,
): LclusterTable {
  const big1 = (hdr.advise & ADVISE_BIG_PCLUSTER_1) !== 0;
  const entries = lclusterTable(n, (lcn) => ci.locate(lcn).pos);
  if (buf.length < end - start) corrupt(ctx, 'compact lcluster indexes truncated', start);
  for (let lcn = 0; lcn < n; lcn++) {
    const loc = ci.locate(lcn);
    const packOff = loc.packStart - start;
    const lobits = ci.lobits;
    const raw = compactBits(buf, packOff, loc.bits, loc.k);
    const lo = compactLo(raw, lobits);
    const type = compactType(raw, lobits);
    entries.type[lcn] = type;
    entries.clusterofs[lcn] = lo;
    entries.flags[lcn] = 0;
    if (type === LCLUSTER_NONHEAD) {
      if (lo & LI_D0_CBLKCNT) {
        if (!big1) corrupt(ctx, `CBLKCNT @ lcn ${lcn} without big pcluster`, loc.pos);
        entries.cblkcnt[lcn] = lo & ~LI_D0_CBLKCNT;
        entries.delta0[lcn] = 1;
      } else if (loc.k + 1 !== loc.vcnt) {
        entries.cblkcnt[lcn] = -1;
        entries.delta0[lcn] = lo;
      } else {
        entries.cblkcnt[lcn] = -1;
        // the last entry of a pack stores delta[1]; derive delta[0] from entry k-1
        const p = compactBits(buf, packOff, loc.bits, loc.k - 1);
        const plo = compactLo(p, lobits);
        entries.delta0[lcn] =
          (compactType(p, lobits) !== LCLUSTER_NONHEAD ? 0 : plo & LI_D0_CBLKCNT ? 1 : plo) + 1;
      }
    } else {
      // physical block: walk backwards inside the pack (docs/format.md#compact-indexes)
      let nblk: number;
      let j = loc.k;
      if (!big1) {
        nblk = 1;
        while (j > 0) {
          j--;
          const x = compactBits(buf, packOff, loc.bits, j);
          if (compactType(x, lobits) === LCLUSTER_NONHEAD) j -= compactLo(x, lobits);
          if (j >= 0) nblk++;
        }
      } else {
        nblk = 0;
        while (j > 0) {
          j--;
          const x = compactBits(buf, packOff, loc.bits, j);
          const v = compactLo(x, lobits);
          if (compactType(x, lobits) === LCLUSTER_NONHEAD) {
            if (v & LI_D0_CBLKCNT) {
              j--;
              nblk += v & ~LI_D0_CBLKCNT;
              continue;
            }
            // big pcluster shouldn't have plain d0 == 1
            if (v <= 1) corrupt(ctx, `bogus compact lookback ${v} @ lcn ${lcn}`, loc.pos);
            j -= v - 2;
            continue;
          }
          nblk++;
        }
      }
      entries.pblk[lcn] = le32(buf, packOff + loc.packSize - 4) + nblk;
    }
  }
  return entries;
}

/**
 * The extents of the `n` decoded index entries (z_erofs_do_map_blocks); `inlinePos` is the
 * byte just past the last lcluster's entry, where a tail-packed pcluster lies.
 */
function extentsOf(
  ctx: CompressedFileContext,
  hdr: MapHeader,
  entries: LclusterTable,
  n: number,
  inlinePos: number,
): ZExtentInternal[] {
  const size = ctx.size;
  const bs = 2 ** ctx.blockSizeBits;
  const L = 2 ** hdr.lclusterBits;
  const big1 = (hdr.advise & ADVISE_BIG_PCLUSTER_1) !== 0;
  const big2 = (hdr.advise & ADVISE_BIG_PCLUSTER_2) !== 0;
  // --- heads -> extents (z_erofs_do_map_blocks) ---
  const heads: number[] = [];
  let headLcn = -1;
  for (let lcn = 0; lcn < n; lcn++) {
    if (entries.type[lcn] === LCLUSTER_NONHEAD) {
      // lookback must land on this extent's head: 1 <= delta0 <= distance to it
      const delta0 = entries.delta0[lcn]!;
      if (headLcn < 0 || delta0 < 1 || delta0 > lcn - headLcn) {
        corrupt(ctx, `bogus lookback distance ${delta0} @ lcn ${lcn}`, entries.posOf(lcn));
      }
      continue;
    }
    const clusterofs = entries.clusterofs[lcn]!;
    if (clusterofs >= L) corrupt(ctx, `invalid clusterofs ${clusterofs} @ lcn ${lcn}`, entries.posOf(lcn));
    if (lcn === 0 && clusterofs !== 0)
      corrupt(ctx, `first extent starts at ${clusterofs}, not 0`, entries.posOf(lcn));
    if (lcn * L + clusterofs >= size) {
      // a head past EOF produces no bytes; only the very last lcluster can have one
      if (lcn !== n - 1) corrupt(ctx, `extent head beyond i_size @ lcn ${lcn}`, entries.posOf(lcn));
      continue;
    }
    heads.push(lcn);
    headLcn = lcn;
  }

  const out: ZExtentInternal[] = [];
  const tailHead = heads[heads.length - 1]!;
  for (let h = 0; h < heads.length; h++) {
    const lcn = heads[h]!;
    const la = lcn * L + entries.clusterofs[lcn]!;
    const next = heads[h + 1];
    const end = next === undefined ? size : next * L + entries.clusterofs[next]!;
    const llen = end - la;
    const isTail = lcn === tailHead;

    if (isTail && hdr.advise & ADVISE_INLINE_PCLUSTER) {
      // docs/format.md#ztailpacking: ztailpacking inline pcluster right after the index entries
      const plen = hdr.idataSize;
      if (plen === 0 || (inlinePos % bs) + plen > bs) {
        corrupt(ctx, `invalid tail-packing pclustersize ${plen}`, inlinePos);
      }
      out.push(finishExtent(ctx, hdr, entries, lcn, la, llen, inlinePos, plen, true));
      continue;
    }
    if (isTail && hdr.advise & ADVISE_FRAGMENT_PCLUSTER) {
      // docs/format.md#fragments: full indexes keep the high 32 bits of the offset in the head's blkaddr
      const fo = hdr.fragmentOffset + (ctx.layout === 1 ? entries.pblk[lcn]! * 2 ** 32 : 0);
      if (!Number.isSafeInteger(fo))
        unsupported(ctx, `fragment offset too large @ lcn ${lcn}`, entries.posOf(lcn));
      out.push(fragmentExtent(ctx, la, llen, fo));
      continue;
    }
    // docs/format.md#pcluster-length: z_erofs_get_extent_compressedlen()
    let blocks = 1;
    const big = entries.type[lcn] === LCLUSTER_HEAD1 ? big1 : big2;
    if (big && (lcn + 1) * L < size && entries.type[lcn + 1] === LCLUSTER_NONHEAD) {
      const cblkcnt = entries.cblkcnt[lcn + 1]!;
      if (entries.delta0[lcn + 1] !== 1 || cblkcnt < 0)
        corrupt(ctx, `bogus CBLKCNT @ lcn ${lcn + 1}`, entries.posOf(lcn + 1));
      blocks = cblkcnt;
    }
    if (blocks === 0 || entries.flags[lcn]! & FLAG_HOLE) {
      // docs/format.md#sparse: sparse pcluster (CBLKCNT 0 or HOLE bit)
      out.push(holeExtent(la, llen));
      continue;
    }
    const pblk = entries.pblk[lcn]!;
    if (pblk + blocks > MAX_BLOCK)
      corrupt(ctx, `pcluster block ${pblk} out of range @ lcn ${lcn}`, entries.posOf(lcn));
    out.push(finishExtent(ctx, hdr, entries, lcn, la, llen, pblk * bs, blocks * bs, false));
  }
  return out;
}

function holeExtent(la: number, llen: number): ZExtentInternal {
  return {
    logicalStart: la,
    logicalLength: llen,
    physicalAddr: 0,
    physicalLength: 0,
    kind: 'hole',
    partial: false,
    inline: false,
    algorithm: -1,
  };
}

function fragmentExtent(
  ctx: CompressedFileContext,
  la: number,
  llen: number,
  fragmentOffset: number,
): ZExtentInternal {
  // docs/format.md#validate-compressed: packed inode -> fragment -> packed inode must not recurse
  if (ctx.packedNid !== undefined && ctx.nid === ctx.packedNid) {
    corrupt(ctx, 'the packed inode cannot store its own data in fragments', -1);
  }
  if (ctx.packedNid === undefined || !ctx.readPacked) {
    corrupt(ctx, 'fragment extent but the image has no packed inode', -1);
  }
  return {
    logicalStart: la,
    logicalLength: llen,
    physicalAddr: 0,
    physicalLength: 0,
    kind: 'fragment',
    partial: false,
    inline: false,
    fragmentOffset,
    algorithm: -1,
  };
}

const KINDS: readonly ZExtentKind[] = ['lz4', 'lzma', 'deflate', 'zstd'];

/** Algorithm selection and length checks for an index-based head (docs/format.md#map-lookup, docs/format.md#plain-pclusters). */
function finishExtent(
  ctx: CompressedFileContext,
  hdr: MapHeader,
  entries: LclusterTable,
  lcn: number,
  la: number,
  llen: number,
  pa: number,
  plen: number,
  inline: boolean,
): ZExtentInternal {
  if (plen > ctx.limits.maxPclusterBytes) {
    unsupported(ctx, `pcluster of ${plen} bytes exceeds ${ctx.limits.maxPclusterBytes}`, entries.posOf(lcn));
  }
  const type = entries.type[lcn]!;
  const partialRef = (entries.flags[lcn]! & FLAG_PARTIAL_REF) !== 0;
  if (type === LCLUSTER_PLAIN) {
    if (llen > plen)
      corrupt(
        ctx,
        `uncompressed extent of ${llen} bytes exceeds its ${plen}-byte pcluster`,
        entries.posOf(lcn),
      );
    const kind = hdr.advise & ADVISE_INTERLACED_PCLUSTER ? 'interlaced' : 'shifted';
    return {
      logicalStart: la,
      logicalLength: llen,
      physicalAddr: pa,
      physicalLength: plen,
      kind,
      partial: partialRef,
      inline,
      algorithm: -1,
    };
  }
  const alg = hdr.algorithmType[type === LCLUSTER_HEAD2 ? 1 : 0]!;
  return compressedExtent(ctx, alg, la, llen, pa, plen, partialRef, inline, entries.posOf(lcn));
}

function compressedExtent(
  ctx: CompressedFileContext,
  alg: number,
  la: number,
  llen: number,
  pa: number,
  plen: number,
  partial: boolean,
  inline: boolean,
  pos: number,
): ZExtentInternal {
  if (alg >= 4) unsupported(ctx, `unknown compression algorithm ${alg}`, pos);
  if (!(ctx.availableComprAlgs & (1 << alg))) {
    corrupt(
      ctx,
      `inconsistent algorithmtype ${alg} (available 0x${ctx.availableComprAlgs.toString(16)})`,
      pos,
    );
  }
  if (llen > MAX_EXTENT_DSIZE) unsupported(ctx, `extent of ${llen} bytes exceeds ${MAX_EXTENT_DSIZE}`, pos);
  return {
    logicalStart: la,
    logicalLength: llen,
    physicalAddr: pa,
    physicalLength: plen,
    kind: KINDS[alg]!,
    partial,
    inline,
    algorithm: alg,
  };
}

/** Encoded extents (docs/format.md#encoded-extents); mirrors z_erofs_map_blocks_ext(). */
async function loadEncodedExtents(ctx: CompressedFileContext, hdr: MapHeader): Promise<ZExtentInternal[]> {
  const size = ctx.size;
  const bs = 2 ** ctx.blockSizeBits;
  const recordSize = 4 << ((hdr.advise >> 1) & 3);
  const r0 = Math.ceil((hdr.offset + 8) / recordSize) * recordSize;
  const fragment = (hdr.advise & ADVISE_FRAGMENT_PCLUSTER) !== 0;
  const interlaced = (hdr.advise & ADVISE_INTERLACED_PCLUSTER) !== 0;
  const out: ZExtentInternal[] = [];

  const push = (
    i: number,
    count: number,
    la: number,
    end: number,
    plenRaw: number,
    pa: number,
    pos: number,
  ) => {
    const llen = end - la;
    if (i === count - 1 && fragment) {
      const fo = plenRaw + (recordSize > 4 ? pa * 2 ** 32 : 0);
      if (!Number.isSafeInteger(fo)) unsupported(ctx, 'fragment offset too large', pos);
      out.push(fragmentExtent(ctx, la, llen, fo));
      return;
    }
    const plen = plenRaw & EXTENT_PLEN_MASK;
    if (plen === 0) {
      out.push(holeExtent(la, llen));
      return;
    }
    if (pa + plen > MAX_BLOCK * bs) corrupt(ctx, `pcluster address ${pa} out of range`, pos);
    if (plen > ctx.limits.maxPclusterBytes) unsupported(ctx, `pcluster of ${plen} bytes too large`, pos);
    const fmt = plenRaw >>> 28;
    const partial = (plenRaw & EXTENT_PLEN_PARTIAL) !== 0;
    if (fmt === 0) {
      if (llen > plen)
        corrupt(ctx, `uncompressed extent of ${llen} bytes exceeds its ${plen}-byte pcluster`, pos);
      const kind = interlaced && pa % bs === 0 && plen % bs === 0 ? 'interlaced' : 'shifted';
      out.push({
        logicalStart: la,
        logicalLength: llen,
        physicalAddr: pa,
        physicalLength: plen,
        kind,
        partial,
        inline: false,
        algorithm: -1,
      });
      return;
    }
    out.push(compressedExtent(ctx, fmt - 1, la, llen, pa, plen, partial, false, pos));
  };

  if (recordSize <= 8) {
    const L = 2 ** hdr.lclusterBits;
    const n = Math.ceil(size / L);
    if (n > ctx.limits.maxExtents) overLimit(ctx, `${n} extents exceed the limit`, hdr.offset);
    const base = recordSize === 4 ? r0 + 8 : r0;
    const buf = await readMeta(ctx, r0, base - r0 + recordSize * n);
    if (buf.length < base - r0 + recordSize * n) corrupt(ctx, 'encoded extents truncated', r0);
    let pa = recordSize === 4 ? le64(buf, 0) : 0;
    for (let i = 0; i < n; i++) {
      const o = base - r0 + recordSize * i;
      const plenRaw = le32(buf, o);
      const recPa = recordSize === 8 ? le32(buf, o + 4) : pa;
      push(i, n, i * L, Math.min(size, (i + 1) * L), plenRaw, recPa, r0 + o);
      pa += plenRaw & EXTENT_PLEN_MASK;
    }
    return out;
  }

  const n = le32(hdr.raw, 0) + le16(hdr.raw, 6) * 2 ** 32;
  if (n === 0) corrupt(ctx, 'no encoded extents for a non-empty file', hdr.offset);
  if (n > ctx.limits.maxExtents) overLimit(ctx, `${n} extents exceed the limit`, hdr.offset);
  const buf = await readMeta(ctx, r0, recordSize * n);
  if (buf.length < recordSize * n) corrupt(ctx, 'encoded extents truncated', r0);
  const las: number[] = [];
  for (let i = 0; i < n; i++) {
    const o = recordSize * i;
    const la = le32(buf, o + 12) + (recordSize === 32 ? le32(buf, o + 16) * 2 ** 32 : 0);
    if (la >= size || (i > 0 && la <= las[i - 1]!)) {
      corrupt(
        ctx,
        `encoded extent ${i} starts at ${la} (out of order or beyond i_size ${size})`,
        r0 + o + 12,
      );
    }
    las.push(la);
  }
  if (las[0]! > 0) out.push(holeExtent(0, las[0]!)); // unmapped prefix reads as zeros
  for (let i = 0; i < n; i++) {
    const o = recordSize * i;
    const pa = le32(buf, o + 4) + le32(buf, o + 8) * 2 ** 32;
    if (!Number.isSafeInteger(pa)) corrupt(ctx, `pcluster address out of range`, r0 + o + 4);
    push(i, n, las[i]!, i + 1 < n ? las[i + 1]! : size, le32(buf, o), pa, r0 + o);
  }
  return out;
}
