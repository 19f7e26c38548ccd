/**
 * Reading a stored manifest blob back (src/scan/stored-manifest.ts): the validating parser's
 * byte fast path gives the very manifest the trusted line-by-line read gives (every testdata
 * image, hashed and not, METABOX included), interned at the same StringTable slots; a stored
 * blob that parser refuses (lines out of order, which the server never writes but a trusted
 * read takes as they are) is read by the trusted path instead; a damaged blob is still refused.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { manifestToNdjson, StringTable, type Manifest } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import {
  readStoredManifest,
  readStoredManifestTrusted,
  StoredBlobDamagedError,
} from '../../src/scan/stored-manifest.js';
import { BlobStore } from '../../src/storage/blobs.js';

const ERofs = path.join(import.meta.dirname, '../../../../testdata/erofs');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function newStore(): BlobStore {
  const d = mkdtempSync(path.join(tmpdir(), 'sharemap-stored-'));
  dirs.push(d);
  return new BlobStore(d);
}

const ndjsonOf = (m: Manifest): string => [...manifestToNdjson(m)].join('');

const images = [
  ...readdirSync(ERofs)
    .filter((f) => f.endsWith('.img'))
    .map((f) => path.join(ERofs, f)),
  ...readdirSync(path.join(ERofs, 'metabox'))
    .filter((f) => f.endsWith('.img'))
    .map((f) => path.join(ERofs, 'metabox', f)),
];

describe('readStoredManifest', () => {
  it('has images to read', () => expect(images.length).toBeGreaterThan(20));

  // Every testdata image scanned twice and read back: ~10 s at load 21, past the 30 s default at load 45.
  it(
    "gives the trusted read's manifest and interned strings for every image, hashed and not",
    { timeout: 180_000 },
    async () => {
      const store = newStore();
      let compared = 0;
      for (const img of images) {
        for (const hash of [false, true]) {
          let m: Manifest;
          try {
            m = await scanImageFile(img, { hash, devices: [] });
          } catch {
            continue; // images that need their devices or that the reader refuses
          }
          const nd = ndjsonOf(m);
          const blob = await store.putGzip([nd]);
          const fast = new StringTable();
          const trusted = new StringTable();
          const a = await readStoredManifest(store, blob.sha256, fast);
          const b = await readStoredManifestTrusted(store, blob.sha256, trusted);
          expect(ndjsonOf(a)).toBe(nd);
          expect(ndjsonOf(b)).toBe(nd);
          // The same values interned in the same order: a path of each table is the other's.
          expect(fast.size).toBe(trusted.size);
          compared++;
        }
      }
      expect(compared).toBeGreaterThan(40);
    },
  );

  it('reads a stored blob the validating parser refuses (records out of order) as the trusted read does', async () => {
    const store = newStore();
    const lines = [
      ...manifestToNdjson(await scanImageFile(path.join(ERofs, 'base-v1.fp.img'), { hash: true })),
    ];
    expect(lines.length).toBeGreaterThan(3);
    const swapped = [lines[0]!, lines[1]!, lines[3]!, lines[2]!, ...lines.slice(4)];
    const blob = await store.putGzip([swapped.join('')]);
    const m = await readStoredManifest(store, blob.sha256, new StringTable());
    expect(ndjsonOf(m)).toBe(swapped.join(''));
  });

  it('refuses a damaged blob with StoredBlobDamagedError', async () => {
    const store = newStore();
    const nd = ndjsonOf(await scanImageFile(path.join(ERofs, 'base-v1.fp.img'), { hash: true }));
    const blob = await store.putGzip([nd]);
    // Another valid gzip manifest under the first one's name: its hash is not its name.
    const other = ndjsonOf(await scanImageFile(path.join(ERofs, 'base-v2.fp.img'), { hash: true }));
    const { gzipSync } = await import('node:zlib');
    writeFileSync(store.path(blob.sha256), gzipSync(other));
    await expect(readStoredManifest(store, blob.sha256, new StringTable())).rejects.toThrow(
      StoredBlobDamagedError,
    );
  });
});
