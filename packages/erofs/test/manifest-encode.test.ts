/**
 * encodeRecord (the bytes `scan --ndjson` writes from a scan's fields) against the object path
 * (recordOf + JSON.stringify, i.e. manifestToNdjson): byte for byte on every image the repository
 * holds, on an image of hostile names (non-UTF-8, control characters, quotes, a BOM), and on
 * random fields; inlineFingerprint against resolving every xattr entry.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeName } from '../src/disk/bytes.js';
import { FT_NAMES } from '../src/disk/dirent.js';
import { LAYOUT_NAMES, type Inode } from '../src/disk/inode.js';
import { inlineFingerprint, parseXattrArea, resolveName, type LongPrefix } from '../src/disk/xattr.js';
import { openImage, type ErofsImage } from '../src/image.js';
import { encodeRecord, recordBound } from '../src/manifest-encode.js';
import {
  manifestToNdjson,
  recordOf,
  scanManifest,
  scanManifestTo,
  type RecordFields,
} from '../src/manifest.js';
import { nodeSha256, openImageFile } from '../src/node.js';
import { memorySource } from '../src/source/memory.js';
import { buildFlatImage, FLAT_BS, type FlatEntry } from './flat-image.js';
import { repositoryImages } from './repository-images.js';
import { concat, utf8, xattrArea, xattrEntry } from './synthetic-image.js';

const PROPERTY_SEED = Number(process.env.SHAREMAP_PROPERTY_SEED ?? 20261206);

/** The NDJSON lines of a scan written by encodeRecord through a field sink, as one buffer. */
async function fieldNdjson(image: ErofsImage, hash: boolean): Promise<Buffer> {
  const parts: Buffer[] = [];
  let buf = Buffer.alloc(0);
  let used = 0;
  await scanManifestTo(
    image,
    { imageName: 'x.img', imageSize: 1, hash, hasher: nodeSha256 },
    {
      header: (h) => {
        parts.push(Buffer.from(JSON.stringify(h) + '\n'));
      },
      file: (f) => {
        const need = recordBound(f) + 1;
        if (used + need > buf.length) {
          parts.push(buf.subarray(0, used));
          // Small buffers: the fixtures cross many buffer ends, as a 1 MiB one does at scale.
          buf = Buffer.alloc(Math.max(need, 4096));
          used = 0;
        }
        const end = encodeRecord(f, buf, used);
        expect(end - used).toBeLessThanOrEqual(need - 1);
        used = end;
        buf[used++] = 0x0a;
      },
    },
  );
  parts.push(buf.subarray(0, used));
  return Buffer.concat(parts);
}

async function objectNdjson(image: ErofsImage, hash: boolean): Promise<Buffer> {
  const m = await scanManifest(image, { imageName: 'x.img', imageSize: 1, hash, hasher: nodeSha256 });
  return Buffer.from([...manifestToNdjson(m)].join(''));
}

