// Minimal stand-alone image parsing for the compressed-data tests: just enough of the
// superblock (docs/format.md#superblock) and inodes (docs/format.md#inodes) to build CompressedFileContexts
// without the core reader.

import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  DEFAULT_COMPRESSED_LIMITS,
  INCOMPAT_COMPR_CFGS,
  INCOMPAT_ZERO_PADDING,
  openCompressedFile,
  type CompressedFile,
  type CompressedFileContext,
} from '../src/compressed/index.js';

export const FIXTURES = join(import.meta.dirname, '../../../testdata/erofs');

export interface OracleFile {
  path: string;
  nid: number;
  type: string;
  size: number;
  layout: string;
  inode_size: 32 | 64;
  xattr_isize: number;
  sha256?: string;
}
export interface Oracle {
  superblock: { packed_nid?: number; block_size: number; meta_blkaddr: number };
  files: OracleFile[];
}

/** Small images made with Debian's mkfs.erofs 1.5 for this test suite (see their README). */
export const LOCAL_FIXTURES = join(import.meta.dirname, 'compressed-fixtures');

export function loadOracle(name: string, dir = FIXTURES): Oracle {
  return JSON.parse(readFileSync(join(dir, `${name}.expected.json`), 'utf8')) as Oracle;
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const le16 = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
const le32 = (b: Uint8Array, o: number): number =>
  (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;

export class TestImage {
  readonly bytes: Uint8Array;
  readonly blkszbits: number;
  readonly metaBlkaddr: number;
  readonly incompat: number;
  readonly algs: number;
  readonly configs: { algorithm: number; raw: Uint8Array }[] = [];
  readonly packedNid: number;
  private packed?: Promise<CompressedFile>;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    const sb = bytes.subarray(1024, 1024 + 144);
    this.blkszbits = sb[12]!;
    this.metaBlkaddr = le32(sb, 40);
    this.incompat = le32(sb, 80);
    const u1 = le16(sb, 84);
    this.packedNid = le32(sb, 96);
    if (this.incompat & INCOMPAT_COMPR_CFGS) {
      this.algs = u1;
      let pos = 1024 + 128 + 16 * sb[13]!;
      for (let alg = 0; alg < 4; alg++) {
        if (!(u1 & (1 << alg))) continue;
        pos = Math.ceil(pos / 4) * 4;
        const len = le16(bytes, pos);
        this.configs.push({ algorithm: alg, raw: bytes.slice(pos + 2, pos + 2 + len) });
        pos += 2 + len;
      }
    } else {
      this.algs = this.incompat & INCOMPAT_ZERO_PADDING || u1 !== 0 ? 1 : 0;
    }
  }

  static load(name: string, dir = FIXTURES): TestImage {
    return new TestImage(new Uint8Array(readFileSync(join(dir, `${name}.img`))));
  }

  readMain = (offset: number, length: number): Promise<Uint8Array> => {
    if (offset < 0 || length < 0 || offset + length > this.bytes.length) {
      return Promise.reject(
        new RangeError(`read ${offset}+${length} outside the ${this.bytes.length}-byte image`),
      );
    }
    return Promise.resolve(this.bytes.subarray(offset, offset + length));
  };

  /** Inode fields needed for a context (docs/format.md#inodes). */
  context(nid: number, overrides: Partial<CompressedFileContext> = {}): CompressedFileContext {
    const off = this.metaBlkaddr * 2 ** this.blkszbits + nid * 32;
    const b = this.bytes;
    const format = le16(b, off);
    const extended = (format & 1) === 1;
    const layout = (format >> 1) & 7;
    if (layout !== 1 && layout !== 3) throw new Error(`nid ${nid} has layout ${layout}`);
    const icount = le16(b, off + 2);
    const size = extended ? le32(b, off + 8) + le32(b, off + 12) * 2 ** 32 : le32(b, off + 8);
    const ctx: CompressedFileContext = {
      nid,
      layout,
      size,
      inodeOffset: off,
      inodeSize: extended ? 64 : 32,
      xattrIsize: icount === 0 ? 0 : 12 + 4 * (icount - 1),
      iU: le32(b, off + 16),
      blockSizeBits: this.blkszbits,
      featureIncompat: this.incompat,
      availableComprAlgs: this.algs,
      comprConfigs: this.configs,
      readMain: this.readMain,
      mainDeviceSize: this.bytes.length,
      limits: DEFAULT_COMPRESSED_LIMITS,
      ...overrides,
    };
    if (this.packedNid !== 0 && ctx.packedNid === undefined && nid !== this.packedNid) {
      ctx.packedNid = this.packedNid;
      ctx.packedSize = 'packedSize' in overrides ? overrides.packedSize : this.context(this.packedNid).size;
      ctx.readPacked = async (o, n) => {
        this.packed ??= openCompressedFile(this.context(this.packedNid));
        const p = await this.packed;
        if (o + n > p.size) throw new RangeError(`fragment ${o}+${n} beyond packed inode size ${p.size}`);
        return p.read(o, n);
      };
    }
    return ctx;
  }

  open(nid: number, overrides: Partial<CompressedFileContext> = {}): Promise<CompressedFile> {
    return openCompressedFile(this.context(nid, overrides));
  }
}
