/**
 * The Parquet reader's column path (manifest-parquet-columns.ts, manifest-parquet-rows.ts) against
 * the NDJSON parser and against hyparquet's general reader: random manifests written with random
 * writer settings (row groups of any size, pages of any size, dictionary or PLAIN pages, Snappy
 * or none) read into the same columns as their NDJSON form; a hostile value in any cell of any
 * column gives the same outcome (the same manifest, or the same ManifestError: message, line,
 * field) by both paths; files of other encodings are read by the general reader.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { parquetWriteBuffer, type ColumnSource } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { ManifestError } from '../src/errors.js';
import { manifestColumns, manifestToNdjson, parseManifest, StringTable } from '../src/manifest.js';
import type { FileRecord, Manifest } from '../src/manifest-types.js';
import {
  manifestParquetColumns,
  manifestParquetMetadata,
  parseParquetManifest,
  type ParquetReadHow,
} from '../src/manifest-parquet.js';
import {
  manifestForTransfer,
  manifestFromTransfer,
  ManifestStringsHandover,
  scanImageFile,
} from '../src/node.js';
import { columnsByValue, expectFingerprintIndices } from './columns-by-value.js';

const PROPERTY_SEED = Number(process.env.SHAREMAP_PROPERTY_SEED ?? 20261206);
const DIR = join(import.meta.dirname, '../../../testdata/erofs');

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Writer settings: row group rows, page bytes, codec, and which string columns are written PLAIN. */
const writeOptions = fc.record({
  rowGroupRows: fc.integer({ min: 1, max: 40 }),
  pageSize: fc.constantFrom(16, 100, 1024, 1 << 20),
  codec: fc.constantFrom('SNAPPY' as const, 'UNCOMPRESSED' as const),
  plain: fc.subarray(['dir', 'name', 'type', 'layout', 'mode', 'uid']),
  dictionarySize: fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined }),
});
type WriteOptions = typeof writeOptions extends fc.Arbitrary<infer T> ? T : never;

function write(m: Manifest, o: WriteOptions, columns = manifestParquetColumns(m)): Uint8Array {
  const columnData: ColumnSource[] = columns.map((c) =>
    o.plain.includes(c.name) ? { ...c, encoding: 'PLAIN' } : c,
  );
  return new Uint8Array(
    parquetWriteBuffer({
      columnData,
      kvMetadata: manifestParquetMetadata(m),
      rowGroupSize: o.rowGroupRows,
      pageSize: o.pageSize,
      codec: o.codec,
      ...(o.dictionarySize === undefined ? {} : { dictionarySize: o.dictionarySize }),
    }),
  );
}

const newStats = (): NonNullable<ParquetReadHow['stats']> => ({
  groupsByColumns: 0,
  groupsGeneral: 0,
  rowsFast: 0,
});

/** A non-METABOX manifest header (its records are replaced). */
const FIXTURE_HEADER: Omit<Manifest, 'files'> = await (async () => {
  const { files: _files, ...header } = await scanImageFile(join(DIR, 'app.fp.img'));
  return header;
})();

/** A random valid manifest: a tree of paths, every record kind, some xattrs, hashed or not. */
const randomManifest = fc
  .record({
    names: fc.uniqueArray(fc.stringMatching(/^[a-z0-9\u00e9._-]{1,6}$/), { maxLength: 40 }),
    hashed: fc.boolean(),
    seed: fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
  })
  .filter(({ names }) => names.every((n) => n !== '.' && n !== '..'))
  .map(({ names, hashed, seed }): Manifest => {
    // Names nest under the directory names before them (a few levels), sorted by path bytes.
    const enc = new TextEncoder();
    const paths = names.map((n, k) => (k % 3 === 0 || k < 2 ? `/${n}` : `/${names[k % 2]}/${n}`));
    const dirs = new Set(paths.filter((p) => paths.some((q) => q.startsWith(`${p}/`))));
    const sorted = ['/', ...new Set(paths)].sort((a, b) => Buffer.compare(enc.encode(a), enc.encode(b)));
    const types = ['file', 'file', 'file', 'symlink', 'chr', 'blk', 'fifo', 'sock'] as const;
    const files = sorted.map((path, k): FileRecord => {
      const s = seed[k % seed.length]! + k;
      const type = path === '/' || dirs.has(path) ? 'dir' : types[s % types.length]!;
      const f: FileRecord = {
        path,
        nid: 36 + 2 * k,
        type,
        mode: ((s * 37) % 0o10000).toString(8).padStart(4, '0'),
        uid: s % 3 === 0 ? 0 : (s % 4096) * 1000,
        gid: s % 2,
        size: type === 'file' ? s * 4093 : 0,
        nlink: type === 'dir' ? 2 : 1,
        mtime: s % 5 === 0 ? -s : 1_700_000_000 + s,
        mtime_nsec: (s * 7919) % 1_000_000_000,
        layout: (['flat_plain', 'flat_inline', 'compressed_full', 'chunk_based'] as const)[s % 4]!,
        inode_size: s % 2 ? 64 : 32,
        xattr_isize: s % 4 === 0 ? 0 : 12 + 4 * (s % 9),
        xattrs: s % 6 === 1 ? { 'user.k': (s % 256).toString(16).padStart(2, '0') } : {},
        fingerprint: s % 5 === 2 ? null : type === 'file' ? hexOf(enc.encode(`sha256:${s % 7}`)) : '',
      };
      if (type === 'symlink') f.target = `../t${s}`;
      if (type === 'chr' || type === 'blk') f.rdev = [s % 0x1000, s % 0x100000];
      if (hashed && type === 'file') f.sha256 = hexOf(new Uint8Array(32).fill(s % 256));
      return f;
    });
    // The header of a scanned fixture, with this manifest's counts.
    const { superblock } = FIXTURE_HEADER;
    return {
      ...FIXTURE_HEADER,
      superblock: { ...superblock, inodes: files.length },
      hashed,
      file_count: files.length,
      files,
    };
  });

