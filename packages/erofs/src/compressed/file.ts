// Reading a compressed (layout 1 or 3) regular file: docs/format.md#read-file.

import {
  decompressPcluster,
  getLz4Decoder,
  lz4WasmInput,
  lz4WasmInputHolds,
  type DecompressOptions,
} from '../decompress/index.js';
import { PclusterCache } from './cache.js';
import {
  ALG_LZ4,
  ALG_LZMA,
  INCOMPAT_ZERO_PADDING,
  type CompressedFile,
  type CompressedFileContext,
  type ZExtent,
} from './context.js';
import { CompressedDataError } from './errors.js';
import {
  MAX_EXTENT_DSIZE,
  corrupt,
  loadExtents,
  readMapHeader,
  readMeta,
  type ZExtentInternal,
} from './zmap.js';

/** Decoded pclusters kept per open file (bytes). Enough for a few maximal (1 MiB) pclusters. */
const PCLUSTER_CACHE_BYTES = 4 << 20;
/**
 * forEachPiece reads the pclusters of consecutive extents that lie back to back on the device
 * with one read of at most this many bytes. lz4hc images store mostly one-block pclusters: a
 * read each made the positional reads, not the decoding, the cost of `scan --hash` on them
 * (docs/benchmarks.md#lz4-decode-the-lz4-block-decoder). One maximal pcluster (1 MiB,
 * docs/format.md#compressed-streams) fits.
 */
export const PCLUSTER_READAHEAD_BYTES = 1 << 20;
/** Zeros forEachPiece passes for holes and gaps, a piece at a time (never written to). */
const ZERO_PIECE = new Uint8Array(64 * 1024);

/**
 * The buffer forEachPiece decodes LZ4 extents into, shared by every file: allocating and
 * zeroing an output per pcluster cost as much as decoding it (docs/benchmarks.md, `lz4-decode`).
 * Safe to share because forEachPiece decodes and sinks a piece in one synchronous span (no
 * await between), so no other file's decode can overwrite it before the sink has used it.
 * Grows to the largest extent decoded so far, at most MAX_EXTENT_DSIZE (12 MiB).
 */
let sharedScratch = new Uint8Array(0);
function scratchOf(n: number): Uint8Array {
  if (sharedScratch.length < n) sharedScratch = new Uint8Array(Math.max(n, 2 * sharedScratch.length));
  return sharedScratch;
}

/** The device bytes [start, start + bytes.length) a sequential pass read ahead. */
interface ReadSpan {
  start: number;
  bytes: Uint8Array;
  /** `bytes` is the LZ4 decoder's input region (lz4WasmInput), not sharedSpan. */
  inWasm?: boolean;
}

/**
 * The buffer forEachPiece reads pcluster runs into when the context reads synchronously
 * (readMainInto), shared by every file like sharedScratch: a new buffer per read made the
 * garbage collector a large part of `scan --hash` on lz4hc images
 * (docs/benchmarks.md#compressed-read-path-2026-12-06). `spanOwner` is the ReadSpan whose bytes
 * it holds: a pass that finds another owner there reads again. Grows to the largest run read,
 * at most PCLUSTER_READAHEAD_BYTES or one pcluster (maxPclusterBytes) when that is larger.
 * With the WebAssembly LZ4 decoder, runs go to its input region instead (lz4WasmInput, the same
 * owner rule, and lz4WasmInputHolds for decodes of other streams that overwrite it).
 */
let sharedSpan = new Uint8Array(0);
let spanOwner: ReadSpan | null = null;
function spanBufferOf(n: number): Uint8Array {
  if (sharedSpan.length < n)
    sharedSpan = new Uint8Array(Math.max(n, Math.min(PCLUSTER_READAHEAD_BYTES, 2 * sharedSpan.length)));
  return sharedSpan;
}

/** A Uint32Array over all of the buffer leadingZeros() last scanned a word at a time. */
let wordsBuffer: ArrayBufferLike | null = null;
let words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

/**
 * How many of the first `scan` bytes of `raw` are zero: the zero padding in front of a
 * compressed stream, which on lz4hc images is half of most one-block pclusters. Sixteen bytes
 * at a time where `raw` is 4-byte aligned (pclusters read into the shared span or the LZ4
 * decoder's input region start on a block), then byte by byte; a byte at a time was 2 % of a
 * digest thread's profile (docs/benchmarks.md#verify-lz4c-compiled-code-kept-a-smaller-digest-thread-2026-12-07).
 * The word view is kept per buffer (those two are reused for every pcluster), so scanning
 * allocates nothing.
 */