describe('encodeRecord: the bytes of recordOf + JSON.stringify', () => {
  const images = repositoryImages();

  it('covers the images it claims to (fingerprints, xattrs, long prefixes, METABOX, non-UTF-8 names)', () => {
    expect(images.map((i) => i.name)).toEqual(
      expect.arrayContaining([
        'erofs/app.fp.img',
        'erofs/edge.img',
        'erofs/edge-mini.fp-trusted.img',
        'erofs/edge-mini.tar-i.img',
        'erofs/synthetic/empty-fingerprint.img',
        'erofs/synthetic/metabox.plain.img',
        'erofs/metabox/mbox.metabox.fp.lz4hc.img',
        'oci/rootfs.img',
      ]),
    );
    expect(images.length).toBeGreaterThanOrEqual(40);
  });

  it.each(images.map((i) => [i.name, i] as const))(
    '%s, with and without hashes',
    async (_name, { path, devices }) => {
      const opened = await openImageFile(path, { devices });
      try {
        for (const hash of [false, true]) {
          const viaFields = await fieldNdjson(opened.image, hash);
          const viaObjects = await objectNdjson(opened.image, hash);
          expect(viaFields.length).toBe(viaObjects.length);
          expect(viaFields.equals(viaObjects)).toBe(true);
        }
      } finally {
        await opened.close();
      }
    },
    120_000,
  );

  it('an image of hostile names and targets: non-UTF-8, control characters, quotes, a BOM', async () => {
    // Names are written as ASCII placeholders of the same length and sort position, then
    // overwritten with their real bytes (dirBlock takes strings).
    const hostile: [string, number[]][] = [
      ['a"\\q', [0x61, 0x22, 0x5c, 0x71]], // quote, backslash: escaped
      ['b\x01\x1f\x7f', [0x62, 0x01, 0x1f, 0x7f]], // controls: \u0001 \u001f; DEL as is
      ['c\n\t\b', [0x63, 0x0a, 0x09, 0x08]],
      ['dxyz', [0x64, 0xff, 0xfe, 0x80]], // not UTF-8: U+FFFD each
      ['exxx', [0x65, 0xe2, 0x80, 0xa8]], // U+2028: JSON.stringify leaves it
      ['fxxx', [0x66, 0xed, 0xa0, 0x80]], // an encoded surrogate: invalid UTF-8
      ['gxxxx', [0x67, 0xf0, 0x9f, 0x98, 0x80]], // 4-byte UTF-8
      ['hxx', [0x68, 0xc3, 0xa9]], // é
      ['zzzz', [0xef, 0xbb, 0xbf, 0x7a]], // a leading BOM: the decoder drops it
    ];
    const entries: FlatEntry[] = hostile.map(([placeholder], i) => ({
      name: placeholder,
      kind: i % 3 === 2 ? 'symlink' : 'file',
      data: i % 3 === 2 ? Uint8Array.from([0x2e, 0x2f, ...hostile[i]![1], 0x22]) : utf8(`content ${i}`),
      perm: 0o644 | (i === 0 ? 0o4000 : 0),
      uid: i === 1 ? 4_000_000_000 : 0,
      gid: i,
      mtime: i === 3 ? 2 ** 32 - 1 : 1_700_000_000,
      xattrs:
        i === 4
          ? [
              ['na"me\\é', utf8('v')],
              ['a', new Uint8Array(0)],
            ]
          : [],
      fingerprint: i === 5 ? null : Uint8Array.from([i, 0xff, 0x00, 0x7f]),
    }));
    const bytes = buildFlatImage({ fingerprintName: 'erofs.fingerprint.v1', entries });
    const rootDir = bytes.subarray(FLAT_BS + 32, 2 * FLAT_BS);
    for (const [placeholder, real] of hostile) {
      const at = Buffer.from(rootDir).indexOf(Buffer.from(placeholder, 'latin1'));
      expect(at).toBeGreaterThan(0);
      rootDir.set(real, at);
    }
    const image = await openImage(memorySource(bytes));
    const m = await scanManifest(image, { imageName: 'x.img', imageSize: 1 });
    // The image holds what the test means: the names as decoded, the BOM dropped.
    expect(m.files.map((f) => f.path)).toEqual([
      '/',
      '/a"\\q',
      '/b\x01\x1f\x7f',
      '/c\n\t\b',
      '/d\ufffd\ufffd\ufffd',
      '/e\u2028',
      '/f\ufffd\ufffd\ufffd',
      '/g\u{1f600}',
      '/h\u00e9',
      '/z',
    ]);
    expect(m.files[5]!.xattrs).toEqual({ 'user.a': '', 'user.na"me\\é': '76' });
    for (const hash of [false, true]) {
      const viaFields = await fieldNdjson(image, hash);
      expect(viaFields.toString('utf8')).toBe((await objectNdjson(image, hash)).toString('utf8'));
    }
    // One line by hand: what the escaping looks like.
    expect((await fieldNdjson(image, false)).toString('utf8').split('\n')[3]).toContain(
      '"path":"/b\\u0001\\u001f\x7f"',
    );
  });
});

/** Bytes of a name that is not "/" or NUL, biased towards what JSON escapes and invalid UTF-8. */
const nameBytes = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0x20, max: 0x7e }),
      fc.constantFrom(0x01, 0x0a, 0x1f, 0x22, 0x5c, 0x7f, 0x80, 0xbf, 0xc3, 0xa9, 0xed, 0xef, 0xbb, 0xff),
      fc.integer({ min: 1, max: 255 }),
    ),
    { minLength: 1, maxLength: 12 },
  )
  .map((a) => Uint8Array.from(a.map((b) => (b === 0x2f ? 0x2e : b))));