describe('Parquet manifest: the column path', () => {
  it("reads random manifests, written with any row groups, pages, dictionaries and codec, into the NDJSON form's columns", async () => {
    await fc.assert(
      fc.asyncProperty(randomManifest, writeOptions, async (m, o) => {
        const nd = [...manifestToNdjson(m)].join('');
        const pq = write(m, o);
        const stats = newStats();
        const strings = new StringTable();
        const cols = await parseParquetManifest(pq, { columnar: true, strings }, { stats });
        // Every group by the column path, every record accepted straight from the columns but
        // those that list xattrs (the record checks read their JSON).
        expect(stats.groupsGeneral).toBe(0);
        expect(stats.groupsByColumns).toBe(Math.ceil(m.files.length / o.rowGroupRows));
        expect(stats.rowsFast).toBe(m.files.filter((f) => Object.keys(f.xattrs).length === 0).length);
        expect(columnsByValue(manifestColumns(cols))).toStrictEqual(
          columnsByValue(manifestColumns(parseManifest(nd, { columnar: true }))),
        );
        expectFingerprintIndices(manifestColumns(cols)!);
        expect([...manifestToNdjson(cols)].join('')).toBe([...manifestToNdjson(parseManifest(nd))].join(''));
        // Records too, and the general reader's columns.
        expect(await parseParquetManifest(pq)).toStrictEqual(parseManifest(nd));
        const general = await parseParquetManifest(pq, { columnar: true }, { columnPath: false });
        expect(columnsByValue(manifestColumns(general))).toStrictEqual(columnsByValue(manifestColumns(cols)));
        // The general reader given a table declares it too (its rows are interned at the same slots).
        const generalInterned = await parseParquetManifest(
          pq,
          { columnar: true, strings: new StringTable() },
          { columnPath: false },
        );
        expectFingerprintIndices(manifestColumns(generalInterned)!);
        // Read as a manifest thread reads it (strings handed over, ASCII ones as bytes) and taken
        // over into a table: the same columns, the same table as the sequential read.
        const handed = await handedOverRead(pq);
        expect(handed.asBytes).toBe(
          m.files.filter(
            (f) => Object.keys(f.xattrs).length === 0 && [...f.path].every((ch) => ch.charCodeAt(0) < 0x80),
          ).length,
        );
        expect(columnsByValue(manifestColumns(handed.manifest))).toStrictEqual(
          columnsByValue(manifestColumns(cols)),
        );
        expect(tableStrings(handed.table)).toStrictEqual(tableStrings(strings));
      }),
      { seed: PROPERTY_SEED, numRuns: 120 },
    );
  }, 180_000);

  it("gives the general reader's outcome for a hostile value in any cell (same manifest or same error)", async () => {
    const base = await scanImageFile(join(DIR, 'edge-mini.fp-trusted.img'), { hash: true });
    const m = parseManifest([...manifestToNdjson(base)].join(''));
    const columns = manifestParquetColumns(m);
    const rows = m.files.length;
    const cell = fc.record({
      column: fc.integer({ min: 0, max: columns.length - 1 }),
      row: fc.integer({ min: 0, max: rows - 1 }),
      int: fc.oneof(
        fc.constantFrom(
          -1,
          0,
          1,
          12,
          13,
          32,
          64,
          0o7777,
          0o10000,
          0xfff,
          0x1000,
          0xfffff,
          0x100000,
          999_999_999,
          1e9,
        ),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      ),
      big: fc.oneof(
        fc.constantFrom(
          -1n,
          0n,
          2n ** 32n,
          2n ** 32n - 1n,
          2n ** 53n - 1n,
          2n ** 53n,
          -(2n ** 53n),
          -(2n ** 63n),
        ),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      ),
      str: fc.oneof(
        fc.constantFrom(
          '',
          '.',
          '..',
          '/',
          'a/b',
          'x\0y',
          'file',
          'dir',
          'symlink',
          'chr',
          'bogus',
          'flat_plain',
          '{}',
          '{"user.a":"0f"}',
          '{"user.a":"x"}',
          'not json',
          '\u00e9',
          '\ufeffa',
        ),
        fc.string({ maxLength: 8 }),
      ),
      bytes: fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.constant(new Uint8Array(32))),
      nul: fc.boolean(),
      options: writeOptions,
    });
    await fc.assert(
      fc.asyncProperty(cell, async (c) => {
        const col = columns[c.column]!;
        const data = Array.from(col.data as ArrayLike<unknown>);
        const nullable = col.nullable !== false;
        data[c.row] =
          nullable && c.nul
            ? null
            : col.type === 'INT64'
              ? c.big
              : col.type === 'INT32'
                ? c.int
                : col.type === 'STRING'
                  ? c.str
                  : c.bytes;
        const typed =
          col.type === 'INT64' && !nullable
            ? BigInt64Array.from(data as bigint[])
            : col.type === 'INT32' && !nullable
              ? Int32Array.from(data as number[])
              : data;
        const pq = write(
          m,
          c.options,
          columns.map((k, i) => (i === c.column ? { ...k, data: typed } : k)) as ColumnSource[],
        );
        const stats = newStats();
        const byColumns = await outcome(
          parseParquetManifest(pq, { columnar: true, strings: new StringTable() }, { stats }),
        );
        expect(stats.groupsByColumns).toBeGreaterThan(0);
        expect(byColumns).toStrictEqual(
          await outcome(parseParquetManifest(pq, { columnar: true }, { columnPath: false })),
        );
        // The same outcome read as a manifest thread reads it (paths checked as bytes).
        expect(await outcome(handedOverRead(pq).then((h) => h.manifest))).toStrictEqual(byColumns);
        expect(await outcome(parseParquetManifest(pq))).toStrictEqual(
          await outcome(parseParquetManifest(pq, {}, { columnPath: false })),
        );
      }),
      { seed: PROPERTY_SEED, numRuns: 150 },
    );
  }, 300_000);

  it('reads files of encodings it does not decode (DELTA pages) through the general reader, with the same result', async () => {
    const m = parseManifest(
      [...manifestToNdjson(await scanImageFile(join(DIR, 'app.fp.img'), { hash: true }))].join(''),
    );
    const columns = manifestParquetColumns(m).map((c) =>
      c.name === 'name' ? { ...c, encoding: 'DELTA_BYTE_ARRAY' as const } : c,
    );
    const pq = new Uint8Array(
      parquetWriteBuffer({ columnData: columns, kvMetadata: manifestParquetMetadata(m), rowGroupSize: 5 }),
    );
    const stats = newStats();
    const read = await parseParquetManifest(pq, { columnar: true }, { stats });
    expect(stats).toStrictEqual({
      groupsByColumns: 0,
      groupsGeneral: Math.ceil(m.files.length / 5),
      rowsFast: 0,
    });
    expect(columnsByValue(manifestColumns(read))).toStrictEqual(
      columnsByValue(manifestColumns(parseManifest([...manifestToNdjson(m)].join(''), { columnar: true }))),
    );
  });
});

