/**
 * Content digests on worker threads (src/node/digest-pool.ts, docs/reader.md#content-digests-on-worker-threads):
 * the NDJSON of a hashed scan through the pool is byte for byte the one the scan's own thread
 * makes, on every image of testdata, also when the scan may hold only a few records; a file
 * the reader cannot read (a corrupt pcluster, an image truncated under the running scan, a
 * thread that dies) fails the scan with the reader's typed error, never a hang.
 */
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Inode } from '../../src/disk/inode.js';
import { ErofsError } from '../../src/errors.js';
import {
  manifestToNdjson,
  scanManifest,
  type ContentDigester,
  type DigestTarget,
} from '../../src/manifest.js';
import type { Manifest } from '../../src/manifest-types.js';
import {
  CLAIM_THREAD,
  DigestPool,
  defaultDigestThreads,
  digestWorkerScript,
  MAX_DIGEST_THREADS,
  prestartDigestThreads,
  releaseSpareDigestThreads,
  spareDigestThreads,
  type DigestWorkerData,
} from '../../src/node/digest-pool.js';
import { nodeSha256, openImageFile, scanImageFile } from '../../src/node.js';
import { repositoryImages, TESTDATA } from '../repository-images.js';
import { threadCount, threadCountBackTo, watchWorkers, type WorkerWatch } from './thread-watch.js';
import { corruptPclusterImage } from './bad-pcluster.js';
import { limited } from './limited-digester.js';

