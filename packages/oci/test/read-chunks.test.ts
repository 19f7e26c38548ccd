/**
 * Layer data that spans the archive reader's read chunks (tar-index.ts, 4 MiB) and the digest
 * worker's ring slots (node.ts): every file's sha256 and the layer digest equal node:crypto's
 * over the same bytes, the prediction is the same with the layer digest on the worker thread
 * (workerSha256) as on this one, and a changed byte deep in the layer is still caught.
 */
import { createHash } from 'node:crypto';
import { memorySource, type ByteSource } from '@sharemap/erofs';
import { describe, expect, it } from 'vitest';
import { isOciError, loadImages, openArchive, predictImage, type LoadOptions } from '../src/index.js';
import { workerSha256, workerTarHasher } from '../src/node.js';
import { hasher, noise } from './helpers.js';
import { member, tar } from './tar-writer.js';

const enc = new TextEncoder();
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const MiB = 1 << 20;

// A 9 MiB + 5 file crosses two 4 MiB read chunks; the small ones around it start mid-chunk.
const FILES: [string, Uint8Array][] = [
  ['etc/small', noise(100, 1)],
  ['usr/big', noise(9 * MiB + 5, 2)],
  ['usr/after', noise(4 * MiB - 1000, 3)],
  ['usr/last', noise(1, 4)],
];
const LAYER = tar(...FILES.map(([name, data]) => member({ name, data, mode: 0o644, mtime: 1700000000 })));

/** A Docker <= 24 `docker save` archive of one layer (its directory named by a 64-hex id). */
function dockerSave(layer: Uint8Array, diffId = `sha256:${sha256(layer)}`): Uint8Array {
  const layerPath = `${sha256(enc.encode('layer 1'))}/layer.tar`;
  const config = enc.encode(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } }),
  );
  const cfgName = `${sha256(config)}.json`;
  const manifest = enc.encode(
    JSON.stringify([{ Config: cfgName, RepoTags: ['test/chunks:latest'], Layers: [layerPath] }]),
  );
  return tar(
    member({ name: layerPath, data: layer }),
    member({ name: cfgName, data: config }),
    member({ name: 'manifest.json', data: manifest }),
  );
}

async function load(archive: Uint8Array | ByteSource, o: Partial<LoadOptions> = {}) {
  const src = archive instanceof Uint8Array ? memorySource(archive) : archive;
  const a = await openArchive(src, 'chunks.tar');
  if (a.kind === 'rootfs') throw new Error('not an image archive');
  return (await loadImages(a.files, { hasher, ...o })).images;
}

describe('reading layers in large chunks', () => {
  it('hashes files across read chunks, with the layer digest on this thread or the worker', async () => {
    const archive = dockerSave(LAYER);
    const here = await load(archive);
    const worker = await load(archive, { digestHasher: workerSha256 });
    const files = here[0]!.layers[0]!.members.filter((m) => m.kind === 'file');
    expect(files.map((m) => [m.path.join('/'), m.size, m.sha256])).toEqual(
      FILES.map(([name, data]) => [name, data.length, sha256(data)]),
    );
    expect(here[0]!.layers[0]!.diffId).toBe(`sha256:${sha256(LAYER)}`);
    expect(predictImage(worker[0]!, { hash: true })).toEqual(predictImage(here[0]!, { hash: true }));
  }, 120_000);

  it('catches one changed byte deep in the layer when the digest runs on the worker', async () => {
    const bad = LAYER.slice();
    const at = 512 + 512 + 100 + 6 * MiB; // inside usr/big, in the second read chunk
    bad[at] = bad[at]! ^ 1;
    const err = await load(dockerSave(bad, `sha256:${sha256(LAYER)}`), { digestHasher: workerSha256 }).catch(
      (e: unknown) => e,
    );
    expect(isOciError(err) && err.code).toBe('EDIGEST');
    expect((err as Error).message).toContain(`sha256:${sha256(bad)}`);
  }, 120_000);
});

// Six read chunks: a 17 MiB file whose header lies four chunks before its end, then many small
// files, then a 5 MiB one.
const MANY: [string, Uint8Array][] = [
  ['a/first', noise(3000, 5)],
  ['a/huge', noise(17 * MiB + 3, 6)],
  ...Array.from({ length: 50 }, (_, i): [string, Uint8Array] => [`b/f${i}`, noise(1000 + i * 997, 10 + i)]),
  ['b/tail', noise(5 * MiB, 7)],
];
const MANY_LAYER = tar(...MANY.map(([name, data]) => member({ name, data, mode: 0o600, mtime: 1700000001 })));

/** A memory source that counts its reads: `readInto` means recycled buffers. */
function countingSource(bytes: Uint8Array, withReadInto: boolean) {
  const m = memorySource(bytes);
  const counts = { read: 0, readInto: 0 };
  const src: ByteSource = {
    size: m.size,
    read: (o, n) => (counts.read++, m.read(o, n)),
    ...(withReadInto
      ? { readInto: (o: number, t: Uint8Array) => (counts.readInto++, m.readInto!(o, t)) }
      : {}),
  };
  return { src, counts };
}

describe('recycled read buffers (StreamOptions.recycle)', () => {
  it('predict the same as fresh buffers, with the hashes on the worker or on this thread', async () => {
    const archive = dockerSave(MANY_LAYER);
    const recycled = countingSource(archive, true);
    const worker = await load(recycled.src, { digestHasher: workerSha256, tarHasher: workerTarHasher });
    expect(recycled.counts.readInto).toBe(Math.ceil(MANY_LAYER.length / (4 * MiB)));
    const recycledHere = await load(countingSource(archive, true).src);
    const fresh = countingSource(archive, false);
    const here = await load(fresh.src);
    expect(fresh.counts.readInto).toBe(0);
    const files = here[0]!.layers[0]!.members.filter((m) => m.kind === 'file');
    expect(files.map((m) => [m.path.join('/'), m.sha256])).toEqual(MANY.map(([n, d]) => [n, sha256(d)]));
    expect(predictImage(worker[0]!, { hash: true })).toEqual(predictImage(here[0]!, { hash: true }));
    expect(predictImage(recycledHere[0]!, { hash: true })).toEqual(predictImage(here[0]!, { hash: true }));
  }, 120_000);

  it('name the member in a truncation error read chunks after its header', async () => {
    // The layer ends 16.5 MiB into a/huge, in its fifth read chunk: the first chunk, which
    // held the file's header, was read into the buffer the fifth reuses.
    const cut = MANY_LAYER.subarray(0, 512 + 3072 + 512 + 16.5 * MiB);
    for (const o of [{}, { tarHasher: workerTarHasher }]) {
      const err = await load(countingSource(dockerSave(cut), true).src, o).catch((e: unknown) => e);
      expect(isOciError(err) && err.code).toBe('ETRUNCATED');
      expect((err as Error).message).toContain('path "a/huge"');
    }
  }, 120_000);
});
