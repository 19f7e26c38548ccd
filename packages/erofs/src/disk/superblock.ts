/**
 * Superblock (docs/format.md#superblock): fields, feature names, checksum, device table and compression
 * configuration records. Mirrors the kernel's erofs_read_superblock() order (docs/format.md#open-sequence).
 */
import { ErofsError } from '../errors.js';
import {
  EROFS_SUPER_MAGIC,
  EROFS_SUPER_OFFSET,
  MAX_BLKSZBITS,
  MAX_COMPR_CFG_SIZE,
  MAX_EXTRA_DEVICES,
  MAX_SB_SIZE,
  MAX_XATTR_PREFIXES,
  MIN_BLKSZBITS,
} from '../limits.js';
import type { ByteSource } from '../source/types.js';
import { latin1, le16, le32, le64, le64n, roundUp } from './bytes.js';

/** A NUL-terminated field: the text before the first NUL (indexOf: linear, unlike /\0.*$/s). */
function cString(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}
import { crc32cUpdate } from './crc32c.js';
import { decodeNid, nidKey } from './nid.js';

// docs/format.md#feature-compat
export const COMPAT_SB_CHKSUM = 0x01;
export const COMPAT_MTIME = 0x02;
export const COMPAT_XATTR_FILTER = 0x04;
export const COMPAT_SHARED_EA_IN_METABOX = 0x08;
export const COMPAT_PLAIN_XATTR_PFX = 0x10;
export const COMPAT_ISHARE_XATTRS = 0x20;
// docs/format.md#feature-incompat
export const INCOMPAT_LZ4_0PADDING = 0x001;
export const INCOMPAT_COMPR_CFGS = 0x002;
export const INCOMPAT_BIG_PCLUSTER = 0x002;
export const INCOMPAT_CHUNKED_FILE = 0x004;
export const INCOMPAT_DEVICE_TABLE = 0x008;
export const INCOMPAT_ZTAILPACKING = 0x010;
export const INCOMPAT_FRAGMENTS = 0x020;
export const INCOMPAT_DEDUPE = 0x020;
export const INCOMPAT_XATTR_PREFIXES = 0x040;
export const INCOMPAT_48BIT = 0x080;
export const INCOMPAT_METABOX = 0x100;
export const INCOMPAT_ALL = 0x1ff;

/** Feature names in dump.erofs order, with the kernel release dump.erofs attributes to each. */
const COMPAT_FEATURES: readonly (readonly [number, string])[] = [
  [COMPAT_SB_CHKSUM, 'sb_csum'],
  [COMPAT_MTIME, 'mtime'],
  [COMPAT_XATTR_FILTER, 'xattr_filter'],
  [COMPAT_SHARED_EA_IN_METABOX, 'shared_ea_in_metabox'],
  [COMPAT_PLAIN_XATTR_PFX, 'plain_xattr_pfx'],
  [COMPAT_ISHARE_XATTRS, 'ishare_xattrs'],
];
const INCOMPAT_FEATURES: readonly (readonly [number, string, string])[] = [
  [INCOMPAT_LZ4_0PADDING, 'lz4_0padding', '5.4'],
  [INCOMPAT_COMPR_CFGS, 'compr_cfgs', '5.13'],
  [INCOMPAT_BIG_PCLUSTER, 'big_pcluster', '5.13'],
  [INCOMPAT_CHUNKED_FILE, 'chunked_file', '5.15'],
  [INCOMPAT_DEVICE_TABLE, 'device_table', '5.16'],
  [INCOMPAT_ZTAILPACKING, 'ztailpacking', '5.17'],
  [INCOMPAT_FRAGMENTS, 'fragments', '6.1'],
  [INCOMPAT_DEDUPE, 'dedupe', '6.1'],
  [INCOMPAT_XATTR_PREFIXES, 'xattr_prefixes', '6.4'],
  [INCOMPAT_48BIT, '48bit', '6.15'],
  [INCOMPAT_METABOX, 'metabox', '6.17'],
];
/** Algorithm ids (docs/format.md#compressed-fs) with names as dump.erofs prints them and their minimum kernel. */
export const COMPR_ALGS: readonly (readonly [string, string | null])[] = [
  ['lz4', null],
  ['lzma', '5.16'],
  ['deflate', '6.6'],
  ['zstd', '6.10'],
];

