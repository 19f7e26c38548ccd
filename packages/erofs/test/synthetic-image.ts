// Building whole EROFS images by hand, field by field from the spec, for features no fixture
// made by mkfs.erofs 1.9.3 / 1.5 in testdata/ contains (METABOX). Little-endian writers,
// inode / dirent / xattr encoders and a small LZ4 block compressor.

/** A growable image of `bs`-byte blocks with little-endian field writers. */
export class ImageBytes {
  bytes: Uint8Array;
  constructor(
    readonly bs: number,
    blocks: number,
  ) {
    this.bytes = new Uint8Array(bs * blocks);
  }
  private get dv(): DataView {
    return new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }
  u8(o: number, v: number): this {
    this.bytes[o] = v;
    return this;
  }
  u16(o: number, v: number): this {
    this.dv.setUint16(o, v, true);
    return this;
  }
  u32(o: number, v: number): this {
    this.dv.setUint32(o, v >>> 0, true);
    return this;
  }
  u64(o: number, v: bigint | number): this {
    this.dv.setBigUint64(o, BigInt(v), true);
    return this;
  }
  set(o: number, b: Uint8Array): this {
    this.bytes.set(b, o);
    return this;
  }
}

const enc = new TextEncoder();
export const utf8 = (s: string): Uint8Array => enc.encode(s);

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---------------------------------------------------------------- superblock (docs/format.md#superblock)

export interface SuperblockFields {
  compat?: number;
  blkszbits?: number;
  extslots?: number;
  rootNid16?: number;
  inos?: number;
  epoch?: number;
  blocks?: number;
  metaBlkaddr?: number;
  xattrBlkaddr?: number;
  incompat?: number;
  u1?: number;
  prefixCount?: number;
  prefixStart?: number;
  packedNid?: bigint;
  ishareId?: number;
  buildTime?: number;
  rootNid8?: bigint;
  metaboxNid?: bigint;
}

/** Write a superblock at 1024 (no checksum: set compat bit 0 and fix it separately). */
export function writeSuperblock(img: ImageBytes, f: SuperblockFields): void {
  const o = 1024;
  img.u32(o, 0xe0f5e1e2);
  img.u32(o + 8, f.compat ?? 0);
  img.u8(o + 12, f.blkszbits ?? Math.log2(img.bs));
  img.u8(o + 13, f.extslots ?? 0);
  img.u16(o + 14, f.rootNid16 ?? 0);
  img.u64(o + 16, f.inos ?? 0);
  img.u64(o + 24, f.epoch ?? 1700000000);
  img.u32(o + 36, f.blocks ?? img.bytes.length / img.bs);
  img.u32(o + 40, f.metaBlkaddr ?? 0);
  img.u32(o + 44, f.xattrBlkaddr ?? 0);
  img.set(
    o + 48,
    Uint8Array.from({ length: 16 }, (_, i) => i * 17),
  );
  img.u32(o + 80, f.incompat ?? 0);
  img.u16(o + 84, f.u1 ?? 0);
  img.u8(o + 91, f.prefixCount ?? 0);
  img.u32(o + 92, f.prefixStart ?? 0);
  img.u64(o + 96, f.packedNid ?? 0n);
  img.u8(o + 105, f.ishareId ?? 0);
  img.u32(o + 108, f.buildTime ?? 0);
  img.u64(o + 112, f.rootNid8 ?? 0n);
  if ((f.extslots ?? 0) >= 1) img.u64(o + 128, f.metaboxNid ?? 0n);
}

// ---------------------------------------------------------------- inodes (docs/format.md#inodes)

export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

export interface InodeFields {
  layout: number;
  mode: number;
  size: number;
  /** i_u: start block, block count, chunk format or rdev. */
  u: number;
  nlink?: number;
  /** xattr area bytes (12 + 4n), 0 for none. */
  xattrIsize?: number;
  mtime?: number;
  uid?: number;
  gid?: number;
  ino?: number;
}

/** A 32-byte compact inode (docs/format.md#inode-compact). */
export function compactInode(f: InodeFields): Uint8Array {
  const b = new ImageBytes(32, 1);
  b.u16(0, f.layout << 1);
  b.u16(2, f.xattrIsize ? (f.xattrIsize - 12) / 4 + 1 : 0);
  b.u16(4, f.mode);
  b.u16(6, f.nlink ?? 1);
  b.u32(8, f.size);
  b.u32(12, f.mtime ?? 0);
  b.u32(16, f.u);
  b.u32(20, f.ino ?? 0);
  b.u16(24, f.uid ?? 0);
  b.u16(26, f.gid ?? 0);
  return b.bytes;
}

/** A 64-bit nid with bit 63 set: slot `slot` of the metabox data (docs/format.md#nid). */
export const metaboxNid = (slot: number): bigint => (1n << 63n) | BigInt(slot);

// ---------------------------------------------------------------- directories (docs/format.md#dirent)

/** One directory block: dirents then names, sorted by name bytes (memcmp order). */
export function dirBlock(entries: [string, bigint, number][], len?: number): Uint8Array {
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
  const names = sorted.map(([n]) => utf8(n));
  const total = 12 * sorted.length + names.reduce((a, n) => a + n.length, 0);
  const b = new ImageBytes(len ?? total, 1);
  let nameoff = 12 * sorted.length;
  sorted.forEach(([, nid, ft], i) => {
    b.u64(12 * i, nid);
    b.u16(12 * i + 8, nameoff);
    b.u8(12 * i + 10, ft);
    b.set(nameoff, names[i]!);
    nameoff += names[i]!.length;
  });
  return b.bytes;
}

// ---------------------------------------------------------------- xattrs (docs/format.md#xattrs)

/** One xattr entry (docs/format.md#xattr-entry), padded to 4 bytes. */
export function xattrEntry(nameIndex: number, suffix: string, value: Uint8Array): Uint8Array {
  const name = utf8(suffix);
  const b = new ImageBytes(1, Math.ceil((4 + name.length + value.length) / 4) * 4);
  b.u8(0, name.length)
    .u8(1, nameIndex)
    .u16(2, value.length)
    .set(4, name)
    .set(4 + name.length, value);
  return b.bytes;
}

/** An inline xattr area (docs/format.md#xattr-ibody): header (filter all ones = no claims), shared ids, entries. */
export function xattrArea(sharedIds: number[], entries: Uint8Array[]): Uint8Array {
  const head = new ImageBytes(1, 12 + 4 * sharedIds.length);
  head.u32(0, 0).u8(4, sharedIds.length);
  sharedIds.forEach((id, i) => head.u32(12 + 4 * i, id));
  return concat(head.bytes, ...entries);
}

// ---------------------------------------------------------------- LZ4 (docs/format.md#compressed-streams)

/**
 * Greedy LZ4 block compressor (raw block format, no frame). Follows the format's end rules:
 * the last 5 bytes are literals and no match starts in the last 12 bytes.
 */
export function lz4Compress(src: Uint8Array): Uint8Array {
  const out: number[] = [];
  const n = src.length;
  const table = new Map<number, number>();
  const lenBytes = (v: number) => {
    while (v >= 255) {
      out.push(255);
      v -= 255;
    }
    out.push(v);
  };
  const emit = (litFrom: number, litTo: number, offset: number, matchLen: number) => {
    const lit = litTo - litFrom;
    const ml = matchLen ? matchLen - 4 : 0;
    out.push((Math.min(lit, 15) << 4) | Math.min(ml, 15));
    if (lit >= 15) lenBytes(lit - 15);
    for (let k = litFrom; k < litTo; k++) out.push(src[k]!);
    if (!matchLen) return;
    out.push(offset & 0xff, offset >> 8);
    if (ml >= 15) lenBytes(ml - 15);
  };
  let anchor = 0;
  let i = 0;
  while (i + 12 <= n) {
    const key = src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24);
    const cand = table.get(key);
    table.set(key, i);
    if (cand !== undefined && i - cand <= 65535) {
      let len = 4;
      while (i + len < n - 5 && src[cand + len] === src[i + len]) len++;
      emit(anchor, i, i - cand, len);
      i += len;
      anchor = i;
    } else i++;
  }
  emit(anchor, n, 0, 0);
  return Uint8Array.from(out);
}
