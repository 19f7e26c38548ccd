/** predictArchive's path limit (OciLimits.maxPaths): checked while each tree is walked. */
import { readFileSync } from 'node:fs';
import { memorySource } from '@sharemap/erofs';
import { describe, expect, it } from 'vitest';
import { isOciError, modelManifests, predictArchive } from '../src/index.js';
import { hasher, OCI_DATA } from './helpers.js';

const archive = () => memorySource(readFileSync(OCI_DATA + 'image.docker.tar'));

describe('predictArchive maxPaths', () => {
  it('every manifest of both models counts: 37 passes, 36 refuses layer 1, 33 the flattened image (ELIMIT)', async () => {
    // image.flat.files.json: 34 paths; image.layerN.files.json: 37, 24, 18.
    const a = await predictArchive(archive(), 'image.docker.tar', { hasher, limits: { maxPaths: 37 } });
    expect(modelManifests(a.images, 'flattened').map((m) => m.files.length)).toEqual([34]);
    expect(modelManifests(a.images, 'layers').map((m) => m.files.length)).toEqual([37, 24, 18]);
    const layer: unknown = await predictArchive(archive(), 'image.docker.tar', {
      hasher,
      limits: { maxPaths: 36 },
    }).catch((x: unknown) => x);
    expect(isOciError(layer, 'ELIMIT')).toBe(true);
    expect((layer as Error).message).toMatch(/predicted image layer-10d04b0e32c48b02 has more than 36 paths/);
    const e: unknown = await predictArchive(archive(), 'image.docker.tar', {
      hasher,
      limits: { maxPaths: 33 },
    }).catch((x: unknown) => x);
    expect(isOciError(e, 'ELIMIT')).toBe(true);
    expect((e as Error).message).toMatch(
      /predicted image sharemap_demo:1\.0 has more than 33 paths \(maxPaths\)/,
    );
  });

  it('a rootfs tar (82 paths) too', async () => {
    const src = memorySource(readFileSync(OCI_DATA + 'rootfs.tar'));
    const e: unknown = await predictArchive(src, 'rootfs.tar', { hasher, limits: { maxPaths: 81 } }).catch(
      (x: unknown) => x,
    );
    expect(isOciError(e, 'ELIMIT')).toBe(true);
  });
});