const number = fc.oneof(
  fc.integer({ min: 0, max: 20 }),
  fc.integer({ min: 0, max: 0xffff_ffff }),
  fc.maxSafeNat(),
  fc.constantFrom(0, 9, 10, 99, 100, 2 ** 53, 2 ** 64, -1, 0.5, Number.NaN, -0),
  // where the digits' fast paths end: 32 bits, each power of ten up to 10^10
  fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 4_294_967_296.5, -(2 ** 31)),
  fc
    .integer({ min: 1, max: 10 })
    .chain((e) => fc.constantFrom(10 ** e - 1, 10 ** e, 10 ** e + 1, 10 ** e + 99, 10 ** e - 100)),
);

const fieldsArb = fc
  .record({
    names: fc.array(nameBytes, { maxLength: 4 }),
    // the path's place in a shared buffer (the walk's slab): bytes before and after it
    around: fc.tuple(fc.uint8Array({ maxLength: 5 }), fc.uint8Array({ maxLength: 5 })),
    nid: fc.oneof(number, fc.constantFrom('9223372036854775936', 'a"b')),
    ino: fc.option(fc.maxSafeNat(), { nil: undefined }),
    type: fc.constantFrom(...FT_NAMES.slice(1)), // every type but "unknown"
    mode: fc.integer({ min: 0, max: 0xffff }),
    nums: fc.array(number, { minLength: 8, maxLength: 8 }),
    layout: fc.constantFrom(...LAYOUT_NAMES),
    rdev: fc.option(fc.tuple(number, number), { nil: null }),
    target: fc.option(fc.string({ unit: 'binary', maxLength: 20 }), { nil: undefined }),
    xattrs: fc.option(
      fc.dictionary(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }).map((s) => `user.${s}`),
        fc.string({ maxLength: 10 }),
      ),
      { nil: null },
    ),
    fingerprint: fc.option(fc.uint8Array({ maxLength: 48 }), { nil: null }),
    sha256: fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: undefined }),
  })
  .map((r): RecordFields => {
    const pathBytes =
      r.names.length === 0
        ? Uint8Array.of(0x2f)
        : concat(...r.names.flatMap((n) => [Uint8Array.of(0x2f), n]));
    const path = r.names.length === 0 ? '/' : r.names.map((n) => '/' + decodeName(n)).join('');
    const [uid, gid, size, nlink, mtime, mtimeNsec, inodeSize, xattrIsize] = r.nums as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    // Only the fields a record reads; the rest of an Inode does not matter here.
    const inode = {
      type: r.type,
      mode: r.mode,
      uid,
      gid,
      size,
      nlink,
      mtime,
      mtimeNsec,
      layoutName: r.layout,
      inodeSize,
      xattrIsize,
      rdev: r.rdev,
    } as unknown as Inode;
    // Bytes JSON would escape or that are not ASCII around the path: read outside its bounds,
    // they change the output.
    const [before, after] = r.around.map((b) => b.map((x) => (x < 0x80 ? 0x22 : x)));
    const pathBuf = concat(before!, pathBytes, after!);
    return {
      path,
      pathBytes,
      pathBuf,
      pathStart: before!.length,
      pathLength: pathBytes.length,
      inode,
      nid: r.nid,
      ino: r.ino,
      xattrs: r.xattrs,
      fingerprint: r.fingerprint,
      target: r.target,
      sha256: r.sha256,
    };
  });

describe('encodeRecord on random fields', () => {
  it('writes JSON.stringify(recordOf(f)) as UTF-8, within recordBound(f)', () => {
    fc.assert(
      fc.property(fieldsArb, fc.integer({ min: 0, max: 7 }), (f, at) => {
        const out = new Uint8Array(at + recordBound(f));
        const end = encodeRecord(f, out, at);
        expect(Buffer.from(out.subarray(at, end)).toString('utf8')).toBe(JSON.stringify(recordOf(f)));
        expect(Buffer.from(out.subarray(at, end)).equals(Buffer.from(JSON.stringify(recordOf(f))))).toBe(
          true,
        );
      }),
      { seed: PROPERTY_SEED, numRuns: 3000 },
    );
  });
});

