// Mutation fuzzing of the EROFS reader, shared by the bounded run in `npm test`
// (robustness.test.ts, reader from TypeScript source) and the long run of `pnpm fuzz`
// (scripts/fuzz.mjs, reader from packages/erofs/dist). Plain ESM with no imports so that
// both can load it; the reader is passed in (`api`).
//
// A case is a list of concrete operations (`ops`) applied to a fixture image: replaying the
// same ops on the same image gives the same bytes, so a case is described by its JSON.
// Operations: bit flips, random bytes, overwrites of on-disk fields with boundary values,
// zeroed or copied runs, truncation; the superblock checksum is usually recomputed afterwards
// so that mutations reach past the superblock check (docs/format.md#sb-checksum).

/** Deterministic PRNG in [0, 1). */
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    s = (s ^ (s >>> 12)) >>> 0;
    return s / 2 ** 32;
  };
}

/** Seed of case `index` of a run with seed `seed` (cases can be replayed one by one). */
export function caseSeed(seed, index) {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

// ------------------------------------------------------------------ superblock checksum (docs/format.md#sb-checksum)

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** Recompute the superblock CRC32C in place when SB_CHKSUM is set and the bytes allow it. */
export function fixSuperblockChecksum(b) {
  if (b.length < 1024 + 128) return false;
  const compat = b[1032] | (b[1033] << 8) | (b[1034] << 16) | (b[1035] << 24);
  if (!(compat & 1)) return false;
  const bits = b[1036];
  if (bits < 9 || bits > 16) return false;
  const bs = 2 ** bits;
  const len = bs > 1024 ? bs - 1024 : bs;
  if (1024 + len > b.length) return false;
  let crc = 0xffffffff;
  for (let i = 1024; i < 1024 + len; i++) {
    const x = i >= 1028 && i < 1032 ? 0 : b[i];
    crc = (CRC_TABLE[(crc ^ x) & 0xff] ^ (crc >>> 8)) >>> 0;
  }
  b[1028] = crc & 0xff;
  b[1029] = (crc >>> 8) & 0xff;
  b[1030] = (crc >>> 16) & 0xff;
  b[1031] = crc >>> 24;
  return true;
}

// ------------------------------------------------------------------ operations

/** Boundary values per field width (little-endian, as byte arrays built by writeField). */
const BOUNDARY = {
  1: [0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 8, 12, 16, 31, 32],
  2: [0, 1, 2, 0x7fff, 0x8000, 0xfffe, 0xffff, 0xff, 0x100, 12, 0x800, 0x7ff, 0x1000, 0xfff],
  4: [
    0, 1, 2, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0xffff, 0x10000, 0x1000, 0x1001, 0xfff, 0x100000,
    0x1fffff, 0x200000, 0xc00000,
  ],
  8: [
    0n,
    1n,
    2n,
    0x7fffffffffffffffn,
    0x8000000000000000n,
    0x8000000000000001n,
    0xffffffffffffffffn,
    0xffffffffn,
    0x100000000n,
    0x1fffffffffffffn,
    0x20000000000000n,
    0xffffffffffffn,
    0x1000000000000n,
  ],
};

function writeField(b, offset, width, value) {
  if (offset < 0 || offset + width > b.length) return;
  let v = BigInt(value);
  for (let i = 0; i < width; i++) {
    b[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/**
 * Apply `ops` to a copy of `base` (the copy is returned; `base` is untouched). Every op is
 * concrete, so this is also the replay of a saved case.
 */
export function applyOps(base, ops) {
  let b = base.slice();
  for (const op of ops) {
    switch (op.op) {
      case 'flip':
        if (op.offset < b.length) b[op.offset] ^= 1 << op.bit;
        break;
      case 'byte':
        if (op.offset < b.length) b[op.offset] = op.value;
        break;
      case 'field':
        writeField(b, op.offset, op.width, BigInt(op.value));
        break;
      case 'zero':
        b.fill(0, Math.min(op.offset, b.length), Math.min(op.offset + op.length, b.length));
        break;
      case 'copy': {
        const n = Math.min(op.length, b.length - op.from, b.length - op.to);
        if (n > 0) b.copyWithin(op.to, op.from, op.from + n);
        break;
      }
      case 'truncate':
        b = b.slice(0, Math.min(op.length, b.length));
        break;
      case 'crc':
        fixSuperblockChecksum(b);
        break;
      default:
        throw new Error(`unknown fuzz op ${JSON.stringify(op)}`);
    }
  }
  return b;
}

/** Short human form of a case's ops (for logs). */
export function describeOps(ops) {
  return ops
    .map((o) => {
      switch (o.op) {
        case 'flip':
          return `flip ${o.offset}.${o.bit}`;
        case 'byte':
          return `byte ${o.offset}=0x${o.value.toString(16)}`;
        case 'field':
          return `field ${o.offset}:${o.width}=0x${BigInt(o.value).toString(16)}`;
        case 'zero':
          return `zero ${o.offset}+${o.length}`;
        case 'copy':
          return `copy ${o.from}->${o.to}+${o.length}`;
        case 'truncate':
          return `truncate ${o.length}`;
        default:
          return o.op;
      }
    })
    .join(', ');
}

// ------------------------------------------------------------------ where to mutate

/** Superblock fields (offset from 1024, width), docs/format.md#superblock. */
const SB_FIELDS = [
  [0, 4],
  [8, 4],
  [12, 1],
  [13, 1],
  [14, 2],
  [16, 8],
  [24, 8],
  [32, 4],
  [36, 4],
  [40, 4],
  [44, 4],
  [80, 4],
  [84, 2],
  [86, 2],
  [88, 2],
  [90, 1],
  [91, 1],
  [92, 4],
  [96, 8],
  [104, 1],
  [105, 1],
  [108, 4],
  [112, 8],
  [128, 8],
];
const COMPACT_FIELDS = [
  [0, 2],
  [2, 2],
  [4, 2],
  [6, 2],
  [8, 4],
  [12, 4],
  [16, 4],
  [24, 2],
  [26, 2],
];
const EXTENDED_FIELDS = [
  [0, 2],
  [2, 2],
  [4, 2],
  [6, 2],
  [8, 8],
  [16, 4],
  [24, 4],
  [28, 4],
  [32, 8],
  [40, 4],
  [44, 4],
];
/** Dirent fields of the first entries of a block (docs/format.md#dirent). */
const DIRENT_FIELDS = [0, 1, 2, 3].flatMap((i) => [
  [12 * i, 8],
  [12 * i + 8, 2],
  [12 * i + 10, 1],
]);
/** Map header fields (docs/format.md#map-header) and the first index entries. */
const ZHEADER_FIELDS = [
  [0, 4],
  [2, 2],
  [4, 2],
  [6, 1],
  [7, 1],
  [0, 8],
  [8, 2],
  [10, 2],
  [12, 4],
  [16, 2],
  [18, 2],
  [20, 4],
  [24, 2],
  [26, 2],
  [28, 4],
];
/** Xattr header (docs/format.md#xattr-ibody) and the first entry. */
const XATTR_FIELDS = [
  [0, 4],
  [4, 1],
  [12, 4],
  [12, 1],
  [13, 1],
  [14, 2],
  [16, 1],
  [17, 1],
  [18, 2],
];

/**
 * Interesting byte ranges of a clean image, found with the reader itself: the superblock
 * and what follows it, every inode with its xattrs and what follows (inline data, chunk
 * table, map header and indexes), directory blocks, pclusters, the shared xattr area.
 * Returns `{ kind, offset, length, fields? }[]`.
 */
export async function collectRegions(api, image, opts = {}) {
  const maxInodes = opts.maxInodes ?? 20_000;
  const regions = [];
  const sb = image.superblock;
  const bs = sb.blockSize;
  // Structures inside the metabox (METABOX, docs/format.md#containers) are mutated where its data is stored
  // as is (FLAT_PLAIN / uncompressed pclusters); compressed metabox pclusters get mutated as
  // pclusters.
  let metaExtents = [];
  if (sb.featureIncompat & 0x100) {
    const mb = await image.inode(sb.metaboxNid);
    metaExtents = (await image.layoutOfInode(mb)).extents;
    for (const x of metaExtents.slice(0, 64))
      if (x.physicalAddr !== null && x.device === 0)
        regions.push({ kind: 'pcluster', offset: x.physicalAddr, length: Math.min(x.physicalLength, bs) });
  }
  const add = (inMetabox, region) => {
    if (!inMetabox) return void regions.push(region);
    const x = metaExtents.find(
      (e) =>
        (e.kind === 'data' || e.kind === 'shifted') &&
        e.physicalAddr !== null &&
        region.offset >= e.logicalStart &&
        region.offset + region.length <= e.logicalStart + e.logicalLength,
    );
    if (!x) return;
    const d = x.physicalAddr - x.logicalStart;
    regions.push({
      ...region,
      offset: region.offset + d,
      ...(region.fields ? { fields: region.fields.map(([o, w]) => [o + d, w]) } : {}),
    });
  };
  regions.push({
    kind: 'superblock',
    offset: 1024,
    length: sb.sbSize,
    fields: SB_FIELDS.filter(([o]) => o < sb.sbSize).map(([o, w]) => [1024 + o, w]),
  });
  regions.push({ kind: 'superblock', offset: 1024 + sb.sbSize, length: 96 }); // compr cfgs, prefixes
  if (sb.devices.length) regions.push({ kind: 'superblock', offset: sb.devtSlotoff * 128, length: 128 });
  add((sb.featureCompat & 0x08) !== 0 && metaExtents.length > 0, {
    kind: 'xattr',
    offset: sb.xattrBlkaddr * bs,
    length: Math.min(bs, 2048),
  });
  const seen = new Set();
  const inodes = [];
  for await (const e of api.walk(image)) {
    if (seen.has(e.inode.nid)) continue;
    seen.add(e.inode.nid);
    inodes.push(e.inode);
    if (inodes.length >= maxInodes) break;
  }
  if (sb.packedNid) inodes.push(await image.inode(sb.packedNid));
  let compressed = 0;
  for (const ino of inodes) {
    const fields = (ino.inodeSize === 64 ? EXTENDED_FIELDS : COMPACT_FIELDS).map(([o, w]) => [
      ino.offset + o,
      w,
    ]);
    add(ino.inMetabox, { kind: 'inode', offset: ino.offset, length: ino.inodeSize, fields });
    if (ino.xattrIsize)
      add(ino.inMetabox, {
        kind: 'xattr',
        offset: ino.offset + ino.inodeSize,
        length: ino.xattrIsize,
        fields: XATTR_FIELDS.filter(([o, w]) => o + w <= ino.xattrIsize).map(([o, w]) => [
          ino.offset + ino.inodeSize + o,
          w,
        ]),
      });
    const isZ = ino.layout === 1 || ino.layout === 3;
    if (isZ) {
      const h = Math.ceil(ino.dataOffset / 8) * 8;
      add(ino.inMetabox, {
        kind: 'zmeta',
        offset: h,
        length: 64,
        fields: ZHEADER_FIELDS.map(([o, w]) => [h + o, w]),
      });
    } else if (ino.layout === 4 || (ino.layout === 2 && ino.size > 0)) {
      add(ino.inMetabox, {
        kind: 'inode',
        offset: ino.dataOffset,
        length: Math.min(64, Math.max(8, ino.size)),
      });
    }
    if (ino.type === 'dir' || (isZ && compressed < 400)) {
      let layout;
      try {
        layout = await image.layoutOfInode(ino);
      } catch {
        continue;
      }
      if (isZ) compressed++;
      for (const x of layout.extents.slice(0, 8)) {
        if (x.device !== 0) continue;
        if (x.physicalAddr === null) {
          // inline data of a metabox inode: right after its xattrs
          if (ino.inMetabox && x.kind === 'inline' && ino.type === 'dir')
            add(true, {
              kind: 'dir',
              offset: ino.dataOffset,
              length: Math.min(x.logicalLength, bs),
              fields: DIRENT_FIELDS.map(([o, w]) => [ino.dataOffset + o, w]),
            });
          continue;
        }
        if (ino.type === 'dir')
          regions.push({
            kind: 'dir',
            offset: x.physicalAddr,
            length: Math.min(x.logicalLength, bs),
            fields: DIRENT_FIELDS.map(([o, w]) => [x.physicalAddr + o, w]),
          });
        else
          regions.push({
            kind: 'pcluster',
            offset: x.physicalAddr,
            length: Math.min(x.physicalLength, bs),
          });
      }
    }
  }
  return regions.filter((r) => r.length > 0);
}

/** Every path of a clean image (for images without an oracle). */
export async function cleanPaths(api, image) {
  const out = [];
  for await (const e of api.walk(image)) out.push(e.path);
  return out;
}

const KIND_WEIGHTS = [
  ['superblock', 0.12],
  ['inode', 0.3],
  ['dir', 0.18],
  ['xattr', 0.1],
  ['zmeta', 0.12],
  ['pcluster', 0.08],
  ['any', 0.1],
];

function pick(r, arr) {
  return arr[Math.floor(r() * arr.length)];
}

/**
 * Draw the ops of one case: 1-3 mutations in interesting regions of an image of `size`
 * bytes, then (usually) a superblock checksum fix. `regions` come from collectRegions().
 */
export function drawCase(r, size, regions) {
  const byKind = new Map();
  for (const g of regions) {
    if (g.offset >= size) continue;
    if (!byKind.has(g.kind)) byKind.set(g.kind, []);
    byKind.get(g.kind).push(g);
  }
  const kinds = KIND_WEIGHTS.filter(([k]) => k === 'any' || byKind.has(k));
  const total = kinds.reduce((a, [, w]) => a + w, 0);
  const region = () => {
    let x = r() * total;
    for (const [k, w] of kinds) {
      x -= w;
      if (x < 0 || k === kinds[kinds.length - 1][0])
        return k === 'any' ? { kind: 'any', offset: 0, length: size } : pick(r, byKind.get(k));
    }
    throw new Error('unreachable');
  };
  const at = (g) => Math.min(size - 1, g.offset + Math.floor(r() * g.length));
  const ops = [];
  const n = 1 + Math.floor(r() * r() * 3.5);
  for (let i = 0; i < n; i++) {
    const g = region();
    const x = r();
    if (x < 0.25) {
      const k = 1 + Math.floor(r() * 4);
      for (let j = 0; j < k; j++) ops.push({ op: 'flip', offset: at(g), bit: Math.floor(r() * 8) });
    } else if (x < 0.4) {
      ops.push({ op: 'byte', offset: at(g), value: Math.floor(r() * 256) });
    } else if (x < 0.8) {
      let off;
      let width;
      if (g.fields && g.fields.length && r() < 0.85) [off, width] = pick(r, g.fields);
      else {
        width = pick(r, [1, 2, 4, 8]);
        off = at(g) & ~(width - 1);
      }
      const value = pick(r, BOUNDARY[width]);
      ops.push({ op: 'field', offset: off, width, value: String(value) });
    } else if (x < 0.86) {
      const len = Math.max(1, Math.floor(r() * Math.min(g.length, 4096)));
      ops.push({ op: 'zero', offset: at(g), length: len });
    } else if (x < 0.93) {
      // copy one region over another of the same kind (duplicate inodes, dirents, headers)
      const h = g.kind === 'any' ? region() : pick(r, byKind.get(g.kind) ?? [g]);
      const len = Math.max(1, Math.min(g.length, h.length, 1 + Math.floor(r() * 128)));
      ops.push({ op: 'copy', from: h.offset, to: g.offset, length: len });
    } else {
      const y = r();
      let len;
      if (y < 0.3) len = Math.floor(r() * size);
      else if (y < 0.6) len = g.offset + Math.floor(r() * g.length);
      else if (y < 0.8) len = Math.floor((r() * size) / 4096) * 4096;
      else len = pick(r, [0, 1024, 1024 + 127, 1024 + 128, 4096, size - 1, Math.floor(size / 2)]);
      ops.push({ op: 'truncate', length: Math.max(0, Math.min(size, len)) });
    }
  }
  if (r() < 0.9) ops.push({ op: 'crc' });
  return ops;
}

// ------------------------------------------------------------------ running a case

/** Reader limits of fuzz cases: small enough that a bounded allocation stays small. */
export const FUZZ_LIMITS = Object.freeze({
  maxReadFileSize: 1 << 24,
  maxContentSize: 1 << 26,
  maxDirEntries: 50_000,
  maxInodesWalked: 50_000,
});

/**
 * Whether `e` is an acceptable outcome: a typed ErofsError whose cause chain holds no
 * untyped error (the reader wraps unexpected decompressor errors as ECORRUPT; a TypeError
 * or RangeError underneath is a bug all the same).
 */
export function isTypedError(api, e) {
  if (!(e instanceof api.ErofsError)) return false;
  let c = e.cause;
  for (let depth = 0; c !== undefined && depth < 8; depth++) {
    if (!(c instanceof api.ErofsError) && !(c instanceof Error && c.name === 'CompressedDataError'))
      return false;
    c = c.cause;
  }
  return true;
}

/**
 * The bytes as a reader source: synchronous (memory: readInto, as files are read) or, with
 * `asyncOnly`, through `read` alone (as a browser Blob is): the reader's two read paths.
 */
export function fuzzSource(api, bytes, asyncOnly = false) {
  const mem = api.memorySource(bytes);
  return asyncOnly ? { size: mem.size, read: (o, l) => mem.read(o, l) } : mem;
}

/**
 * Everything a user of the reader does with an image: open, full manifest scan with content
 * hashing, then per path lstat, listxattr, getxattr, layoutOf, readdir / readlink / readFile
 * and a streamed read. `paths` (from the clean image) are tried even when the scan failed, so
 * that one early error does not hide the rest of the image. Typed errors are collected in
 * `codes`; anything else is thrown.
 */
export async function exerciseImage(api, bytes, opts = {}) {
  const codes = new Map();
  const note = (e) => {
    if (!isTypedError(api, e)) throw e;
    codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
  };
  let img;
  try {
    img = await api.openImage(fuzzSource(api, bytes, opts.asyncOnly), {
      limits: FUZZ_LIMITS,
      ...(opts.devices ? { devices: opts.devices.map((d) => fuzzSource(api, d, opts.asyncOnly)) } : {}),
    });
  } catch (e) {
    note(e);
    return { scan: codes.keys().next().value, codes };
  }
  let scan = 'ok';
  try {
    await api.scanManifest(img, {
      imageName: 'x',
      imageSize: bytes.length,
      hash: true,
      hasher: api.nodeSha256,
    });
  } catch (e) {
    note(e);
    scan = e.code;
  }
  for (const p of opts.paths ?? []) {
    try {
      const st = await img.lstat(p);
      const names = await img.listxattr(p);
      // getxattr of a present and of an absent name (the bloom filter path, docs/format.md#xattr-filter)
      if (names.length) await img.getxattr(p, names[0]);
      try {
        await img.getxattr(p, 'user.fuzz.absent');
      } catch (e) {
        if (!(isTypedError(api, e) && e.code === 'ENODATA')) note(e);
      }
      await img.layoutOf(p);
      if (st.isDirectory()) await img.readdir(p, { withFileTypes: true });
      else if (st.isSymbolicLink()) await img.readlink(p);
      else if (st.isFile()) {
        await img.readFile(p);
        let n = 0;
        for await (const c of img.createReadStream(p, { chunkSize: 65536 }))
          if ((n += c.length) > 1 << 20) break;
      }
    } catch (e) {
      note(e);
    }
  }
  return { scan, codes };
}

/** Bounded in-process scan (the robustness test's outcome): 'ok' or the ErofsError code. */
export async function scanOutcome(api, bytes, asyncOnly = false) {
  try {
    const img = await api.openImage(fuzzSource(api, bytes, asyncOnly), { limits: FUZZ_LIMITS });
    await api.scanManifest(img, {
      imageName: 'x',
      imageSize: bytes.length,
      hash: true,
      hasher: api.nodeSha256,
    });
    return 'ok';
  } catch (e) {
    if (isTypedError(api, e)) return e.code;
    throw e;
  }
}
