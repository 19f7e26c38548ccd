/**
 * The columnar form of stored manifests (src/scan/stored-columns.ts): a report made from it is
 * the same bytes as one made from the NDJSON (fixture fleets and a generated 10k-record
 * manifest, comparing the stored report blobs, whose names are their sha256); a damaged one
 * (cut, a flipped byte, another version) is logged, the NDJSON is read instead and the report
 * is the same; and it is deleted with its manifest blob (release, discard, collect, sweep).
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  manifestColumns,
  manifestHeader,
  manifestToNdjson,
  ManifestStreamValidator,
  StringTable,
  type Manifest,
} from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import { buildAnalysisInput } from '@sharemap/sharing';
import { createLogger } from '../src/log.js';
import { canonicalManifest } from '../src/manifest-stream.js';
import { runAnalysis } from '../src/scan/analysis.js';
import { readManifestForReport, readManifestsForReport, writeColumns } from '../src/scan/stored-columns.js';
import { BlobStore } from '../src/storage/blobs.js';
import type { AnalyzeTask } from '../src/scan/tasks.js';

const ERofs = path.join(import.meta.dirname, '../../../testdata/erofs');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function newStore(): BlobStore {
  const d = mkdtempSync(path.join(tmpdir(), 'sharemap-columns-'));
  dirs.push(d);
  return new BlobStore(d);
}

async function* asBuffers(lines: Iterable<string>): AsyncGenerator<Buffer> {
  for (const s of lines) yield Buffer.from(s);
}

/** Stores NDJSON manifests as an upload does (validated, canonical) and makes the analysis task of one instance per image. */
async function storedTask(store: BlobStore, manifests: string[][]): Promise<AnalyzeTask> {
  const images = [];
  for (const [k, lines] of manifests.entries()) {
    const validator = new ManifestStreamValidator({});
    const blob = await store.putGzip(canonicalManifest(asBuffers(lines), validator, {}));
    const header = validator.end();
    images.push({ header, name: `${k}-${header.image.name}`, aliases: [`m${k}`], payload: blob.sha256 });
  }
  const built = buildAnalysisInput({
    images,
    mountConfigs: [],
    mapping: {},
    publishers: {},
    domainAssignments: {},
  });
  return {
    kind: 'analyze',
    dataDir: store.dataDir,
    images: built.images.map((i) => ({ image: i.image, manifestBlob: i.payload })),
    instances: built.instances,
    options: {},
    createdAt: '2026-12-06T00:00:00.000Z',
  };
}

const ndjsonLines = (m: Manifest): string[] => [...manifestToNdjson(m)];

/** A valid manifest of `n` records: base-v1's root and a regular file's fields, under 100 folders, every 7th content repeated. */
async function generated(n: number): Promise<string[]> {
  const base = await scanImageFile(path.join(ERofs, 'base-v1.fp.img'), { hash: true });
  const dirT = base.files.find((f) => f.path === '/')!;
  const fileT = base.files.find((f) => f.type === 'file' && f.size > 0 && f.sha256)!;
  const header = { ...manifestHeader(base), image: { name: 'gen.img', size: 1 << 30 }, file_count: n };
  const out = [JSON.stringify(header) + '\n'];
  let nid = 36;
  const dir = (p: string): string => JSON.stringify({ ...dirT, path: p, nid: (nid += 2), nlink: 2 }) + '\n';
  out.push(dir('/'));
  const folders = 100;
  const files = n - 1 - folders;
  let k = 0;
  for (let d = 0; d < folders; d++) {
    const folder = `/d${String(d).padStart(3, '0')}`;
    out.push(dir(folder));
    for (const end = Math.floor(((d + 1) * files) / folders); k < end; k++) {
      const content = k % 7 === 6 ? k - 6 : k;
      const sha = content.toString(16).padStart(64, '0');
      out.push(
        JSON.stringify({
          ...fileT,
          path: `${folder}/f${String(k).padStart(6, '0')}`,
          nid: (nid += 2),
          size: 1 + ((content * 2654435761) % 400_000),
          fingerprint: '7368613235363a' + sha,
          sha256: sha,
        }) + '\n',
      );
    }
  }
  return out;
}