describe('inlineFingerprint', () => {
  /** What the scan computed before: every entry resolved, the first whose full name is fpName. */
  function slow(area: Uint8Array, prefixes: LongPrefix[], fpName: string | null, max: number) {
    const h = parseXattrArea(area, 0, 1, max);
    const names = h.inline.map((e) => ({ ...resolveName(e, prefixes), value: e.value }));
    const fp = fpName === null ? undefined : names.find((n) => n.full === fpName);
    return { shared: h.sharedIds.length, listed: names.some((n) => n.listed), fp: fp ? fp.value : null };
  }

  const prefixes: LongPrefix[] = [
    { base: 0, infix: utf8('erofs.fingerprint.v1') },
    { base: 4, infix: utf8('erofs.') },
    { base: 0, infix: utf8('erofs.\u00e9') },
    { base: 9, infix: utf8('x') },
    { base: 0, infix: utf8('erofs.fingerprint') },
  ];
  const entry = fc
    .record({
      index: fc.constantFrom(0, 0, 1, 2, 4, 5, 6, 9, 0x80, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x90),
      suffix: fc.constantFrom('', '', '.v1', 'erofs.fingerprint.v1', 'fingerprint.v1', 'a', '\u00e9'),
      value: fc.uint8Array({ maxLength: 40 }),
    })
    .map((e) => xattrEntry(e.index, e.suffix, e.value));

  it('is the slow path result whenever it gives one, and gives one for hidden ASCII names', () => {
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 6 }),
        fc.boolean(),
        fc.constantFrom<string | null>('erofs.fingerprint.v1', 'trusted.erofs.fingerprint', null),
        fc.integer({ min: 1, max: 8 }),
        (entries, shared, fpName, max) => {
          const area = xattrArea(shared ? [3] : [], entries);
          let want: ReturnType<typeof slow> | Error;
          try {
            want = slow(area, prefixes, fpName, max);
          } catch (e) {
            want = e as Error;
          }
          const got = inlineFingerprint(area, max, prefixes, fpName);
          // The same area read in place inside a larger buffer (a block cache's memory), with
          // bytes around it that would read as more entries: the same answer.
          const around = new Uint8Array(area.length + 40).fill(0x01);
          around.set(area, 7);
          const inPlace = inlineFingerprint(around, max, prefixes, fpName, 7, area.length);
          expect(inPlace === undefined || inPlace === null ? inPlace : [...inPlace]).toEqual(
            got === undefined || got === null ? got : [...got],
          );
          if (want instanceof Error || want.shared || want.listed) {
            expect(got).toBeUndefined(); // the slow path says what (or refuses)
            return;
          }
          if (got === undefined) {
            // Only a non-ASCII hidden name may decline here: the decoder decides what it equals.
            expect(
              entries.some((e) => e.subarray(4, 4 + e[0]!).some((b) => b >= 0x80)) ||
                entries.some((e) => e[1] === 0x82),
            ).toBe(true);
            return;
          }
          expect(got === null ? null : [...got]).toEqual(want.fp === null ? null : [...want.fp]);
        },
      ),
      { seed: PROPERTY_SEED, numRuns: 3000 },
    );
  });

  it('finds the fingerprint of a mkfs-style area and declines a listed xattr', () => {
    const fp = Uint8Array.from([1, 2, 3]);
    const area = xattrArea([], [xattrEntry(0x80, '', fp), xattrEntry(0, 'other', Uint8Array.of(9))]);
    expect([...inlineFingerprint(area, 10, prefixes, 'erofs.fingerprint.v1')!]).toEqual([1, 2, 3]);
    expect(inlineFingerprint(area, 10, prefixes, null)).toBeNull();
    expect(inlineFingerprint(area, 1, prefixes, 'erofs.fingerprint.v1')).toBeUndefined(); // over the limit
    expect(inlineFingerprint(xattrArea([], [xattrEntry(1, 'a', fp)]), 10, prefixes, 'x')).toBeUndefined();
  });
});
