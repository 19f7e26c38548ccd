/**
 * The trusted read of a stored manifest blob (scan/stored-manifest.ts), into columns: the same Manifest as
 * the validating parser gives for the canonical NDJSON the server stores, and a clear
 * StoredBlobDamagedError, never a manifest, for a blob whose bytes are not what was stored.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { manifestColumns, manifestToNdjson, parseManifest, StringTable } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import { readStoredManifest, StoredBlobDamagedError } from '../../src/scan/stored-manifest.js';
import { BlobStore } from '../../src/storage/blobs.js';
import { erofs, tempDir } from '../helpers.js';

describe('readStoredManifest', () => {
  const dir = tempDir();
  const store = new BlobStore(dir);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function stored(image: string): Promise<{ sha: string; text: string }> {
    const text = [...manifestToNdjson(await scanImageFile(erofs(image), { hash: true }))].join('');
    return { sha: (await store.putGzip([text])).sha256, text };
  }

  it.each(['base-v1.fp.img', 'app.fp.lz4hc.img', 'edge.img', 'edge.zstd.fp.img'])(
    '%s: the manifest the validating parser gives, strings interned',
    async (image) => {
      const { sha, text } = await stored(image);
      const strings = new StringTable();
      const got = await readStoredManifest(store, sha, strings);
      // Read into columns (what the engine reads), which serialise back to the stored lines.
      expect(manifestColumns(got)?.n).toBe(got.file_count);
      expect([...manifestToNdjson(got)].join('')).toBe(text);
      expect(got).toEqual(parseManifest(text));
      // The validating parser's manifest serialises to the stored lines, header and records:
      // the analysis input is rebuilt from those lines (analysis-input.ts).
      const { files, ...header } = parseManifest(text);
      const lines = text.split('\n');
      expect(JSON.stringify(header)).toBe(lines[0]);
      expect(files.map((f) => JSON.stringify(f))).toEqual(lines.slice(1, -1));
      expect(strings.size).toBeGreaterThan(0);
      const again = await readStoredManifest(store, sha, strings);
      expect(again.files[0]!.path).toBe(got.files[0]!.path);
    },
  );

  it('refuses a blob whose content is not what was stored (same gzip, other record)', async () => {
    const { sha, text } = await stored('base-v1.fp.img');
    const path = store.path(sha);
    const original = readFileSync(path);
    // A valid gzip of a manifest that differs in one figure: only the checksum can tell.
    const edited = text.replace(/"size":(\d+)/, (_m, n: string) => `"size":${Number(n) + 1}`);
    expect(edited).not.toBe(text);
    writeFileSync(path, gzipSync(edited));
    const err = await readStoredManifest(store, sha, new StringTable()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoredBlobDamagedError);
    expect((err as Error).message).toContain(`stored blob ${sha} is damaged (its content hashes to `);
    writeFileSync(path, original);
    await expect(readStoredManifest(store, sha, new StringTable())).resolves.toBeDefined();
  });

  it('refuses a truncated blob and a missing one by name', async () => {
    const { sha } = await stored('app.fp.img');
    const path = store.path(sha);
    const original = readFileSync(path);
    expect(gunzipSync(original).length).toBeGreaterThan(0);
    writeFileSync(path, original.subarray(0, original.length >> 1));
    await expect(readStoredManifest(store, sha, new StringTable())).rejects.toThrow(
      new RegExp(`stored blob ${sha} is damaged \\(gzip: `),
    );
    rmSync(path);
    await expect(readStoredManifest(store, sha, new StringTable())).rejects.toThrow(
      `stored blob ${sha} is damaged (missing)`,
    );
  });
});