export interface DeviceSlot {
  /** Device id (slot index + 1). */
  id: number;
  tag: string;
  blocks: number;
  /** Start block in the unified address space (`uniaddr`). */
  mappedBlkaddr: number;
  /** Absolute offset of the slot (for error messages). */
  offset: number;
}

export interface ComprCfgRecord {
  /** Algorithm id 0..3 (docs/format.md#compressed-fs). */
  alg: number;
  /** Absolute offset of the le16 length field. */
  offset: number;
  /** Raw payload bytes (length as stored). */
  payload: Uint8Array;
}

export interface Superblock {
  checksum: number;
  /** True when SB_CHKSUM was set and the CRC32C matched (docs/format.md#sb-checksum). */
  checksumVerified: boolean;
  featureCompat: number;
  featureIncompat: number;
  compatNames: string[];
  incompatNames: string[];
  blkszbits: number;
  blockSize: number;
  sbExtslots: number;
  sbSize: number;
  /** Root inode as a key (disk/nid.ts): the nid, or the kernel's inode number with METABOX. */
  rootNid: number;
  inodes: number;
  epoch: number;
  fixedNsec: number;
  /** Primary device block count (48-bit aware, docs/format.md#root-nid). */
  blocks: number;
  /** Primary plus all device-table blocks: what statfs and dump.erofs report (docs/format.md#root-nid). */
  totalBlocks: number;
  metaBlkaddr: number;
  xattrBlkaddr: number;
  uuid: string;
  volumeName: string;
  /** Bit set of algorithms (docs/format.md#compressed-fs), derived for non-COMPR_CFGS images. */
  availableComprAlgs: number;
  /** Raw offset-84 value when COMPR_CFGS is clear. */
  lz4MaxDistance: number;
  /** Raw extra-device count (0 when DEVICE_TABLE is clear). */
  extraDevices: number;
  devtSlotoff: number;
  dirblkbits: number;
  xattrPrefixCount: number;
  xattrPrefixStart: number;
  /** Packed inode as a key (disk/nid.ts); 0 = none. */
  packedNid: number;
  xattrFilterReserved: number;
  ishareXattrPrefixId: number;
  /** Raw build_time field (offset 108). */
  buildTimeField: number;
  /** Image creation time in seconds = epoch + build_time (docs/format.md#inode-times). */
  buildTime: number;
  /** On-disk nid of the metabox inode (METABOX, docs/format.md#packed-metabox; never in the metabox); 0 = none. */
  metaboxNid: number;
  devices: DeviceSlot[];
  /** device_id_mask (docs/format.md#device-table). */
  deviceIdMask: number;
  comprCfgs: ComprCfgRecord[];
  /** "required kernel" as dump.erofs -s prints it, null when it prints none (no incompat feature). */
  requiredKernel: string | null;
  /** Whether any compressed inode may exist (docs/format.md#compressed-fs). */
  compressed: boolean;
}

function bad(message: string, offset: number): ErofsError {
  return new ErofsError('EINVAL_SUPERBLOCK', message, { offset });
}

function versionGreater(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return false;
}

