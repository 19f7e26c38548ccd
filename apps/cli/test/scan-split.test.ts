/**
 * `sharemap scan IMAGE --ndjson|--json` on two threads (scan-split.ts, docs/cli.md#metadata-scan-on-two-threads):
 * the same bytes and the same error as the one-thread scan, on every image of testdata with the
 * split forced (the fixtures are far below SPLIT_MIN_INODES), whichever way the root steps are
 * divided (the worker taking all of them, or all but the first), with the worker's records
 * passed in memory and through its temporary file, with the header given mid-walk (the worker's
 * count), and on corrupted copies whose errors lie in the worker's part; the same with --hash
 * (both threads hashing the files of their steps) against the one-thread hashed scan.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAX_HELD_BYTES, type ManifestHeader, type RecordFields } from '@sharemap/erofs';
import { repositoryImages, type RepositoryImage } from '@sharemap/erofs/testing';
import { JsonSink, NdjsonSink } from '../src/commands/scan.js';
import { scanImageSplitTo, scanImageTo } from '../src/images.js';
import type { Out } from '../src/io.js';
import {
  SCAN_SPLIT_CHANNEL,
  splitAllowed,
  type ScanSplitOptions,
  type SplitScanDone,
  type SplitSink,
} from '../src/scan-split.js';
import {
  HASH_SPLIT_BYTES_PER_INODE,
  SPLIT_MIN_INODES,
  splitWorkerScript,
  splitWorthIt,
} from '../src/scan-split-start.js';
import { cli, fx, tmp } from './helpers.js';

/** Bytes written, in order. */
class BytesOut implements Out {
  chunks: Buffer[] = [];
  write(chunk: string | Uint8Array): boolean {
    this.chunks.push(Buffer.from(chunk));
    return true;
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** What a scan wrote and the message of the error it ended with (null: none). */
interface Outcome {
  bytes: Buffer;
  error: string | null;
}

type Form = 'ndjson' | 'json';
const sinkOf = (form: Form, out: Out): NdjsonSink =>
  form === 'ndjson' ? new NdjsonSink(out) : new JsonSink(out);

/**
 * A sink that says it holds more than MAX_HELD_BYTES after `fullAfter` records or pieces, so
 * that the scan gives the header mid-walk (with the worker's count), as a large image's does.
 */
class FullSoonSink implements SplitSink {
  private given = 0;
  constructor(
    private readonly inner: NdjsonSink,
    private readonly fullAfter: number,
  ) {}
  get heldBytes(): number {
    return this.inner.heldBytes > 0 && this.given >= this.fullAfter ? MAX_HELD_BYTES + 1 : 0;
  }
  holdUntilHeader(): void {
    this.inner.holdUntilHeader();
  }
  header(h: ManifestHeader): void | Promise<void> {
    return this.inner.header(h);
  }
  file(f: RecordFields): void | Promise<void> {
    this.given++;
    return this.inner.file(f);
  }
  bytes(b: Uint8Array): void | Promise<void> {
    this.given++;
    return this.inner.bytes(b);
  }
  end(): Promise<void> {
    return this.inner.end();
  }
}

async function settle(scan: () => Promise<void>, out: BytesOut): Promise<Outcome> {
  try {
    await scan();
    return { bytes: out.bytes, error: null };
  } catch (e) {
    return { bytes: out.bytes, error: (e as Error).message };
  }
}

/**
 * `scan --hash` as the shared scan is given it (ScanSplitOptions.hash): one digest thread, as on
 * two cores (the shared scan starts none: its two threads hash the files of their own steps).
 */
const HASH = { threads: 1 } as const;
/**
 * Digest threads of the one-thread hashed scan these tests compare with: none, the files hashed
 * by the walking thread (`--threads 0`). The bytes are the same with digest threads (the test
 * 'the worker hashes the files ...' below checks it on three images); what a digest thread would
 * add here is its start: on a fixture the walking thread takes every file back before the thread
 * has loaded, and since threads end on their own the scan then waits for that start
 * (docs/benchmarks.md, worker-exit2), ~70 times in this file.
 */
const REFERENCE_DIGEST_THREADS = 0;
const oneThreadOpts = (devices: string[], hash: boolean, threads = REFERENCE_DIGEST_THREADS) =>
  hash ? { devices, hash: true, threads } : { devices };

/**
 * The one-thread scan (scanCommand's path with SHAREMAP_SCAN_THREADS=0); with `hash`, with
 * `threads` digest threads.
 */
function alone(
  path: string,
  devices: string[],
  form: Form,
  hash = false,
  threads = REFERENCE_DIGEST_THREADS,
): Promise<Outcome> {
  const out = new BytesOut();
  const sink = sinkOf(form, out);
  return settle(async () => {
    await scanImageTo(path, oneThreadOpts(devices, hash, threads), sink);
    await sink.end();
  }, out);
}

/** The shared scan, split forced; as scanCommand, a scan it gives back is done on one thread. */
async function shared(
  path: string,
  devices: string[],
  form: Form,
  split: Partial<ScanSplitOptions> & { fullAfter?: number },
): Promise<{ outcome: Outcome; done: SplitScanDone | undefined }> {
  let done: SplitScanDone | undefined;
  const listener = (m: unknown): void => {
    done = m as SplitScanDone;
  };
  subscribe(SCAN_SPLIT_CHANNEL, listener);
  try {
    const out = new BytesOut();
    const inner = sinkOf(form, out);
    const sink = split.fullAfter === undefined ? inner : new FullSoonSink(inner, split.fullAfter);
    const outcome = await settle(async () => {
      const header = await scanImageSplitTo(path, { devices, form, minInodes: 0, ...split }, () => sink);
      if (header === undefined) {
        expect(out.chunks, 'a scan given back wrote nothing').toEqual([]);
        const again = sinkOf(form, out);
        await scanImageTo(path, oneThreadOpts(devices, split.hash !== undefined), again);
        await again.end();
      } else await sink.end();
    }, out);
    return { outcome, done };
  } finally {
    unsubscribe(SCAN_SPLIT_CHANNEL, listener);
  }
}

/** A seeded linear congruential generator: the same bytes are flipped in every run. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 8;
  };
}

/**
 * One shared scan (`split`) against the one-thread scan's outcome: the same error, the same
 * bytes (unless the header came mid-walk and the scan failed: then what came before the error),
 * and on a good image with the split forced to the worker, every root step the worker's.
 */
async function expectAsAlone(
  path: string,
  devices: string[],
  form: Form,
  split: Partial<ScanSplitOptions> & { fullAfter?: number },
  expected: Outcome,
): Promise<void> {
  const { outcome, done } = await shared(path, devices, form, split);
  const what = `${form} ${JSON.stringify(split)}`;
  expect(outcome.error, what).toBe(expected.error);
  if (split.fullAfter === undefined || expected.error === null)
    expect(outcome.bytes.equals(expected.bytes), what).toBe(true);
  if (done && split.mainSteps === 0 && expected.error === null) {
    expect(done.mainSteps).toBe(0);
    expect(done.workerSteps).toBe(done.steps);
    if (split.heldBytes === 0 && done.steps > 0) expect(done.spilledBytes).toBeGreaterThan(0);
  }
}

/** Every image of testdata (EROFS fixtures, broken, synthetic, METABOX, OCI-built), with its devices. */
const repositoryImagesWithBroken = (): RepositoryImage[] =>
  repositoryImages(['erofs', 'erofs/broken', 'erofs/synthetic', 'erofs/metabox', 'oci']);

const script = splitWorkerScript();

// The worker is the built script (apps/cli/dist): without it every scan stays on one thread.
describe.skipIf(!script)('scan on two threads: the one-thread scan, byte for byte', () => {
  const images = repositoryImagesWithBroken();

  it('covers the images it claims to', () => {
    expect(images.length).toBeGreaterThanOrEqual(40);
    expect(images.map((i) => i.name)).toEqual(
      expect.arrayContaining(['erofs/edge.img', 'erofs/broken/flipped-inode-byte.img', 'oci/rootfs.img']),
    );
  });

  it.each(images.map((i) => [i.name, i] as const))(
    '%s',
    async (_name, { path, devices }) => {
      for (const form of ['ndjson', 'json'] as const) {
        const expected = await alone(path, devices, form);
        // The worker walks every root step, or every one but the first; its records come in
        // messages, or through its temporary file; the header at the end, or mid-walk.
        const cases: (Partial<ScanSplitOptions> & { fullAfter?: number })[] =
          form === 'ndjson'
            ? [
                { mainSteps: 0 },
                { mainSteps: 1, heldBytes: 0 },
                { mainSteps: 0, heldBytes: 0, fullAfter: 2 },
                {},
              ]
            : [{ mainSteps: 1, heldBytes: 0 }];
        for (const c of cases) await expectAsAlone(path, devices, form, c, expected);
      }
    },
    120_000,
  );

  it('the worker does take the root steps of good images (the comparisons above are not one-thread ones)', async () => {
    for (const name of ['edge.img', 'app.fp.img', 'base-v2.fp.img']) {
      const { outcome, done } = await shared(fx(name), [], 'ndjson', { mainSteps: 1 });
      expect(outcome.error).toBeNull();
      expect(done, name).toBeDefined();
      expect(done!.mainSteps).toBe(1);
      expect(done!.steps).toBeGreaterThan(1);
      expect(done!.workerSteps).toBe(done!.steps - 1);
      expect(done!.walkedAfter).toBe(0);
    }
  });

  it('a worker that ends at once, or dies mid-walk: the one-thread scan all the same', async () => {
    const dir = tmp();
    const exits = join(dir, 'exits.mjs');
    writeFileSync(exits, 'process.exit(3);\n');
    // The real worker, ended by an exception once it has sent its count and a piece or two.
    const dies = join(dir, 'dies.mjs');
    writeFileSync(
      dies,
      [
        "import { parentPort } from 'node:worker_threads';",
        'let sent = 0;',
        'const post = parentPort.postMessage.bind(parentPort);',
        "parentPort.postMessage = (m, t) => { if ('records' in m && ++sent > 2) process.exit(4); post(m, t); };",
        `await import(${JSON.stringify(script!.href)});`,
      ].join('\n'),
    );
    for (const [worker, name] of [
      [exits, 'edge.img'],
      [dies, 'edge.img'],
      [dies, 'base-v2.fp.img'],
    ] as const) {
      for (const form of ['ndjson', 'json'] as const) {
        const expected = await alone(fx(name), [], form);
        for (const c of [
          { mainSteps: 0, heldBytes: 0 },
          { mainSteps: 1, fullAfter: 2 },
        ]) {
          const { outcome } = await shared(fx(name), [], form, { ...c, script: pathToFileURL(worker) });
          expect(outcome.error, `${worker} ${name} ${form}`).toBeNull();
          expect(outcome.bytes.equals(expected.bytes), `${worker} ${name} ${form}`).toBe(true);
        }
      }
    }
  }, 120_000);

  it("corrupted copies: the one-thread scan's error, also when the worker meets it", async () => {
    // Bits flipped in the inodes of a fixture's paths (its directories included), written to
    // files (the worker opens the image by path).
    const dir = join(tmp(), 'corrupt');
    mkdirSync(dir);
    let failures = 0;
    let walkedAfter = 0;
    for (const name of ['app.fp.img', 'edge-mini.b512.img']) {
      const good = readFileSync(fx(name));
      const scanned = (await alone(fx(name), [], 'ndjson')).bytes.toString('utf8').trimEnd().split('\n');
      const header = JSON.parse(scanned[0]!) as ManifestHeader;
      const base = header.superblock.meta_blkaddr * header.superblock.block_size;
      const nids = scanned.slice(1).map((l) => (JSON.parse(l) as { nid: number }).nid);
      const next = seeded(20261207);
      for (let i = 0; i < 25; i++) {
        const bytes = Buffer.from(good);
        const at = base + nids[next() % nids.length]! * 32 + (next() % 64);
        bytes[at] = bytes[at]! ^ (1 << (next() % 8));
        const path = join(dir, `${name}.${i}.img`);
        writeFileSync(path, bytes);
        const expected = await alone(path, [], 'ndjson');
        if (expected.error !== null) failures++;
        for (const c of [{ mainSteps: 0 }, { mainSteps: 1, fullAfter: 3 }]) {
          const { outcome, done } = await shared(path, [], 'ndjson', c);
          expect(outcome.error, `byte ${at} ${JSON.stringify(c)}`).toBe(expected.error);
          // With the header given early, a failing scan writes what came before its error (as a
          // one-thread scan of a large image does); the reference here held everything.
          if (c.fullAfter === undefined || expected.error === null)
            expect(outcome.bytes.equals(expected.bytes), `byte ${at} ${JSON.stringify(c)}`).toBe(true);
          walkedAfter += done?.walkedAfter ?? 0;
        }
      }
    }
    // the corruption reached the walk, and the worker's part, often enough to mean something
    expect(failures).toBeGreaterThan(6);
    expect(walkedAfter).toBeGreaterThan(5);
  }, 300_000);
});

// `scan --hash` on two threads: each thread walks its root steps and hashes their files.
/** The images the hashed split runs every case on (see below). */
const VARIED_HASHED = new Set([
  'app.fp.img',
  'app.fp.lz4hc.img',
  'edge.zstd.fp.img',
  'edge.lzma.frag-dedupe-ztail.img',
  'edge.deflate.img',
  'mbox.metabox.fp.lz4hc.img',
  'rootfs.img',
]);

describe.skipIf(!script)('scan --hash on two threads: the one-thread hashed scan, byte for byte', () => {
  const images = repositoryImagesWithBroken();

  it('runs every case on images that exist (a renamed fixture would drop its cases)', () => {
    const names = new Set(images.map((i) => basename(i.path)));
    for (const name of VARIED_HASHED) expect(names.has(name), name).toBe(true);
  });

  it.each(images.map((i) => [i.name, i] as const))(
    '%s',
    async (_name, { path, devices }) => {
      // Every image with all its root steps (so all its files) hashed by the worker; the
      // other cases (steps divided, the temporary file, the header mid-walk, the JSON form)
      // are the unhashed split's above, and differ here only in the records' sha256s, so they
      // run on one image per kind of data layout (plain, LZ4HC, zstd, LZMA with fragments and
      // deduplication, deflate, METABOX, an OCI-built root), not on all of them (each case is a
      // worker start: ~0.2 s of CPU).
      const varied = VARIED_HASHED.has(basename(path));
      for (const form of varied ? (['ndjson', 'json'] as const) : (['ndjson'] as const)) {
        const expected = await alone(path, devices, form, true);
        const cases: (Partial<ScanSplitOptions> & { fullAfter?: number })[] =
          form === 'ndjson'
            ? varied
              ? [{ mainSteps: 0 }, { mainSteps: 1, heldBytes: 0, fullAfter: 2 }]
              : [{ mainSteps: 0 }]
            : [{ mainSteps: 1, heldBytes: 0 }];
        for (const c of cases) await expectAsAlone(path, devices, form, { ...c, hash: HASH }, expected);
      }
    },
    120_000,
  );

  it('the worker hashes the files of the steps it takes (the records carry their sha256s)', async () => {
    for (const name of ['app.fp.img', 'base-v2.fp.img', 'edge.img']) {
      const expected = await alone(fx(name), [], 'ndjson', true);
      // The reference hashed without digest threads (REFERENCE_DIGEST_THREADS) is the hashed
      // scan with one, as `scan --hash` runs on two cores: the other tests' comparisons hold for it.
      const withDigestThread = await alone(fx(name), [], 'ndjson', true, HASH.threads);
      expect(withDigestThread.error, name).toBeNull();
      expect(withDigestThread.bytes.equals(expected.bytes), name).toBe(true);
      const lines = expected.bytes.toString('utf8').trimEnd().split('\n');
      expect((JSON.parse(lines[0]!) as ManifestHeader).hashed).toBe(true);
      const hashed = lines
        .slice(1)
        .filter((l) => (JSON.parse(l) as { sha256?: string }).sha256 !== undefined);
      expect(hashed.length, name).toBeGreaterThan(0);
      const { outcome, done } = await shared(fx(name), [], 'ndjson', { mainSteps: 0, hash: HASH });
      expect(outcome.error).toBeNull();
      expect(done!.workerSteps, name).toBe(done!.steps);
      expect(outcome.bytes.equals(expected.bytes), name).toBe(true);
      // and without --hash the same split gives records without them: the option reached the worker
      const plain = await shared(fx(name), [], 'ndjson', { mainSteps: 0 });
      expect(plain.outcome.bytes.toString('utf8')).not.toContain('"sha256"');
    }
  }, 120_000);

  it("corrupted copies: the one-thread hashed scan's error, also when the worker meets it", async () => {
    // Bits flipped anywhere in the image past the superblock (content included), so that
    // some errors come from hashing a file's content in the worker.
    const dir = join(tmp(), 'corrupt-hash');
    mkdirSync(dir);
    let failures = 0;
    for (const name of ['app.fp.img', 'app.fp.lz4hc.img']) {
      const good = readFileSync(fx(name));
      const next = seeded(20261208);
      for (let i = 0; i < 8; i++) {
        const bytes = Buffer.from(good);
        const at = 2048 + (next() % (bytes.length - 2048));
        bytes[at] = bytes[at]! ^ (1 << (next() % 8));
        const path = join(dir, `${name}.${i}.img`);
        writeFileSync(path, bytes);
        const expected = await alone(path, [], 'ndjson', true);
        if (expected.error !== null) failures++;
        const { outcome } = await shared(path, [], 'ndjson', { mainSteps: 0, hash: HASH });
        expect(outcome.error, `byte ${at}`).toBe(expected.error);
        expect(outcome.bytes.equals(expected.bytes), `byte ${at}`).toBe(true);
      }
    }
    expect(failures).toBeGreaterThan(2);
  }, 300_000);
});

describe('splitWorthIt', () => {
  it('shares a large image; with --hash only one of small files, where the one digest thread would idle', () => {
    expect(splitWorthIt(SPLIT_MIN_INODES - 1, 1 << 20, undefined)).toBe(false);
    expect(splitWorthIt(SPLIT_MIN_INODES, 1 << 30, undefined)).toBe(true);
    // fp-1m.img: 1,010,101 inodes in 139 MB; /usr/share: 57,345 inodes in 618 MB
    expect(splitWorthIt(1_010_101, 139_000_000, { threads: 1, cores: 2 })).toBe(true);
    expect(splitWorthIt(57_345, 618_000_000, { threads: 1, cores: 2 })).toBe(false);
    expect(splitWorthIt(200_000, 200_000 * HASH_SPLIT_BYTES_PER_INODE + 1, { threads: 1, cores: 2 })).toBe(
      false,
    );
    // --threads 0 (hash in the walking thread), or more cores (their digest threads stay)
    expect(splitWorthIt(1_010_101, 139_000_000, { threads: 0, cores: 2 })).toBe(false);
    expect(splitWorthIt(1_010_101, 139_000_000, { threads: 3, cores: 4 })).toBe(false);
  });
});

describe('SHAREMAP_SCAN_THREADS', () => {
  it('0 keeps every scan on one thread; a count of threads or unset allows a second one on two cores', () => {
    expect(splitAllowed({ SHAREMAP_SCAN_THREADS: '0' }, 8)).toBe(false);
    expect(splitAllowed({ SHAREMAP_SCAN_THREADS: '1' }, 8)).toBe(true);
    expect(splitAllowed({}, 2)).toBe(true);
    expect(splitAllowed({}, 1)).toBe(false);
  });

  it('anything else is refused by name', async () => {
    const r = await cli(['scan', fx('edge.img'), '--ndjson'], { env: { SHAREMAP_SCAN_THREADS: 'two' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SHAREMAP_SCAN_THREADS must be a count of threads (0 for one), not "two"');
  });

  it('a fixture-sized image is scanned on one thread by default (below SPLIT_MIN_INODES)', async () => {
    let published = 0;
    const listener = (): void => void published++;
    subscribe(SCAN_SPLIT_CHANNEL, listener);
    try {
      for (const hash of [[], ['--hash']]) {
        const r = await cli(['scan', fx('edge.img'), '--ndjson', ...hash]);
        expect(r.code).toBe(0);
      }
      expect(published).toBe(0);
    } finally {
      unsubscribe(SCAN_SPLIT_CHANNEL, listener);
    }
  });
});
