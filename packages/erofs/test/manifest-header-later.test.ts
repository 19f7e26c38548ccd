/**
 * scanManifestTo into a sink that takes records before their header (HeaderLaterSink, the
 * CLI's NDJSON and JSON writers; docs/manifest.md#scanning-at-scale): the walk's own count is
 * file_count, so directories are read once instead of twice, and the header, the records and
 * the errors are exactly those of counting first, on every image of testdata and on thousands
 * of corrupted copies; a sink that holds MAX_HELD_BYTES has the paths counted mid-walk.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ErofsError } from '../src/errors.js';
import { openImage, type ErofsImage } from '../src/image.js';
import {
  MAX_HELD_BYTES,
  recordOf,
  scanManifestTo,
  type HeaderLaterSink,
  type ManifestFieldSink,
  type RecordFields,
} from '../src/manifest.js';
import type { ManifestHeader } from '../src/manifest-types.js';
import { memorySource } from '../src/source/memory.js';
import { seededInts } from './seeded-random.js';

const ROOT = join(import.meta.dirname, '../../../testdata/erofs');

/** What a scan wrote (header and records as JSON lines, in order) and how it ended. */
interface Outcome {
  lines: string[];
  error: string | null;
}

/** A field sink that writes at once (the scan must count the paths before the walk). */
function plainSink(lines: string[]): ManifestFieldSink {
  return {
    header: (h) => void lines.push(JSON.stringify(h)),
    file: (f) => void lines.push(JSON.stringify(recordOf(f))),
  };
}

/**
 * A HeaderLaterSink: records before the header are held, and written after it. `fullAfter`
 * records held make it report MAX_HELD_BYTES + 1 held bytes (the scan must then count).
 */
class HoldingSink implements HeaderLaterSink {
  held: string[] | null = null;
  heldBytes = 0;
  headers = 0;
  constructor(
    private readonly lines: string[],
    private readonly fullAfter = Infinity,
  ) {}
  holdUntilHeader(): void {
    this.held = [];
  }
  header(h: ManifestHeader): void {
    this.headers++;
    this.lines.push(JSON.stringify(h));
    if (this.held) this.lines.push(...this.held);
    this.held = null;
    this.heldBytes = 0;
  }
  file(f: RecordFields): void {
    const line = JSON.stringify(recordOf(f));
    if (!this.held) return void this.lines.push(line);
    this.held.push(line);
    this.heldBytes = this.held.length >= this.fullAfter ? MAX_HELD_BYTES + 1 : 0;
  }
}

async function outcome(image: ErofsImage, sink: (lines: string[]) => ManifestFieldSink): Promise<Outcome> {
  const lines: string[] = [];
  try {
    await scanManifestTo(image, { imageName: 'x.img', imageSize: 1 }, sink(lines));
    return { lines, error: null };
  } catch (e) {
    if (!(e instanceof ErofsError)) throw e;
    return { lines, error: `${e.code} ${e.message}` };
  }
}

/** How many times a scan reads a directory's entries (the count pass and the walk each read all). */
function countDirReads(image: ErofsImage): () => number {
  let n = 0;
  const forEachDirent = image.forEachDirent.bind(image);
  image.forEachDirent = (ino, visit) => {
    n++;
    return forEachDirent(ino, visit);
  };
  return () => n;
}

/** The single-device images of testdata/erofs (the multi-device ones need their blobs). */
function fixtureImages(): string[] {
  return readdirSync(ROOT)
    .filter((f) => f.endsWith('.img'))
    .filter((f) => {
      try {
        const o = JSON.parse(readFileSync(join(ROOT, f.replace(/\.img$/, '.expected.json')), 'utf8')) as {
          devices?: string[];
        };
        return !o.devices?.length;
      } catch {
        return true;
      }
    })
    .sort();
}

/**
 * `got` equals `want`: Node's deep equality first, as vitest's toEqual on thousands of lines
 * costs more than the scan that made them; toEqual still decides, and shows, where they differ.
 */
function expectSame<T>(got: T, want: T, what?: string): void {
  if (!isDeepStrictEqual(got, want)) expect(got, what).toEqual(want);
}