function formatUuid(b: Uint8Array): string {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Compute the "required kernel" version the way dump.erofs does: newest release among the
 * incompat features present and the compression algorithms available. */
export function requiredKernel(featureIncompat: number, availableComprAlgs: number): string | null {
  let best: string | null = null;
  for (const [bit, , ver] of INCOMPAT_FEATURES) {
    if (featureIncompat & bit && (best === null || versionGreater(ver, best))) best = ver;
  }
  COMPR_ALGS.forEach(([, ver], alg) => {
    if (ver && availableComprAlgs & (1 << alg) && (best === null || versionGreater(ver, best))) best = ver;
  });
  return best;
}

export function featureNames(compat: number, incompat: number): { compat: string[]; incompat: string[] } {
  return {
    compat: COMPAT_FEATURES.filter(([bit]) => compat & bit).map(([, n]) => n),
    incompat: INCOMPAT_FEATURES.filter(([bit]) => incompat & bit).map(([, n]) => n),
  };
}

/**
 * Decode the fixed superblock fields from `sb` (bytes starting at absolute 1024, at least
 * 128 bytes; 144 to include metabox_nid). Pure: no checksum, no device table.
 */
export function decodeSuperblock(
  sb: Uint8Array,
  imageSize: number,
): Omit<Superblock, 'checksumVerified' | 'devices' | 'comprCfgs' | 'totalBlocks'> {
  const at = (o: number) => EROFS_SUPER_OFFSET + o;
  if (sb.length < 128) throw bad(`superblock needs 128 bytes, have ${sb.length}`, at(0));
  const magic = le32(sb, 0);
  if (magic !== EROFS_SUPER_MAGIC) {
    throw new ErofsError(
      'EBADMAGIC',
      `not an EROFS image: bad superblock magic 0x${magic.toString(16).padStart(8, '0')} (want 0xe0f5e1e2)`,
      {
        offset: at(0),
      },
    );
  }
  const featureCompat = le32(sb, 8);
  const blkszbits = sb[12]!;
  if (blkszbits < MIN_BLKSZBITS || blkszbits > MAX_BLKSZBITS) {
    throw bad(`unsupported blkszbits ${blkszbits} (want ${MIN_BLKSZBITS}..${MAX_BLKSZBITS})`, at(12));
  }
  const blockSize = 1 << blkszbits;
  const sbExtslots = sb[13]!;
  const sbSize = 128 + 16 * sbExtslots;
  if (sbSize > MAX_SB_SIZE || EROFS_SUPER_OFFSET + sbSize > imageSize) {
    throw bad(`invalid sb_extslots ${sbExtslots} (superblock size ${sbSize})`, at(13));
  }
  const featureIncompat = le32(sb, 80);
  if (featureIncompat & ~INCOMPAT_ALL) {
    throw bad(
      `unidentified incompatible feature 0x${(featureIncompat & ~INCOMPAT_ALL).toString(16)}`,
      at(80),
    );
  }
  const dirblkbits = sb[90]!;
  if (dirblkbits !== 0) throw bad(`dirblkbits ${dirblkbits} isn't supported`, at(90));
  const is48 = (featureIncompat & INCOMPAT_48BIT) !== 0;
  const metabox = (featureIncompat & INCOMPAT_METABOX) !== 0;
  // docs/format.md#root-nid
  const rootnid8 = le64n(sb, 112);
  let rootNidBig: bigint;
  let blocks = le32(sb, 36);
  if (is48 && rootnid8 !== 0n) {
    rootNidBig = rootnid8;
    blocks += le16(sb, 14) * 0x1_0000_0000;
  } else {
    rootNidBig = BigInt(le16(sb, 14));
  }
  // nids become keys (disk/nid.ts): the kernel's inode numbers, = nids without METABOX
  const rootNid = decodeNid(rootNidBig, metabox, 'root nid', at(rootNidBig === rootnid8 ? 112 : 14));
  const packedBig = le64n(sb, 96);
  if (packedBig >> 63n) throw new ErofsError('ECORRUPT', `packed nid has bit 63 set`, { offset: at(96) });
  const packedNid = nidKey(packedBig, metabox);
  if (packedNid === null) throw bad(`packed nid ${packedBig} out of range`, at(96));
  let metaboxNid = 0;
  if (metabox) {
    // docs/format.md#sb-size, docs/format.md#validate-superblock item 7: metabox_nid lives in the first extension slot and must
    // not point into the metabox itself
    if (sbSize < 144)
      throw new ErofsError('ECORRUPT', `METABOX needs sb_size >= 144, have ${sbSize}`, { offset: at(13) });
    const big = le64n(sb, 128);
    if (big >> 63n)
      throw new ErofsError('ECORRUPT', `metabox nid has bit 63 set (the metabox inside itself)`, {
        offset: at(128),
      });
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`metabox nid ${big} out of range`, at(128));
    metaboxNid = Number(big);
  } else if (sbSize >= 144) {
    const v = le64(sb, 128);
    metaboxNid = Number.isNaN(v) ? 0 : v;
  }
  const hasCfgs = (featureIncompat & INCOMPAT_COMPR_CFGS) !== 0;
  const raw84 = le16(sb, 84);
  let availableComprAlgs: number;
  let lz4MaxDistance = 0;
  if (hasCfgs) {
    availableComprAlgs = raw84;
    if (availableComprAlgs & ~0xf) {
      throw new ErofsError('ENOTSUP', `unknown compression algorithms 0x${availableComprAlgs.toString(16)}`, {
        offset: at(84),
      });
    }
  } else {
    lz4MaxDistance = raw84;
    availableComprAlgs = featureIncompat & INCOMPAT_LZ4_0PADDING || raw84 !== 0 ? 1 : 0; // docs/format.md#compressed-fs
  }
  const extraDevices = featureIncompat & INCOMPAT_DEVICE_TABLE ? le16(sb, 86) : 0;
  const xattrPrefixCount = sb[91]!;
  if (xattrPrefixCount > MAX_XATTR_PREFIXES)
    throw new ErofsError('ECORRUPT', `xattr_prefix_count ${xattrPrefixCount} > ${MAX_XATTR_PREFIXES}`, {
      offset: at(91),
    });
  const ishareXattrPrefixId = sb[105]!;
  // docs/format.md#fingerprints item 2
  if (featureCompat & COMPAT_ISHARE_XATTRS && ishareXattrPrefixId >= xattrPrefixCount) {
    throw new ErofsError(
      'ECORRUPT',
      `invalid ishare xattr prefix id ${ishareXattrPrefixId} (prefix count ${xattrPrefixCount})`,
      { offset: at(105) },
    );
  }
  const epoch = le64(sb, 24);
  const buildTimeField = le32(sb, 108);
  const names = featureNames(featureCompat, featureIncompat);
  const inodes = le64(sb, 16);
  return {
    checksum: le32(sb, 4),
    featureCompat,
    featureIncompat,
    compatNames: names.compat,
    incompatNames: names.incompat,
    blkszbits,
    blockSize,
    sbExtslots,
    sbSize,
    rootNid,
    inodes: Number.isNaN(inodes) ? Number.MAX_SAFE_INTEGER : inodes,
    epoch: Number.isNaN(epoch) ? 0 : epoch,
    fixedNsec: le32(sb, 32),
    blocks,
    metaBlkaddr: le32(sb, 40),
    xattrBlkaddr: le32(sb, 44),
    uuid: formatUuid(sb.subarray(48, 64)),
    volumeName: cString(latin1(sb.subarray(64, 80))),
    availableComprAlgs,
    lz4MaxDistance,
    extraDevices,
    devtSlotoff: le16(sb, 88),
    dirblkbits,
    xattrPrefixCount,
    xattrPrefixStart: le32(sb, 92),
    packedNid,
    xattrFilterReserved: sb[104]!,
    ishareXattrPrefixId,
    buildTimeField,
    buildTime: (Number.isNaN(epoch) ? 0 : epoch) + buildTimeField,
    metaboxNid,
    deviceIdMask: extraDevices ? 2 ** Math.ceil(Math.log2(extraDevices + 1)) - 1 : 0,
    requiredKernel: requiredKernel(featureIncompat, availableComprAlgs),
    compressed: availableComprAlgs !== 0,
  };
}