function leadingZeros(raw: Uint8Array, scan: number): number {
  let skip = 0;
  if ((raw.byteOffset & 3) === 0 && scan >= 64) {
    if (raw.buffer !== wordsBuffer) {
      wordsBuffer = raw.buffer;
      words = new Uint32Array(raw.buffer, 0, raw.buffer.byteLength >>> 2);
    }
    const first = raw.byteOffset >>> 2;
    const end = first + ((scan >>> 4) << 2);
    let w = first;
    while (w < end && (words[w]! | words[w + 1]! | words[w + 2]! | words[w + 3]!) === 0) w += 4;
    skip = (w - first) << 2;
  }
  while (skip < scan && raw[skip] === 0) skip++;
  return skip;
}

/** Extents whose stored bytes are a pcluster on device 0 (what a read-ahead span can hold). */
function spanned(x: ZExtentInternal): boolean {
  return !x.inline && x.physicalLength > 0 && x.kind !== 'fragment' && x.kind !== 'hole';
}

/**
 * Open a compressed regular file. Reads the map header and the whole index/extent table up
 * front and validates it (docs/format.md#validate-compressed); data is decoded lazily by read().
 */
export async function openCompressedFile(ctx: CompressedFileContext): Promise<CompressedFile> {
  if (!(ctx.layout === 1 || ctx.layout === 3)) {
    throw new CompressedDataError(
      'ENOTSUP',
      `layout ${String(ctx.layout)} is not compressed`,
      ctx.inodeOffset,
      ctx.nid,
    );
  }
  if (!Number.isSafeInteger(ctx.size) || ctx.size < 0) {
    throw new CompressedDataError('ECORRUPT', `invalid i_size ${ctx.size}`, ctx.inodeOffset, ctx.nid);
  }
  if (ctx.size > ctx.limits.maxFileSize) {
    throw new CompressedDataError('ELIMIT', `i_size ${ctx.size} exceeds the limit`, ctx.inodeOffset, ctx.nid);
  }
  if (ctx.availableComprAlgs === 0) {
    // docs/format.md#compressed-fs: compressed inode in a plain filesystem
    throw new CompressedDataError(
      'ECORRUPT',
      'compressed inode is invalid in a plain filesystem',
      ctx.inodeOffset,
      ctx.nid,
    );
  }
  const extents = ctx.size === 0 ? [] : await loadExtents(ctx, await readMapHeader(ctx));
  if (ctx.mainDeviceSize !== undefined) {
    for (const e of extents) {
      if (!e.inline && e.physicalLength > 0 && e.physicalAddr + e.physicalLength > ctx.mainDeviceSize) {
        throw new CompressedDataError(
          'ECORRUPT',
          `pcluster ${e.physicalAddr}+${e.physicalLength} of extent at ${e.logicalStart} is beyond the ${ctx.mainDeviceSize}-byte device`,
          e.physicalAddr,
          ctx.nid,
        );
      }
    }
  }
  if (ctx.packedSize !== undefined) {
    for (const e of extents) {
      // The bytes read() and forEachPiece() take from the packed inode: fragmentOffset on, up
      // to the extent's end or i_size, whichever comes first.
      if (e.kind !== 'fragment') continue;
      const length = Math.min(e.logicalLength, ctx.size - e.logicalStart);
      if (e.fragmentOffset! + length > ctx.packedSize) {
        throw new CompressedDataError(
          'ECORRUPT',
          `fragment ${e.fragmentOffset}+${length} of extent at ${e.logicalStart} is beyond the ${ctx.packedSize}-byte packed inode`,
          -1,
          ctx.nid,
        );
      }
    }
  }
  return new ZFile(ctx, extents);
}

class ZFile implements CompressedFile {
  readonly size: number;
  /** Made by the first read(): forEachPiece (`scan --hash`, every file once) never uses it. */
  private cache: PclusterCache | null = null;
  /** dict_size of the LZMA configuration record (docs/format.md#compr-cfgs), if any. */
  private readonly lzmaDictSize: number | undefined;
  /** LZ4 match window (docs/format.md#compr-cfgs, docs/format.md#compressed-fs); 0 = the 64 KiB default. */
  private readonly lz4MaxDistance: number;
  /** decodeRaw's options, reused for every extent (an object per extent was garbage per pcluster). */
  private readonly decodeOptions: DecompressOptions;