async function fleet(): Promise<string[][]> {
  const out = [];
  for (const img of ['base-v1.fp.img', 'base-v2.fp.img', 'app.fp.img', 'edge-mini.fp-trusted.img'])
    out.push(ndjsonLines(await scanImageFile(path.join(ERofs, img), { hash: true })));
  return out;
}

function capture(): {
  log: ReturnType<typeof createLogger>;
  lines: { level: string; msg: string; problem?: string }[];
} {
  const lines: { level: string; msg: string; problem?: string }[] = [];
  return { log: createLogger('info', (l) => lines.push(JSON.parse(l))), lines };
}

async function sources(store: BlobStore, task: AnalyzeTask): Promise<string[]> {
  const out = [];
  for (const { manifestBlob } of task.images)
    out.push((await readManifestForReport(store, manifestBlob, new StringTable())).source);
  return out;
}

describe('columnar form of stored manifests', () => {
  for (const [name, make] of [
    ['a fixture fleet', fleet],
    ['a generated 10k-record manifest', async () => [await generated(10_000)]],
  ] as const) {
    it(
      `makes the same report bytes from the columns as from the NDJSON: ${name}`,
      { timeout: 120_000 },
      async () => {
        const store = newStore();
        const task = await storedTask(store, await make());
        const first = capture();
        const fromNdjson = await runAnalysis(task, undefined, first.log);
        // The first report read the NDJSON (no columnar form yet) and wrote the columns.
        expect(first.lines.map((l) => l.msg)).toEqual(
          task.images.map(() => 'manifest has no columnar form yet: read its NDJSON'),
        );
        for (const i of task.images) expect(existsSync(store.columnsPath(i.manifestBlob))).toBe(true);
        const second = capture();
        const fromColumns = await runAnalysis(task, undefined, second.log);
        expect(second.lines).toEqual([]);
        expect(await sources(store, task)).toEqual(task.images.map(() => 'columns'));
        expect(fromColumns.reportBlob).toBe(fromNdjson.reportBlob);
        expect(fromColumns.summaryBlob).toBe(fromNdjson.summaryBlob);
        expect(fromColumns.filesBlob).toBe(fromNdjson.filesBlob);
        expect(fromColumns.inputBlob).toBe(fromNdjson.inputBlob);
      },
    );
  }

  describe('a damaged columnar file', () => {
    const damages: [string, (file: string) => void, RegExp][] = [
      ['cut short', (f) => truncateSync(f, Math.floor(readFileSync(f).length / 2)), /truncated|CRC-32/],
      [
        'a flipped byte',
        (f) => {
          const b = readFileSync(f);
          b[Math.floor(b.length / 2)]! ^= 0x40;
          writeFileSync(f, b);
        },
        /CRC-32/,
      ],
      [
        'another version (its CRC-32 right)',
        (f) => {
          const b = readFileSync(f);
          b.writeUInt32LE(99, 8);
          b.writeUInt32LE(crc32(b.subarray(0, b.length - 4)), b.length - 4);
          writeFileSync(f, b);
        },
        /version 99/,
      ],
      ['empty', (f) => writeFileSync(f, ''), /0 bytes/],
    ];
    for (const [what, damage, problem] of damages) {
      it(
        `${what}: is logged, the NDJSON read instead and the report the same`,
        { timeout: 120_000 },
        async () => {
          const store = newStore();
          const task = await storedTask(store, await fleet());
          const good = await runAnalysis(task);
          const victim = task.images[1]!.manifestBlob;
          damage(store.columnsPath(victim));
          const c = capture();
          const again = await runAnalysis(task, undefined, c.log);
          expect(c.lines).toHaveLength(1);
          expect(c.lines[0]).toMatchObject({ level: 'warn', manifest: victim });
          expect(c.lines[0]!.problem).toMatch(problem);
          expect(again.reportBlob).toBe(good.reportBlob);
          expect(again.filesBlob).toBe(good.filesBlob);
          // Written again from the NDJSON: the next report reads columns.
          expect(await sources(store, task)).toEqual(task.images.map(() => 'columns'));
        },
      );
    }
  });

  describe('deleted with its manifest blob', () => {
    async function withColumns(): Promise<{ store: BlobStore; sha: string }> {
      const store = newStore();
      const task = await storedTask(store, [
        ndjsonLines(await scanImageFile(path.join(ERofs, 'app.fp.img'))),
      ]);
      await runAnalysis(task);
      const sha = task.images[0]!.manifestBlob;
      expect(existsSync(store.columnsPath(sha))).toBe(true);
      return { store, sha };
    }
    it('by retention and garbage collection (collect)', async () => {
      const { store, sha } = await withColumns();
      const live = new Set<string>(); // no row names the manifest any more
      await store.collect(Date.now() + 60_000, () => Promise.resolve(live));
      expect(existsSync(store.path(sha))).toBe(false);
      expect(existsSync(store.columnsPath(sha))).toBe(false);
    });
    it('by release and discard of an unrecorded blob', async () => {
      for (const remove of [
        (s: BlobStore, sha: string) => s.release(sha, () => Promise.resolve(false)),
        (s: BlobStore, sha: string) => s.discard(sha, () => false),
      ]) {
        const { store, sha } = await withColumns();
        await remove(store, sha);
        expect(existsSync(store.path(sha))).toBe(false);
        expect(existsSync(store.columnsPath(sha))).toBe(false);
      }
    });
    it('by the startup sweep, and kept while the manifest is referenced', async () => {
      const { store, sha } = await withColumns();
      store.sweep(new Set([sha]));
      expect(existsSync(store.columnsPath(sha))).toBe(true);
      store.sweep(new Set());
      expect(existsSync(store.columnsPath(sha))).toBe(false);
    });
  });

  it('reads back the columnar file of every testdata image from the columns (an empty column keeps the CRC-32)', async () => {
    const store = newStore();
    const images = readdirSync(ERofs).filter((f) => f.endsWith('.img'));
    const manifests = [];
    for (const img of images) {
      try {
        manifests.push(ndjsonLines(await scanImageFile(path.join(ERofs, img), { hash: true })));
      } catch {
        // images the reader refuses have no manifest
      }
    }
    expect(manifests.length).toBeGreaterThan(20);
    const task = await storedTask(store, manifests);
    const { log, lines } = capture();
    for (const { manifestBlob } of task.images) {
      // The first read finds no columnar file and writes it; the second must read it.
      expect((await readManifestForReport(store, manifestBlob, new StringTable(), log)).source).toBe(
        'ndjson',
      );
      expect((await readManifestForReport(store, manifestBlob, new StringTable(), log)).source).toBe(
        'columns',
      );
    }
    expect(lines.filter((l) => l.level !== 'info')).toEqual([]);
  }, 120_000);

  describe('writeColumns', () => {
    it('writes the file of a manifest of record objects (a scan): read back, the same records', async () => {
      const store = newStore();
      const scanned = await scanImageFile(path.join(ERofs, 'base-v1.fp.img'), { hash: true });
      const task = await storedTask(store, [ndjsonLines(scanned)]);
      const sha = task.images[0]!.manifestBlob;
      const { log, lines } = capture();
      expect(await writeColumns(store, sha, scanned, log)).toBeNull();
      expect(lines).toEqual([]);
      const back = await readManifestForReport(store, sha, new StringTable());
      expect(back.source).toBe('columns');
      expect([...manifestToNdjson(back.manifest)]).toEqual(ndjsonLines(scanned));
    });

    it('logs a write that fails and answers why, never throws', async () => {
      const store = newStore();
      const scanned = await scanImageFile(path.join(ERofs, 'app.fp.img'));
      const task = await storedTask(store, [ndjsonLines(scanned)]);
      const sha = task.images[0]!.manifestBlob;
      // The temp folder a columnar file is written in is a file now: its open() fails.
      rmSync(store.tmpDir, { recursive: true, force: true });
      writeFileSync(store.tmpDir, '');
      const { log, lines } = capture();
      expect(await writeColumns(store, sha, scanned, log)).toMatch(/ENOTDIR/);
      expect(lines).toMatchObject([
        { level: 'warn', msg: 'could not write the columnar form of a manifest', manifest: sha },
      ]);
      expect(existsSync(store.columnsPath(sha))).toBe(false);
    });
  });

  describe('readManifestsForReport', () => {
    it('declares the fingerprints of several manifests read from columns interned in their one StringTable', async () => {
      const store = newStore();
      const task = await storedTask(store, await fleet());
      await runAnalysis(task); // writes the columnar files
      const blobs = task.images.map((i) => i.manifestBlob);
      expect(await sources(store, task)).toEqual(blobs.map(() => 'columns'));
      const manifests = await readManifestsForReport(store, blobs);
      // What the engine needs to take fingerprint ids from the table (sharedStringTable):
      // every image's columns carry indices into one and the same table.
      const table = manifestColumns(manifests[0]!)!.strings;
      expect(table).not.toBeNull();
      let fingerprints = 0;
      for (const m of manifests) {
        const cols = manifestColumns(m)!;
        expect(cols.strings).toBe(table);
        for (let i = 0; i < cols.n; i++) {
          const fp = cols.fingerprint[i];
          if (fp === null) expect(cols.fingerprintIndex![i]).toBe(-1);
          else {
            expect(table!.stringAt(cols.fingerprintIndex![i]!)).toBe(fp);
            fingerprints++;
          }
        }
      }
      expect(fingerprints).toBeGreaterThan(100);
    });

    it('interns the fingerprints of several manifests alone: their paths and sha256s stay as decoded', async () => {
      const store = newStore();
      const task = await storedTask(store, await fleet());
      await runAnalysis(task); // writes the columnar files
      const manifests = await readManifestsForReport(
        store,
        task.images.map((i) => i.manifestBlob),
      );
      const fingerprints = new Set<string>();
      let paths = 0;
      for (const m of manifests) {
        const cols = manifestColumns(m)!;
        paths += cols.n;
        for (let i = 0; i < cols.n; i++)
          if (cols.fingerprint[i] != null) fingerprints.add(cols.fingerprint[i]!);
      }
      expect(paths).toBeGreaterThan(fingerprints.size);
      // The table the engine numbers fingerprints from holds them and nothing else.
      expect(manifestColumns(manifests[0]!)!.strings!.size).toBe(fingerprints.size);
    });

    it("declares a lone manifest's fingerprints as its columnar file stores them (deduplicated: no string hashed)", async () => {
      const store = newStore();
      const task = await storedTask(store, [await generated(1_000)]);
      await runAnalysis(task); // writes the columnar file
      const [m] = await readManifestsForReport(store, [task.images[0]!.manifestBlob]);
      const cols = manifestColumns(m!)!;
      // Every 7th content repeats an earlier one: the table holds each fingerprint once, in
      // order of first appearance, and the paths and sha256s not at all.
      const distinct: string[] = [];
      const seen = new Map<string, number>();
      for (let i = 0; i < cols.n; i++) {
        const fp = cols.fingerprint[i] ?? null;
        if (fp === null) {
          expect(cols.fingerprintIndex![i]).toBe(-1);
          continue;
        }
        if (!seen.has(fp)) seen.set(fp, distinct.push(fp) - 1);
        expect(cols.fingerprintIndex![i]).toBe(seen.get(fp));
      }
      expect(distinct.length).toBeGreaterThan(700);
      expect(distinct.length).toBeLessThan(cols.n - 100);
      expect(cols.strings!.size).toBe(distinct.length);
      expect(distinct.every((fp, k) => cols.strings!.stringAt(k) === fp)).toBe(true);
    });

    it('reads a columnar file of version 1 (written before the fingerprints were deduplicated) from its columns', async () => {
      const store = newStore();
      const image = 'base-v2.fp';
      const nd = ndjsonLines(await scanImageFile(path.join(ERofs, `${image}.img`), { hash: true }));
      const task = await storedTask(store, [nd]);
      const sha = task.images[0]!.manifestBlob;
      // The bytes bb147ba's encoder wrote for this manifest, and their CRC-32, as its server stored them.
      const v1 = readFileSync(
        path.join(
          import.meta.dirname,
          '../../../packages/erofs/test/columns-v1-fixtures',
          `${image}.hashed.cols`,
        ),
      );
      const crc = Buffer.alloc(4);
      crc.writeUInt32LE(crc32(v1));
      mkdirSync(path.dirname(store.columnsPath(sha)), { recursive: true });
      writeFileSync(store.columnsPath(sha), Buffer.concat([v1, crc]));
      const { log, lines } = capture();
      const got = await readManifestForReport(store, sha, new StringTable(), log);
      expect(got.source).toBe('columns');
      expect(ndjsonLines(got.manifest)).toEqual(nd);
      expect(lines).toEqual([]);
    });

    it('reads a columnar file of version 2 (every sha256 in its blob) from its columns; a manifest read from its NDJSON gets one of version 3', async () => {
      const store = newStore();
      const image = 'base-v2.fp';
      const nd = ndjsonLines(await scanImageFile(path.join(ERofs, `${image}.img`), { hash: true }));
      const task = await storedTask(store, [nd]);
      const sha = task.images[0]!.manifestBlob;
      // No columnar file yet (stored before uploads wrote one): read from the NDJSON, which
      // writes the file, of the version written today.
      const { log, lines } = capture();
      const fromNdjson = await readManifestForReport(store, sha, new StringTable(), log);
      expect(fromNdjson.source).toBe('ndjson');
      expect(ndjsonLines(fromNdjson.manifest)).toEqual(nd);
      expect(lines.map((l) => l.msg)).toEqual(['manifest has no columnar form yet: read its NDJSON']);
      const v3 = readFileSync(store.columnsPath(sha));
      expect(v3.readUInt32LE(8)).toBe(3);
      // The bytes c8ad2fe's encoder (version 2) wrote for this manifest, and their CRC-32, as its server stored them.
      const v2 = readFileSync(
        path.join(
          import.meta.dirname,
          '../../../packages/erofs/test/columns-v2-fixtures',
          `${image}.hashed.cols`,
        ),
      );
      expect(v2.readUInt32LE(8)).toBe(2);
      // Its 238 sha256s are their fingerprints' tails: version 3 stores none of their 64 characters.
      expect(v3.length).toBe(v2.length + 4 - 238 * 64);
      const crc = Buffer.alloc(4);
      crc.writeUInt32LE(crc32(v2));
      writeFileSync(store.columnsPath(sha), Buffer.concat([v2, crc]));
      const strings = new StringTable();
      const got = await readManifestForReport(store, sha, strings, log);
      expect(got.source).toBe('columns');
      expect(ndjsonLines(got.manifest)).toEqual(nd);
      expect(manifestColumns(got.manifest)!.strings).toBe(strings); // declared interned, as version 3's
      expect(lines).toHaveLength(1);
      // And the version-3 file reads back the same manifest.
      writeFileSync(store.columnsPath(sha), v3);
      const again = await readManifestForReport(store, sha, new StringTable(), log);
      expect(again.source).toBe('columns');
      expect(ndjsonLines(again.manifest)).toEqual(nd);
      expect(lines).toHaveLength(1);
    });
  });
});