/** Superblock CRC32C over [1024, 1024 + len) with the checksum field zeroed (docs/format.md#sb-checksum). */
export function superblockChecksum(region: Uint8Array): number {
  const copy = region.slice();
  copy[4] = copy[5] = copy[6] = copy[7] = 0;
  return crc32cUpdate(0xffffffff, copy);
}

/**
 * An image file shorter than the blocks its superblock counts (the kernel's
 * primarydevice_blocks) lost its tail, e.g. a partial copy: openImage says so at once, rather
 * than as some later read past the end. (readSuperblock itself also reads a superblock from
 * the head of an image alone.)
 */
export function checkNotTruncated(sb: Pick<Superblock, 'blocks' | 'blockSize'>, size: number): void {
  const declared = sb.blocks * sb.blockSize;
  if (declared > size)
    throw new ErofsError(
      'EIO',
      `truncated image: the superblock counts ${sb.blocks} blocks of ${sb.blockSize} bytes (${declared} bytes), the file has ${size}`,
      { offset: size },
    );
}

/** Read, validate and decode the superblock and the structures it points at (docs/format.md#open-sequence steps 1-3). */
export async function readSuperblock(src: ByteSource): Promise<Superblock> {
  if (src.size < EROFS_SUPER_OFFSET + 128) {
    // A short file cannot hold a superblock; report it as "not EROFS" if the magic is absent too.
    if (src.size >= EROFS_SUPER_OFFSET + 4) {
      const m = le32(await src.read(EROFS_SUPER_OFFSET, 4), 0);
      if (m !== EROFS_SUPER_MAGIC)
        throw new ErofsError('EBADMAGIC', `not an EROFS image: bad superblock magic 0x${m.toString(16)}`, {
          offset: 1024,
        });
    }
    throw new ErofsError('EBADMAGIC', `not an EROFS image: ${src.size} bytes is too small for a superblock`, {
      offset: EROFS_SUPER_OFFSET,
    });
  }
  const headLen = Math.min(src.size - EROFS_SUPER_OFFSET, 256);
  const head = await src.read(EROFS_SUPER_OFFSET, headLen);
  const f = decodeSuperblock(head, src.size);
  const bs = f.blockSize;
  let checksumVerified = false;
  if (f.featureCompat & COMPAT_SB_CHKSUM) {
    const len = bs > EROFS_SUPER_OFFSET ? bs - EROFS_SUPER_OFFSET : bs;
    if (EROFS_SUPER_OFFSET + len > src.size)
      throw new ErofsError('EIO', `image too short for the checksummed superblock block (${len} bytes)`, {
        offset: EROFS_SUPER_OFFSET,
      });
    const crc = superblockChecksum(await src.read(EROFS_SUPER_OFFSET, len));
    if (crc !== f.checksum) {
      throw bad(
        `superblock checksum mismatch: stored 0x${f.checksum.toString(16)}, computed 0x${crc.toString(16)}`,
        EROFS_SUPER_OFFSET + 4,
      );
    }
    checksumVerified = true;
  }
  // docs/format.md#compr-cfgs: compression configuration records right after the superblock.
  const comprCfgs: ComprCfgRecord[] = [];
  if (f.featureIncompat & INCOMPAT_COMPR_CFGS) {
    let pos = EROFS_SUPER_OFFSET + f.sbSize;
    for (let alg = 0; alg < 4; alg++) {
      if (!(f.availableComprAlgs & (1 << alg))) continue;
      pos = roundUp(pos, 4);
      if (pos + 2 > src.size)
        throw new ErofsError('EIO', `compression config record for ${COMPR_ALGS[alg]![0]} past the end`, {
          offset: pos,
        });
      const raw = le16(await src.read(pos, 2), 0);
      const len = raw === 0 ? MAX_COMPR_CFG_SIZE : raw;
      if (pos + 2 + len > src.size)
        throw new ErofsError('EIO', `compression config record (${len} bytes) past the end`, { offset: pos });
      comprCfgs.push({ alg, offset: pos, payload: (await src.read(pos + 2, len)).slice() });
      pos += 2 + len;
    }
  }
  // docs/format.md#device-table: device table.
  const devices: DeviceSlot[] = [];
  if (f.extraDevices > MAX_EXTRA_DEVICES)
    throw bad(
      `implausible extra_devices ${f.extraDevices} (> ${MAX_EXTRA_DEVICES})`,
      EROFS_SUPER_OFFSET + 86,
    );
  if (f.extraDevices > 0) {
    const start = f.devtSlotoff * 128;
    const tableLen = f.extraDevices * 128;
    if (start + tableLen > src.size)
      throw new ErofsError('EIO', `device table (${f.extraDevices} slots) past the end of the image`, {
        offset: start,
      });
    const t = await src.read(start, tableLen);
    const is48 = (f.featureIncompat & INCOMPAT_48BIT) !== 0;
    for (let k = 0; k < f.extraDevices; k++) {
      const o = k * 128;
      const tag = cString(latin1(t.subarray(o, o + 64)));
      const blocks = le32(t, o + 64) + (is48 ? le16(t, o + 72) * 0x1_0000_0000 : 0);
      const mappedBlkaddr = le32(t, o + 68) + (is48 ? le16(t, o + 74) * 0x1_0000_0000 : 0);
      devices.push({ id: k + 1, tag, blocks, mappedBlkaddr, offset: start + o });
    }
  }
  const totalBlocks = devices.reduce((n, d) => n + d.blocks, f.blocks);
  return { ...f, checksumVerified, comprCfgs, devices, totalBlocks };
}