/** The plain scan's outcome, as a holding sink shows it: a scan that fails writes nothing before the header. */
function expectedHeld(plain: Outcome): Outcome {
  return plain.error === null ? plain : { lines: [], error: plain.error };
}

describe('scanManifestTo into a HeaderLaterSink', () => {
  it.each(fixtureImages())('%s: the same header and records, each directory read once', async (name) => {
    const bytes = new Uint8Array(readFileSync(join(ROOT, name)));
    const first = await openImage(memorySource(bytes));
    const firstReads = countDirReads(first);
    const plain = await outcome(first, plainSink);
    expect(plain.error).toBeNull();
    const holdingImage = await openImage(memorySource(bytes));
    const holdingReads = countDirReads(holdingImage);
    let sink: HoldingSink | undefined;
    const held = await outcome(holdingImage, (l) => (sink = new HoldingSink(l)));
    expectSame(held, plain);
    expect(sink!.headers).toBe(1);
    const dirs = plain.lines.filter((l) => l.includes('"type":"dir"')).length;
    expect(firstReads()).toBe(2 * dirs);
    expect(holdingReads()).toBe(dirs);
    // a sink full after a few records: the paths are counted mid-walk, the bytes are the same
    for (const fullAfter of [1, 3]) {
      const img = await openImage(memorySource(bytes));
      const full = await outcome(img, (l) => (sink = new HoldingSink(l, fullAfter)));
      expectSame(full, plain);
      expect(sink!.headers).toBe(1);
    }
  });

  it('corrupted inodes and directories: the same error (or the same output) as counting first', async () => {
    // Bits flipped in the inodes of two fixtures' paths (their directories' blocks included):
    // every case on app.fp (53 paths, 4 KiB blocks); on edge-mini.b512 (3,103 paths, 512-byte
    // blocks, directories over many blocks) fewer, every other one in a directory's inode or
    // inline block, where counting and walking part ways (a uniform draw there met a
    // directory in 2 cases of 150, and its 3,046 files cost most of the file's time).
    let failures = 0;
    let dirFailures = 0; // of the cases in edge-mini.b512's directories
    for (const [name, cases, dirsEveryOther] of [
      ['app.fp.img', 150, false],
      ['edge-mini.b512.img', 60, true],
    ] as const) {
      const good = new Uint8Array(readFileSync(join(ROOT, name)));
      const scanned = await outcome(await openImage(memorySource(good)), plainSink);
      const header = JSON.parse(scanned.lines[0]!) as ManifestHeader;
      const base = header.superblock.meta_blkaddr * header.superblock.block_size;
      const records = scanned.lines.slice(1).map((l) => JSON.parse(l) as { nid: number; type: string });
      const nids = records.map((r) => r.nid);
      const dirNids = records.filter((r) => r.type === 'dir').map((r) => r.nid);
      const int = seededInts(20261206);
      for (let i = 0; i < cases; i++) {
        const bytes = good.slice();
        const inDir = dirsEveryOther && i % 2 === 1;
        const pool = inDir ? dirNids : nids;
        const at = base + pool[int(pool.length)]! * 32 + int(64);
        bytes[at] = bytes[at]! ^ (1 << int(8));
        let plain: Outcome;
        try {
          plain = await outcome(await openImage(memorySource(bytes)), plainSink);
        } catch (e) {
          if (e instanceof ErofsError) continue; // the open refuses it: no scan
          throw e;
        }
        if (plain.error !== null) failures++;
        if (plain.error !== null && inDir) dirFailures++;
        const held = await outcome(await openImage(memorySource(bytes)), (l) => new HoldingSink(l));
        expectSame(held, expectedHeld(plain), `${name} byte ${at}`);
        const full = await outcome(await openImage(memorySource(bytes)), (l) => new HoldingSink(l, 2));
        expect(full.error, `${name} byte ${at}, counted mid-walk`).toBe(plain.error);
        if (plain.error === null) expectSame(full.lines, plain.lines, `${name} byte ${at}, counted mid-walk`);
      }
    }
    // the corruption reached the walk often enough to mean something, in directories too
    expect(failures).toBeGreaterThan(25);
    expect(dirFailures).toBeGreaterThan(10);
  }, 120_000);
});