const tmp = mkdtempSync(join(tmpdir(), 'sharemap-digest-pool-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function ndjson(m: Manifest): string {
  return [...manifestToNdjson(m)].join('');
}

/**
 * A digest thread that starts and then never takes a file (writes its script under tmp); told
 * to end (DigestEndMessage), it ends, as every thread of a pool does.
 */
function silentThread(): URL {
  const script = join(tmp, 'silent-worker.mjs');
  writeFileSync(
    script,
    `import { parentPort } from 'node:worker_threads';\nparentPort.on('message', (m) => { if (m.end) parentPort.close(); });\n`,
  );
  return pathToFileURL(script);
}

/** A pool of `threads` digest threads over `path`. */
function poolOf(
  path: string,
  devices: string[],
  threads: number,
  script: URL = digestWorkerScript()!,
): DigestPool {
  const data: DigestWorkerData = { path, devices, limits: undefined };
  return new DigestPool(script, data, threads);
}

/** A hashed scan of `path` whose digests come from `digester(pool)` (a pool of `threads`). */
async function scanWithPool(
  path: string,
  devices: string[],
  threads: number,
  digester: (pool: DigestPool) => ContentDigester = (p) => p,
  script: URL = digestWorkerScript()!,
): Promise<Manifest> {
  const pool = poolOf(path, devices, threads, script);
  try {
    return await scanThrough(path, devices, digester(pool));
  } finally {
    await pool.close();
  }
}

/** A hashed scan of `path` whose digests come from `digester`. */
async function scanThrough(path: string, devices: string[], digester: ContentDigester): Promise<Manifest> {
  const opened = await openImageFile(path, { devices });
  try {
    return await scanManifest(opened.image, {
      imageName: basename(path), // as scanImageFile names it
      imageSize: opened.size,
      hash: true,
      hasher: nodeSha256,
      digester,
    });
  } finally {
    await opened.close();
  }
}

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('scan --hash through digest threads', () => {
  const images = repositoryImages();

  it('finds the built worker script and the images it claims to cover', () => {
    // The tests run the built worker (pnpm build): without it the CLI would hash in-thread.
    expect(digestWorkerScript()).toBeDefined();
    expect(images.map((i) => i.name)).toEqual(
      expect.arrayContaining([
        'erofs/app.fp.img',
        'erofs/app.fp.lz4hc.img',
        'erofs/edge.lzma.frag-dedupe-ztail.img',
        'erofs/edge.zstd.fp.img',
        'erofs/edge-mini.chunk4k.blob.img',
        'erofs/edge-mini.tar-i.img',
        'erofs/metabox/mbox.metabox.fp.lz4hc.img',
        'oci/rootfs.img',
        'hostile/hostile-names.img',
      ]),
    );
    expect(images.length).toBeGreaterThanOrEqual(40);
  });

  it.each(images.map((i) => [i.name, i] as const))(
    '%s: the same NDJSON as the in-thread scan (2 threads; small files here or there; the scan holding 4096, 1 and 3 records)',
    async (_name, { path, devices }) => {
      const inThread = ndjson(await scanImageFile(path, { devices, hash: true }));
      expect(inThread).toContain('"sha256":');
      // One pool for the three scans: its threads outlive a scan.
      const pool = poolOf(path, devices, 2);
      try {
        expect(ndjson(await scanThrough(path, devices, pool))).toBe(inThread);
        expect(ndjson(await scanThrough(path, devices, limited(pool, 4096)))).toBe(inThread);
        expect(ndjson(await scanThrough(path, devices, limited(pool, 1)))).toBe(inThread);
        expect(ndjson(await scanThrough(path, devices, limited(pool, 3)))).toBe(inThread);
        // Work sharing with every file sent: the scan's thread takes files back as it waits.
        expect(ndjson(await scanThrough(path, devices, limited(pool, 2, true)))).toBe(inThread);
      } finally {
        await pool.close();
      }
    },
    120_000,
  );

  it.each([
    'erofs/app.fp.lz4hc.img',
    'erofs/edge-mini.chunk4k.blob.img',
    'erofs/metabox/mbox.metabox.fp.img',
  ])(
    "%s: scanImageFile's threads option (`sharemap scan --threads 2`)",
    async (name) => {
      const { path, devices } = images.find((i) => i.name === name)!;
      const inThread = ndjson(await scanImageFile(path, { devices, hash: true }));
      expect(ndjson(await scanImageFile(path, { devices, hash: true, threads: 2 }))).toBe(inThread);
    },
    60_000,
  );

  it('a corrupt pcluster: the typed error the in-thread scan throws, with its path', async () => {
    const bad = await corruptPclusterImage(tmp);
    const expected = await errorOf(scanImageFile(bad, { hash: true }));
    expect(expected).toBeInstanceOf(ErofsError);
    expect((expected as ErofsError).path).toBe('/text.txt');
    for (const got of [
      await errorOf(scanWithPool(bad, [], 2)), // /text.txt is larger than DIGEST_IN_THREAD_BYTES
      await errorOf(scanWithPool(bad, [], 1, (p) => limited(p, 1))),
      await errorOf(scanImageFile(bad, { hash: true, threads: 2 })),
    ]) {
      expect(got).toBeInstanceOf(ErofsError);
      expect((got as ErofsError).message).toBe((expected as ErofsError).message);
    }
  }, 60_000);

  // Work sharing (DigestPool.takeBack): a thread that never starts a file leaves every file to
  // the scan's own thread, which takes each back rather than wait; before, the scan hung.
  it.each(['erofs/app.fp.lz4hc.img', 'erofs/edge.lzma.frag-dedupe-ztail.img', 'oci/rootfs.lz4hc.img'])(
    '%s: a thread that never starts a file: the scan hashes every file itself, the same NDJSON',
    async (name) => {
      const { path, devices } = images.find((i) => i.name === name)!;
      const inThread = ndjson(await scanImageFile(path, { devices, hash: true }));
      const script = silentThread();
      expect(ndjson(await scanWithPool(path, devices, 1, (p) => p, script))).toBe(inThread);
      expect(ndjson(await scanWithPool(path, devices, 1, (p) => limited(p, 1, true), script))).toBe(inThread);
    },
    60_000,
  );

  it("a corrupt pcluster hashed by the scan's own thread (taken back): the in-thread error", async () => {
    const bad = await corruptPclusterImage(tmp);
    const expected = await errorOf(scanImageFile(bad, { hash: true }));
    expect(expected).toBeInstanceOf(ErofsError);
    const got = await errorOf(scanWithPool(bad, [], 1, (p) => p, silentThread()));
    expect(got).toBeInstanceOf(ErofsError);
    expect((got as ErofsError).message).toBe((expected as ErofsError).message);
    expect((got as ErofsError).path).toBe('/text.txt');
  }, 60_000);

  it('an image truncated under the running scan: EIO, no hang', async () => {
    const path = join(tmp, 'truncated-under.img');
    copyFileSync(join(TESTDATA, 'erofs/app.fp.img'), path);
    const size = readFileSync(path).length;
    // The first file asked for cuts the image to its first 4 KiB (superblock and root inode
    // survive): every thread's read of file data after that finds the file shorter.
    let cut = false;
    const cutting = (pool: DigestPool): ContentDigester => ({
      maxPending: 8,
      inThreadBytes: -1,
      digest(ino: Inode, t: DigestTarget) {
        if (!cut) {
          cut = true;
          truncateSync(path, 4096);
        }
        pool.digest(ino, t);
      },
      flush: () => pool.flush(),
    });
    const err = await errorOf(scanWithPool(path, [], 2, cutting));
    expect(cut).toBe(true);
    expect(size).toBeGreaterThan(4096);
    expect(err).toBeInstanceOf(ErofsError);
    expect((err as ErofsError).code).toBe('EIO');
  }, 60_000);

  // A thread that dies (1 thread, the scan holding 4096 records) or throws (2 threads, 2 records).
  it.each([
    ['exits', 'process.exit(3)', 1, 4096, /content digest thread failed: exited with code 3/],
    ['throws', "{ throw new Error('boom'); }", 2, 2, /content digest thread failed: boom/],
  ] as const)(
    'a thread that %s: its files fail with EIO, the scan ends',
    async (kind, body, threads, maxPending, message) => {
      const script = join(tmp, `${kind}-worker.mjs`);
      writeFileSync(
        script,
        `import { parentPort } from 'node:worker_threads';\nparentPort.once('message', () => ${body});\n`,
      );
      const err = await errorOf(
        scanWithPool(
          join(TESTDATA, 'erofs/app.fp.img'),
          [],
          threads,
          (p) => limited(p, maxPending),
          pathToFileURL(script),
        ),
      );
      expect(err).toBeInstanceOf(ErofsError);
      expect((err as ErofsError).code).toBe('EIO');
      expect((err as ErofsError).message).toMatch(message);
    },
    60_000,
  );
});

// Threads started ahead of their pool (docs/reader.md#digest-threads-started-ahead): a pool
// takes them instead of starting its own, hands them its image and settings, and the scan ends
// those it did not take.
describe('prestartDigestThreads', () => {
  const lz4 = join(TESTDATA, 'erofs/app.fp.lz4hc.img');

  it("a pool takes the threads started ahead, which hash with the pool's image and decoder", async () => {
    const inThread = ndjson(await scanImageFile(lz4, { hash: true }));
    expect(prestartDigestThreads(3)).toBe(3);
    expect(spareDigestThreads()).toBe(3);
    const data: DigestWorkerData = { path: lz4, devices: [], limits: undefined, lz4Decoder: 'js' };
    const pool = new DigestPool(digestWorkerScript()!, data, 2);
    try {
      expect(spareDigestThreads()).toBe(1); // two taken, none started beside them
      // The settings reach the threads with their image: each reports the pool's decoder.
      expect(await pool.threadsStarted()).toEqual([{ lz4Decoder: 'js' }, { lz4Decoder: 'js' }]);
      expect(ndjson(await scanThrough(lz4, [], limited(pool, 4)))).toBe(inThread);
    } finally {
      await pool.close();
      await releaseSpareDigestThreads();
    }
    expect(spareDigestThreads()).toBe(0);
  }, 60_000);

  it('scanImageFile takes what it needs and ends the rest; a second scan starts its own', async () => {
    const inThread = ndjson(await scanImageFile(lz4, { hash: true }));
    prestartDigestThreads(2);
    expect(ndjson(await scanImageFile(lz4, { hash: true, threads: 1 }))).toBe(inThread);
    expect(spareDigestThreads()).toBe(0);
    expect(ndjson(await scanImageFile(lz4, { hash: true, threads: 1 }))).toBe(inThread);
  }, 60_000);

  it('a thread started ahead that ended before a pool took it: the pool starts its own, and sees that one end', async () => {
    const script = join(tmp, 'exit-at-once-worker.mjs');
    writeFileSync(script, 'process.exit(3);\n');
    expect(prestartDigestThreads(1, pathToFileURL(script))).toBe(1);
    // Polled, not slept on: the thread's end marks it (and does not end this process).
    while (spareDigestThreads() > 0) await new Promise((resolve) => setImmediate(resolve));
    // Taking the ended thread would leave the pool waiting on a thread that never answers.
    const err = await errorOf(
      scanWithPool(join(TESTDATA, 'erofs/app.fp.img'), [], 1, (p) => limited(p, 4096), pathToFileURL(script)),
    );
    expect((err as ErofsError).message).toMatch(/content digest thread failed: exited with code 3/);
    await releaseSpareDigestThreads();
  }, 60_000);
});

// docs/development.md#how-worker-threads-end: a pool's threads and the spares no pool took end
// on their own when told there is nothing more (exit 0, no terminate()); a thread with work in
// hand when its pool closes (a failed scan) is terminated, and waited for.
describe('how digest threads end', () => {
  const app = join(TESTDATA, 'erofs/app.fp.img');
  let watch: WorkerWatch | undefined;
  afterEach(() => {
    watch?.restore();
    watch = undefined;
  });

  it('after a scan that went well, and spares not taken: on their own, their threads gone', async () => {
    // Once before counting: the first scan starts libuv's thread pool, which stays.
    await scanWithPool(app, [], 1);
    const before = threadCount();
    watch = watchWorkers();
    await scanWithPool(app, [], 2);
    expect(prestartDigestThreads(2)).toBe(2);
    await releaseSpareDigestThreads();
    expect(watch.terminated()).toBe(0);
    expect(watch.exits).toStrictEqual([0, 0, 0, 0]);
    expect(await threadCountBackTo(before)).toBe(before);
  }, 60_000);

  it('started ahead and taken by a pool: on their own when it closes, their threads gone', async () => {
    // The first attempt's bug: takeSpare() removed every 'exit' listener of the thread, the
    // one its end was awaited with among them; close() waited its 30 s bound and terminated it.
    await scanWithPool(app, [], 1);
    const before = threadCount();
    watch = watchWorkers();
    expect(prestartDigestThreads(2)).toBe(2);
    await scanWithPool(app, [], 2);
    expect(spareDigestThreads()).toBe(0);
    expect(watch.terminated()).toBe(0);
    expect(watch.exits).toStrictEqual([0, 0]);
    expect(await threadCountBackTo(before)).toBe(before);
  }, 60_000);

  it('a thread with a batch in hand when its pool closes is terminated, and waited for', async () => {
    await scanWithPool(app, [], 1);
    const before = threadCount();
    watch = watchWorkers();
    // A thread that starts the batch's file (its claim word) and never finishes it.
    const script = join(tmp, 'stuck-worker.mjs');
    const marker = join(tmp, 'stuck-claimed');
    writeFileSync(
      script,
      [
        "import { writeFileSync } from 'node:fs';",
        "import { parentPort } from 'node:worker_threads';",
        "parentPort.on('message', (m) => {",
        '  if (!m.shared) return;',
        `  Atomics.store(new Int32Array(m.shared, 0, m.nids.length), 0, ${CLAIM_THREAD});`,
        `  writeFileSync(${JSON.stringify(marker)}, '');`,
        '});',
      ].join('\n'),
    );
    const pool = poolOf(app, [], 1, pathToFileURL(script));
    const opened = await openImageFile(app);
    try {
      const got: unknown[] = [];
      pool.digest(opened.image.root, { digested: (_sha, e) => got.push(e) });
      pool.flush();
      while (!existsSync(marker)) await new Promise((resolve) => setTimeout(resolve, 10));
      await pool.close();
      expect(got).toHaveLength(1);
      expect((got[0] as Error).message).toMatch(/closed/);
    } finally {
      await opened.close();
    }
    expect(watch.terminated()).toBe(1);
    expect(watch.exits).toHaveLength(1);
    expect(await threadCountBackTo(before)).toBe(before);
  }, 60_000);
});

describe('defaultDigestThreads', () => {
  it('is one thread per core beside the walking thread, none on one core, at most MAX_DIGEST_THREADS', () => {
    expect(MAX_DIGEST_THREADS).toBe(4);
    expect([1, 2, 3, 4, 5, 6, 64].map((cores) => defaultDigestThreads(cores))).toEqual([0, 1, 2, 3, 4, 4, 4]);
  });
});
