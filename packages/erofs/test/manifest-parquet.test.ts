/**
 * The columnar (Parquet) form carries the same manifest as NDJSON. Every fixture's
 * manifest (scanned with --hash, devices included) and property-generated manifests (any
 * record kind, xattrs with odd names, empty and arbitrary fingerprints, METABOX nids above
 * 2^53) are written as Parquet, read back and compared with the NDJSON form: equal objects and
 * the same NDJSON bytes. Hostile Parquet input gets a ManifestError.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManifestError } from '../src/errors.js';
import { manifestColumns, manifestToNdjson, parseManifest, StringTable } from '../src/manifest.js';
import type { FileRecord, Manifest } from '../src/manifest-types.js';
import { isParquet, manifestToParquet, parseParquetManifest, portableHex } from '../src/manifest-parquet.js';
import { scanImageFile } from '../src/node.js';
import { columnsByValue, expectFingerprintIndices } from './columns-by-value.js';

const PROPERTY_SEED = Number(process.env.SHAREMAP_PROPERTY_SEED ?? 20261205);
const DIR = join(import.meta.dirname, '../../../testdata/erofs');

async function expectSameManifest(m: Manifest): Promise<void> {
  const nd = [...manifestToNdjson(m)].join('');
  const fromNdjson = parseManifest(nd);
  const pq = manifestToParquet(m);
  expect(isParquet(pq)).toBe(true);
  const back = await parseParquetManifest(pq);
  expect(back).toStrictEqual(fromNdjson);
  // Same bytes as the NDJSON form read back (the parser writes header fields in its own order).
  expect([...manifestToNdjson(back)].join('')).toBe([...manifestToNdjson(fromNdjson)].join(''));
  // With a shared StringTable (how analyses read manifests) the values are the same too.
  const strings = new StringTable();
  expect(await parseParquetManifest(pq, { strings })).toStrictEqual(fromNdjson);
  // Read into columns (docs/manifest.md#columnar-in-memory-form): the same NDJSON bytes from the
  // columns, the same columns as the NDJSON form read into columns, the same records.
  const cols = await parseParquetManifest(pq, { columnar: true, strings: new StringTable() });
  expect(manifestColumns(cols)).toBeDefined();
  expect([...manifestToNdjson(cols)].join('')).toBe([...manifestToNdjson(fromNdjson)].join(''));
  expect(columnsByValue(manifestColumns(cols))).toStrictEqual(
    columnsByValue(manifestColumns(parseManifest(nd, { columnar: true }))),
  );
  // The columns name each fingerprint's index in the table (what the engine takes its ids from).
  expectFingerprintIndices(manifestColumns(cols)!);
  expect(cols).toStrictEqual(fromNdjson);
}

describe('Parquet manifest form', () => {
  const oracles = readdirSync(DIR).filter((f) => f.endsWith('.expected.json'));
  it('has fixtures to compare', () => expect(oracles.length).toBeGreaterThan(20));
  for (const oracle of oracles) {
    it(`carries the manifest of ${oracle.replace(/\.expected\.json$/, '')} (hashed)`, async () => {
      const o = JSON.parse(readFileSync(join(DIR, oracle), 'utf8')) as { image: string; devices?: string[] };
      const m = await scanImageFile(join(DIR, o.image), {
        hash: true,
        devices: (o.devices ?? []).map((d) => join(DIR, d)),
      });
      expect(m.files.length).toBeGreaterThan(0);
      await expectSameManifest(m);
    }, 60_000);
  }

  it('carries property-generated manifests (every record kind, METABOX nids, odd xattrs)', async () => {
    const hex = fc
      .uint8Array({ maxLength: 40 })
      .map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''));
    const sha = fc
      .uint8Array({ minLength: 32, maxLength: 32 })
      .map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''));
    const name = fc
      .stringMatching(/^[a-zA-Z0-9 ._\u00e9\u4e2d-]{1,10}$/)
      .filter((s) => s !== '.' && s !== '..');
    const rec = fc.record({
      dir: fc.constantFrom('', 'a', 'a/b', 'z z'),
      name,
      type: fc.constantFrom('file', 'dir', 'symlink', 'chr', 'blk', 'fifo', 'sock'),
      mode: fc.integer({ min: 0, max: 0o7777 }),
      uid: fc.integer({ min: 0, max: 0xffffffff }),
      size: fc.maxSafeNat(),
      nlink: fc.integer({ min: 0, max: 0xffffffff }),
      mtime: fc.maxSafeInteger(),
      nsec: fc.integer({ min: 0, max: 999_999_999 }),
      layout: fc.constantFrom(
        'flat_plain',
        'flat_inline',
        'compressed_full',
        'compressed_compact',
        'chunk_based',
      ),
      extended: fc.boolean(),
      xattrs: fc.dictionary(fc.string({ minLength: 1, maxLength: 8, unit: 'binary' }), hex, { maxKeys: 3 }),
      fp: fc.option(hex),
      sha,
      target: fc.stringMatching(/^[^\0]{1,30}$/),
      rdev: fc.tuple(fc.integer({ min: 0, max: 0xfff }), fc.integer({ min: 0, max: 0xfffff })),
    });
    const manifest = fc.record({
      records: fc.array(rec, { maxLength: 30 }),
      hashed: fc.boolean(),
      metabox: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(manifest, async ({ records, hashed, metabox }) => {
        const byPath = new Map<string, (typeof records)[number]>();
        for (const r of records) byPath.set(`/${r.dir ? r.dir + '/' : ''}${r.name}`, r);
        const enc = new TextEncoder();
        const paths = [
          '/',
          ...[...byPath.keys()].sort((a, b) => Buffer.compare(enc.encode(a), enc.encode(b))),
        ];
        let nidSeq = 36;
        const files: FileRecord[] = paths.map((path) => {
          const r = byPath.get(path);
          const type = path === '/' || !r ? 'dir' : (r.type as FileRecord['type']);
          nidSeq += 2;
          // METABOX: bit 63 set on every other inode (a decimal string), ino derived by the validator's rule.
          const big = metabox && nidSeq % 4 === 0;
          const nidBig = big ? (1n << 63n) | BigInt(nidSeq) : BigInt(nidSeq);
          const f: Record<string, unknown> = {
            path,
            nid: nidBig > BigInt(Number.MAX_SAFE_INTEGER) ? nidBig.toString() : Number(nidBig),
          };
          if (metabox) {
            const low = nidBig & 0x7fffffffffffffffn;
            const ino = Number((big ? 1n << 31n : 0n) | ((low >> 31n) << 32n) | (low & 0x7fffffffn));
            f.ino = ino;
          }
          Object.assign(f, {
            type,
            mode: (r?.mode ?? 0o755).toString(8).padStart(4, '0'),
            uid: r?.uid ?? 0,
            gid: r?.uid ?? 0,
            size: r?.size ?? 0,
            nlink: r?.nlink ?? 2,
            mtime: r?.mtime ?? 0,
            mtime_nsec: r?.nsec ?? 0,
            layout: r?.layout ?? 'flat_inline',
            inode_size: r?.extended ? 64 : 32,
            xattr_isize: r && Object.keys(r.xattrs).length ? 16 : 0,
          });
          if (type === 'symlink') f.target = r!.target;
          if (type === 'chr' || type === 'blk') f.rdev = r!.rdev;
          f.xattrs = Object.fromEntries(
            Object.entries(r?.xattrs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
          );
          f.fingerprint = r?.fp ?? null;
          if (hashed && type === 'file') f.sha256 = r!.sha;
          return f as unknown as FileRecord;
        });
        const m = {
          kind: 'sharemap-manifest',
          version: 2,
          image: { name: 'gen.img', size: 4096 },
          superblock: {
            block_size: 4096,
            blocks: 1,
            meta_blkaddr: 0,
            xattr_blkaddr: 0,
            root_nid: 38,
            ...(metabox ? { metabox_nid: 40 } : {}),
            inodes: files.length,
            sb_size: 128,
            feature_compat: ['ishare_xattrs'],
            feature_incompat: metabox ? ['metabox'] : [],
            uuid: '00000000-0000-4000-8000-000000000001',
            build_time: 0,
            ishare: true,
            fingerprint_xattr_name: 'erofs.fingerprint.v1',
            required_kernel: null,
            devices: [],
          },
          hashed,
          file_count: files.length,
          files,
        } as Manifest;
        await expectSameManifest(m);
      }),
      { seed: PROPERTY_SEED, numRuns: 150 },
    );
  }, 120_000);

  it('reads a file of many row groups one group at a time (records and columns)', async () => {
    const m = await scanImageFile(join(DIR, 'edge-mini.fp-trusted.img'), { hash: true });
    const want = parseManifest([...manifestToNdjson(m)].join(''));
    expect(want.files.length).toBeGreaterThan(20);
    for (const rowGroupRows of [1, 7, want.files.length - 1]) {
      const pq = manifestToParquet(m, rowGroupRows);
      expect(await parseParquetManifest(pq)).toStrictEqual(want);
      expect(await parseParquetManifest(pq, { columnar: true })).toStrictEqual(want);
    }
  });

  it('decodes bytes to the same hex without Node Buffer (the browser path)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        expect(portableHex(b)).toBe(Buffer.from(b).toString('hex'));
      }),
      { seed: PROPERTY_SEED },
    );
    expect(portableHex(Uint8Array.from([0x00, 0x0f, 0xa0, 0xff]))).toBe('000fa0ff');
  });

  it('refuses what is not a sharemap Parquet manifest', async () => {
    const m = parseManifest(
      readFileSync(join(DIR, 'app.fp.expected.json'), 'utf8').length > 0
        ? [...manifestToNdjson(await scanImageFile(join(DIR, 'app.fp.img')))].join('')
        : '',
    );
    const good = manifestToParquet(m);
    await expect(parseParquetManifest(new TextEncoder().encode('{"kind":1}'))).rejects.toThrow(
      /no PAR1 magic/,
    );
    // Truncated: the footer is gone.
    await expect(parseParquetManifest(good.subarray(0, good.length >> 1))).rejects.toBeInstanceOf(
      ManifestError,
    );
    // A record that breaks a rule (here: the sort order) is named by its NDJSON line.
    const swapped = { ...m, files: [m.files[0]!, m.files[2]!, m.files[1]!, ...m.files.slice(3)] };
    await expect(parseParquetManifest(manifestToParquet(swapped))).rejects.toThrow(/not sorted/);
    // file_count and row count must agree.
    const short = { ...m, files: m.files.slice(0, 5) };
    const pq = manifestToParquet(short);
    const lying = new TextDecoder('latin1').decode(pq).replace('"file_count":5', '"file_count":6');
    expect(lying).not.toBe(new TextDecoder('latin1').decode(pq));
    await expect(parseParquetManifest(Uint8Array.from(lying, (c) => c.charCodeAt(0)))).rejects.toThrow(
      /file_count/,
    );
  });
});
