/**
 * Layer data that spans the archive reader's read chunks (tar-index.ts, 4 MiB) and the digest
 * worker's ring slots (node.ts): every file's sha256 and the layer digest equal node:crypto's
 * over the same bytes, the prediction is the same with the layer digest on the worker thread
 * (workerSha256) as on this one, and a changed byte deep in the layer is still caught.
 */
import { createHash } from 'node:crypto';
import { memorySource } from '@sharemap/erofs';
import { describe, expect, it } from 'vitest';
import { isOciError, loadImages, openArchive, predictImage, type LoadOptions } from '../src/index.js';
import { workerSha256 } from '../src/node.js';
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

async function load(archive: Uint8Array, o: Partial<LoadOptions> = {}) {
  const a = await openArchive(memorySource(archive), 'chunks.tar');
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