  constructor(
    private readonly ctx: CompressedFileContext,
    private readonly ext: ZExtentInternal[],
  ) {
    this.size = ctx.size;
    const lzma = ctx.comprConfigs.find((c) => c.algorithm === ALG_LZMA && c.raw.length >= 4);
    this.lzmaDictSize = lzma
      ? (lzma.raw[0]! | (lzma.raw[1]! << 8) | (lzma.raw[2]! << 16) | (lzma.raw[3]! << 24)) >>> 0
      : undefined;
    const lz4 = ctx.comprConfigs.find((c) => c.algorithm === ALG_LZ4 && c.raw.length >= 2);
    this.lz4MaxDistance = lz4 ? lz4.raw[0]! | (lz4.raw[1]! << 8) : (ctx.lz4MaxDistance ?? 0);
    this.decodeOptions = {
      partial: false,
      maxOutput: MAX_EXTENT_DSIZE,
      lz4MaxDistance: this.lz4MaxDistance,
      into: undefined,
      borrow: false,
    };
    if (this.lzmaDictSize !== undefined) this.decodeOptions.lzmaDictSize = this.lzmaDictSize;
  }

  extents(): Promise<ZExtent[]> {
    return Promise.resolve(this.ext.map(({ algorithm: _a, ...e }) => ({ ...e })));
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`invalid read range ${offset}+${length}`);
    }
    const start = Math.min(offset, this.size);
    const end = Math.min(this.size, start + length);
    const out = new Uint8Array(end - start);
    if (end === start) return out;
    // binary search: last extent with logicalStart <= start
    let lo = 0;
    let hi = this.ext.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.ext[mid]!.logicalStart <= start) lo = mid;
      else hi = mid - 1;
    }
    for (let i = lo; i < this.ext.length; i++) {
      const e = this.ext[i]!;
      if (e.logicalStart >= end) break;
      const from = Math.max(start, e.logicalStart);
      const to = Math.min(end, e.logicalStart + e.logicalLength);
      if (to <= from) continue;
      if (e.kind === 'hole') continue; // already zero
      if (e.kind === 'fragment') {
        // docs/format.md#fragments: fragments are byte ranges of the packed inode's data
        const bytes = await this.ctx.readPacked!(e.fragmentOffset! + (from - e.logicalStart), to - from);
        if (bytes.length !== to - from)
          corrupt(this.ctx, `fragment read of ${to - from} bytes came back short`, -1);
        out.set(bytes, from - start);
        continue;
      }
      this.cache ??= new PclusterCache(PCLUSTER_CACHE_BYTES);
      const data = await this.cache.get(i, () => this.decodeExtent(e), e.logicalLength);
      out.set(data.subarray(from - e.logicalStart, to - e.logicalStart), from - start);
    }
    return out;
  }

  async forEachPiece(sink: (piece: Uint8Array) => void): Promise<void> {
    let pos = 0; // bytes sunk so far
    // Every field set here: one added later (spanNow's inWasm) changed the object's shape
    // mid-pass, and V8 threw away forEachPiece's optimized code for it.
    const span: ReadSpan = { start: 0, bytes: new Uint8Array(0), inWasm: false };
    const zeros = (n: number): void => {
      for (; n > 0; n -= ZERO_PIECE.length)
        sink(n >= ZERO_PIECE.length ? ZERO_PIECE : ZERO_PIECE.subarray(0, n));
    };
    for (let i = 0; i < this.ext.length && pos < this.size; i++) {
      const e = this.ext[i]!;
      const from = Math.max(pos, e.logicalStart);
      const to = Math.min(this.size, e.logicalStart + e.logicalLength);
      if (to <= from) continue;
      if (e.logicalStart < pos) {
        // Extents overlapping earlier ones: read() lets later ones win; stream what it returns.
        for (let at = pos; at < this.size; at += ZERO_PIECE.length)
          sink(await this.read(at, Math.min(ZERO_PIECE.length, this.size - at)));
        return;
      }
      zeros(from - pos); // a gap between extents reads as zeros in read()
      pos = to;
      if (e.kind === 'hole') {
        zeros(to - from);
        continue;
      }
      let data: Uint8Array;
      if (e.kind === 'fragment') {
        data = await this.ctx.readPacked!(e.fragmentOffset! + (from - e.logicalStart), to - from);
        if (data.length !== to - from)
          corrupt(this.ctx, `fragment read of ${to - from} bytes came back short`, -1);
      } else {
        // Decoded once and passed on: a sequential pass never comes back to an extent, so
        // the pcluster cache would only hold it. Read, then decode into the shared scratch (or
        // the decoder's own memory, `borrow`) and sink with no await in between (see
        // sharedScratch, sharedSpan).
        const raw = this.ctx.readMainInto
          ? (this.spanNow(i, span) ?? (await this.readExtent(e)))
          : await this.readAhead(i, span);
        const into = scratchOf(Math.min(e.logicalLength, MAX_EXTENT_DSIZE));
        const whole = this.decodeRaw(e, raw, into, true);
        // Mostly the whole extent (decodeRaw returns exactly its length): no view of a view.
        data =
          from === e.logicalStart && to - from === whole.length
            ? whole
            : whole.subarray(from - e.logicalStart, to - e.logicalStart);
      }
      sink(data);
      zeros(to - from - data.length); // a short extent reads as zeros in read()
    }
    zeros(this.size - pos);
  }

  /** Decode one whole extent (docs/format.md#read-file inner step) into a buffer of its own. */
  private async decodeExtent(e: ZExtentInternal): Promise<Uint8Array> {
    return this.decodeRaw(e, await this.readExtent(e));
  }

  /**
   * The stored bytes of extent `i` for a sequential pass: from `span` when an earlier read
   * covered them, else one read of its pcluster and those of the extents after it that follow
   * it on the device, up to PCLUSTER_READAHEAD_BYTES. A span read that fails falls back to the
   * extent's own read, so errors are those of reading extent by extent.
   */
  private async readAhead(i: number, span: ReadSpan): Promise<Uint8Array> {
    const e = this.ext[i]!;
    if (!spanned(e)) return this.readExtent(e);
    const at = e.physicalAddr - span.start;
    if (at >= 0 && at + e.physicalLength <= span.bytes.length)
      return span.bytes.subarray(at, at + e.physicalLength);
    const end = this.runEnd(i);
    if (end === e.physicalAddr + e.physicalLength) return this.readExtent(e);
    let bytes: Uint8Array;
    try {
      bytes = await this.ctx.readMain(e.physicalAddr, end - e.physicalAddr);
    } catch {
      return this.readExtent(e);
    }
    if (bytes.length !== end - e.physicalAddr) return this.readExtent(e);
    span.start = e.physicalAddr;
    span.bytes = bytes;
    return bytes.subarray(0, e.physicalLength);
  }

  /**
   * The device end of the run of pclusters starting with extent `i`'s: those of the extents
   * after it that follow it back to back on the device, up to PCLUSTER_READAHEAD_BYTES.
   */
  private runEnd(i: number): number {
    const e = this.ext[i]!;
    let end = e.physicalAddr + e.physicalLength;
    for (let j = i + 1; j < this.ext.length; j++) {
      const x = this.ext[j]!;
      if (
        !spanned(x) ||
        x.physicalAddr !== end ||
        end + x.physicalLength - e.physicalAddr > PCLUSTER_READAHEAD_BYTES
      )
        break;
      end += x.physicalLength;
    }
    return end;
  }

  /**
   * readAhead() without waiting, for a context that reads synchronously (readMainInto): the
   * stored bytes of extent `i` from the shared span buffer while `span` owns it, else one read
   * of its run (runEnd) into that buffer. Undefined when extent `i` is not a pcluster on the
   * device or the read fails: the caller then reads the extent alone (readExtent), so errors
   * are those of reading extent by extent. The bytes are valid until the next await.
   */
  private spanNow(i: number, span: ReadSpan): Uint8Array | undefined {
    const e = this.ext[i]!;
    if (!spanned(e)) return undefined;
    if (spanOwner === span && (!span.inWasm || lz4WasmInputHolds(span.bytes))) {
      const at = e.physicalAddr - span.start;
      if (at >= 0 && at + e.physicalLength <= span.bytes.length)
        return span.bytes.subarray(at, at + e.physicalLength);
    }
    const length = this.runEnd(i) - e.physicalAddr;
    // With the WebAssembly LZ4 decoder the run goes straight into its input region: LZ4
    // pclusters then decode where they lie, with no copy into the instance.
    const inWasm = getLz4Decoder() === 'wasm' ? lz4WasmInput(length) : null;
    const bytes = inWasm ?? spanBufferOf(length).subarray(0, length);
    spanOwner = null;
    try {
      this.ctx.readMainInto!(e.physicalAddr, bytes);
    } catch {
      return undefined;
    }
    spanOwner = span;
    span.start = e.physicalAddr;
    span.bytes = bytes;
    span.inWasm = inWasm !== null;
    return bytes.subarray(0, e.physicalLength);
  }

  /** The stored bytes of one extent (its pcluster, or its inline bytes). */
  private async readExtent(e: ZExtentInternal): Promise<Uint8Array> {
    const ctx = this.ctx;
    const raw = e.inline
      ? await readMeta(ctx, e.physicalAddr, e.physicalLength)
      : await ctx.readMain(e.physicalAddr, e.physicalLength);
    if (raw.length !== e.physicalLength)
      corrupt(ctx, `pcluster read of ${e.physicalLength} bytes came back short`, e.physicalAddr);
    return raw;
  }

  /**
   * Decode the stored bytes of one extent. With `into`, the LZ4 decoder writes into it and the
   * result is a view of it (valid until the next decode into it); otherwise a buffer of its own.
   * With `borrow` too, the result may also be a view of `raw` or of the decoder's own memory
   * (DecompressOptions.borrow), valid until the next decode on this thread or the next await.
   */
  private decodeRaw(e: ZExtentInternal, raw: Uint8Array, into?: Uint8Array, borrow = false): Uint8Array {
    const ctx = this.ctx;
    const bs = 2 ** ctx.blockSizeBits;
    const llen = e.logicalLength;
    if (e.kind === 'shifted') return borrow ? raw.subarray(0, llen) : raw.slice(0, llen); // docs/format.md#plain-pclusters
    if (e.kind === 'interlaced') {
      // docs/format.md#plain-pclusters: extent bytes [0, c) are the last c bytes of the pcluster
      const c = Math.min(bs - (e.logicalStart % bs), llen);
      const out = new Uint8Array(llen);
      out.set(raw.subarray(e.physicalLength - c), 0);
      out.set(raw.subarray(0, llen - c), c);
      return out;
    }
    // docs/format.md#compressed-streams: skip the zero padding in front of the stream (z_erofs_fixup_insize scans
    // only the first block of the pcluster).
    let src = raw;
    if (ctx.featureIncompat & INCOMPAT_ZERO_PADDING || e.algorithm !== 0) {
      const scan = Math.min(raw.length, bs - (e.physicalAddr % bs));
      const skip = leadingZeros(raw, scan);
      if (skip === scan) corrupt(ctx, 'compressed data start not found', e.physicalAddr);
      if (skip > 0) src = raw.subarray(skip);
    }
    // The tail extent may be stored with a stream that continues past i_size, and PARTIAL_REF
    // extents use only a prefix of their pcluster (docs/format.md#compressed-streams, docs/format.md#dedupe): decode those partially.
    // z_erofs_lz4_decompress_mem(): "legacy format could compress extra data in a pcluster",
    // so LZ4 without LZ4_0PADDING is always decoded partially too.
    const isTail = e.logicalStart + llen === this.size;
    const legacyLz4 = e.algorithm === 0 && !(ctx.featureIncompat & INCOMPAT_ZERO_PADDING);
    // One options object per file, filled per extent (the decoders only read it during the call).
    const o = this.decodeOptions;
    o.partial = e.partial || isTail || legacyLz4;
    o.into = into;
    o.borrow = borrow;
    try {
      return decompressPcluster(e.algorithm, src, llen, o);
    } catch (err) {
      if (err instanceof CompressedDataError && err.offset < 0) {
        throw new CompressedDataError(
          err.code,
          `${err.message} in pcluster of ${e.physicalLength} bytes`,
          e.physicalAddr,
          ctx.nid,
        );
      }
      throw err;
    }
  }
}
