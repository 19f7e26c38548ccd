/**
 * workerTarHasher (the Node entry): a tar stream's digest and its files' fingerprints computed
 * on the worker thread equal node:crypto's and readLayer's on this thread: files whose data
 * spans ring slots (and a chunk larger than a slot, split first), zero-length files, a file
 * exactly one slot long, hard links; every fixture of testdata/oci predicts the same with and
 * without the worker; a truncated tar fails as on this thread and leaves the worker usable; a
 * worker that throws fails the caller with a clear error (no hang) and is stopped and replaced.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { memorySource } from '@sharemap/erofs';
import { describe, expect, it } from 'vitest';
import {
  isOciError,
  predictArchive,
  readLayer,
  readLayerHashed,
  resolveOciLimits,
  TAR_HASH_CHUNK_BYTES,
} from '../src/index.js';
import { DIGEST_SLOT_BYTES, DIGEST_SLOTS, digestWorkerThreadId, workerTarHasher } from '../src/node.js';
import { bytesChunks, hasher, noise, OCI_DATA } from './helpers.js';
import { member, tar } from './tar-writer.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const MiB = 1 << 20;
const limits = resolveOciLimits();

describe('workerTarHasher on its own', () => {
  it('hashes the stream and spans across slots, of zero length and of exactly one slot', async () => {
    const data = noise(DIGEST_SLOT_BYTES * (DIGEST_SLOTS + 3) + 777, 11);
    // [offset, length]: inside one chunk, across two chunks, across many (wrapping the ring),
    // empty, empty at a chunk boundary, exactly one slot starting on a chunk boundary.
    const S = DIGEST_SLOT_BYTES;
    const spans: [number, number][] = [
      [10, 100],
      [S - 50, 100],
      [S + 200, 0],
      [S + 300, 5 * S],
      [6 * S + 400, 0],
      [7 * S, S],
      [8 * S + 1, 2 * S + 500],
    ];
    // Chunks of uneven sizes, none larger than a slot; each span is declared before the chunk
    // after the one holding its start is given, as a tar reader does.
    const cuts = [S, 1, S - 1, 12_345, S, S / 2, S];
    const h = await workerTarHasher();
    let declared = 0;
    for (let p = 0, i = 0; p < data.length; i++) {
      const n = Math.min(cuts[i % cuts.length]!, data.length - p);
      h.update(data.subarray(p, p + n));
      p += n;
      while (declared < spans.length && spans[declared]![0] < p) h.file(...spans[declared++]!);
    }
    while (declared < spans.length) h.file(...spans[declared++]!);
    const r = await h.finish();
    expect(r.digest).toBe(sha256(data));
    expect(r.files).toEqual(spans.map(([o, l]) => sha256(data.subarray(o, o + l))));
    expect(r.files[2]).toBe(EMPTY);
  }, 120_000);

  it('refuses a chunk larger than a slot, and use after finish', async () => {
    const h = await workerTarHasher();
    expect(() => h.update(new Uint8Array(DIGEST_SLOT_BYTES + 1))).toThrow(/exceeds \d+ \(split it first\)/);
    expect((await h.finish()).digest).toBe(EMPTY);
    expect(() => h.update(new Uint8Array(1))).toThrow(/after finish or abort/);
  });
});

// A layer whose files start and end at awkward places for 4 MiB chunks and slots.
const LAYER_FILES: [string, Uint8Array][] = [
  ['etc/small', noise(100, 1)],
  ['etc/empty', new Uint8Array(0)],
  ['usr/big', noise(9 * MiB + 5, 2)],
  ['usr/one-slot', noise(DIGEST_SLOT_BYTES, 3)],
  ['usr/empty2', new Uint8Array(0)],
  ['usr/after', noise(4 * MiB - 1000, 4)],
];
const LAYER = tar(
  member({ name: 'etc/', type: '5', mode: 0o755 }),
  ...LAYER_FILES.map(([name, data]) => member({ name, data, mode: 0o644, mtime: 1700000000 })),
  member({ name: 'usr/big-link', type: '1', linkname: 'usr/big' }),
  member({ name: 'etc/link-to-empty', type: '1', linkname: 'etc/empty' }),
  member({ name: 'usr/sym', type: '2', linkname: 'big' }),
);

describe('readLayerHashed (worker) against readLayer (this thread)', () => {
  it.each([
    ['one read chunk of the whole layer (split into slots)', LAYER.length],
    ['4 MiB read chunks', TAR_HASH_CHUNK_BYTES],
    ['odd 1 MiB + 3 chunks', MiB + 3],
    ['512-byte chunks at the start of each read', 64 * 1024 + 512],
  ])(
    'same members and digests with %s',
    async (_what, chunk) => {
      const here = await readLayer(bytesChunks(LAYER, chunk), { hasher, limits });
      const there = await readLayerHashed(bytesChunks(LAYER, chunk), { tarHasher: workerTarHasher, limits });
      expect(there.members).toEqual(here);
      expect(there.digest).toBe(sha256(LAYER));
      const files = there.members.filter((m) => m.kind === 'file');
      expect(files.map((m) => [m.path.join('/'), m.sha256])).toEqual(
        LAYER_FILES.map(([name, data]) => [name, sha256(data)]),
      );
      expect(files[1]!.sha256).toBe(EMPTY);
      const links = there.members.filter((m) => m.kind === 'hardlink');
      expect(links.map((m) => [m.path.join('/'), m.link?.join('/'), m.sha256])).toEqual([
        ['usr/big-link', 'usr/big', undefined],
        ['etc/link-to-empty', 'etc/empty', undefined],
      ]);
    },
    120_000,
  );

  it('a truncated layer fails as on this thread, and the worker stays usable', async () => {
    const cut = LAYER.subarray(0, 512 * 3 + 6 * MiB); // inside usr/big's data
    const here = await readLayer(bytesChunks(cut, MiB), { hasher, limits }).catch((e: unknown) => e);
    const there = await readLayerHashed(bytesChunks(cut, MiB), { tarHasher: workerTarHasher, limits }).catch(
      (e: unknown) => e,
    );
    expect(isOciError(there, 'ETRUNCATED')).toBe(true);
    expect((there as Error).message).toBe((here as Error).message);
    const again = await readLayerHashed(bytesChunks(LAYER, MiB), { tarHasher: workerTarHasher, limits });
    expect(again.digest).toBe(sha256(LAYER));
  }, 120_000);
});

describe('the fixtures predict the same with the worker as without', () => {
  it.each(['image.docker.tar', 'image.docker25.tar', 'image.oci.tar', 'image.flat.tar', 'rootfs.tar'])(
    '%s, both models',
    async (name) => {
      const bytes = readFileSync(OCI_DATA + name);
      const here = await predictArchive(memorySource(bytes), name, { hasher, hash: true });
      const there = await predictArchive(memorySource(bytes), name, {
        hasher,
        tarHasher: workerTarHasher,
        hash: true,
      });
      expect(JSON.stringify(there)).toBe(JSON.stringify(here));
      expect(there.images.length).toBeGreaterThan(0);
    },
    120_000,
  );
});

describe('a worker that fails', () => {
  it('fails finish with a clear error, is stopped, and the next hasher gets a new worker', async () => {
    const h = await workerTarHasher();
    const failedThread = digestWorkerThreadId();
    expect(failedThread).toBeGreaterThan(0);
    h.update(noise(1000, 5));
    h.file(10, 100);
    h.file(50, 10); // overlaps the previous file: the worker refuses it
    await expect(h.finish()).rejects.toThrow(/digest worker thread failed: .*declared out of order/);
    expect(digestWorkerThreadId()).toBeUndefined();
    const next = await workerTarHasher();
    expect(digestWorkerThreadId()).not.toBe(failedThread);
    next.update(noise(1000, 5));
    next.file(10, 100);
    const r = await next.finish();
    expect(r.files).toEqual([sha256(noise(1000, 5).subarray(10, 110))]);
  }, 120_000);

  it('wakes a thread blocked on a full ring with an error instead of a hang', async () => {
    const h = await workerTarHasher();
    const chunk = noise(DIGEST_SLOT_BYTES, 6);
    h.update(chunk);
    h.file(10, 100);
    h.file(20, 10); // sent with the first chunk: the worker throws while more chunks come
    expect(() => {
      for (let i = 0; i < 4 * DIGEST_SLOTS; i++) h.update(chunk);
    }).toThrow(/digest worker thread failed/);
    h.abort();
    const next = await workerTarHasher();
    next.update(chunk);
    expect((await next.finish()).digest).toBe(sha256(chunk));
  }, 120_000);
});