/** A handover that counts the records given as bytes. */
class CountingHandover extends ManifestStringsHandover {
  asBytes = 0;
  override addAscii(...args: Parameters<ManifestStringsHandover['addAscii']>): void {
    this.asBytes++;
    super.addAscii(...args);
  }
}

/**
 * `pq` read as a manifest thread reads it (ManifestStringsHandover, manifestForTransfer) and taken
 * over by another table (manifestFromTransfer); `asBytes`: the records whose strings came as bytes.
 */
async function handedOverRead(
  pq: Uint8Array,
): Promise<{ manifest: Manifest; table: StringTable; asBytes: number }> {
  const handover = new CountingHandover();
  const read = await parseParquetManifest(pq, { columnar: true }, { handOver: handover });
  const { message, transfer } = manifestForTransfer(read, handover.strings());
  const table = new StringTable();
  const manifest = manifestFromTransfer(structuredClone(message, { transfer }), table, null);
  return { manifest, table, asBytes: handover.asBytes };
}

/** Every string of a table, in its order. */
function tableStrings(t: StringTable): string[] {
  return Array.from({ length: t.size }, (_, k) => t.stringAt(k)!);
}

/** A read's outcome: its columns (records made from them) or its error's message, line and field. */
async function outcome(p: Promise<Manifest>): Promise<unknown> {
  try {
    const m = await p;
    return { files: m.files };
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    return { message: e.message, line: e.line, field: e.field };
  }
}
