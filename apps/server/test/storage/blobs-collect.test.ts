/**
 * BlobStore.collect() (docs/server.md#garbage-collection) on a real blob folder: what it
 * removes and keeps, and the interleavings the grace argument relies on, made to happen at
 * the exact step (inside the live() callback, between the listing and the removal).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobStore } from '../../src/storage/blobs.js';
import { tempDir } from '../helpers.js';

const HOUR_MS = 3600_000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function store(): BlobStore {
  const d = tempDir('sharemap-blobs-gc-');
  dirs.push(d);
  return new BlobStore(d);
}

/** Store `text` as a blob last written `ageMs` ago. */
async function old(b: BlobStore, text: string, ageMs = 2 * HOUR_MS): Promise<string> {
  const { sha256 } = await b.put(text);
  const t = (Date.now() - ageMs) / 1000;
  utimesSync(b.path(sha256), t, t);
  return sha256;
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('BlobStore.collect', () => {
  it('removes old blobs no row names, keeps named, recent and held ones, and counts bytes', async () => {
    const b = store();
    const orphan = await old(b, 'orphan: 17 bytes!');
    const named = await old(b, 'named by a row');
    const recent = (await b.put('written just now')).sha256;
    // An upload in progress: written with a hold, not yet named, not yet released.
    const held = (await b.write([Buffer.from('held by an upload')], { hold: true })).sha256;
    utimesSync(b.path(held), (Date.now() - 2 * HOUR_MS) / 1000, (Date.now() - 2 * HOUR_MS) / 1000);

    const r = await b.collect(Date.now() - HOUR_MS, () => Promise.resolve(new Set([named])));
    expect(r).toEqual({ blobs: 1, bytes: 17 });
    expect(existsSync(b.path(orphan))).toBe(false);
    for (const k of [named, recent, held]) expect(existsSync(b.path(k))).toBe(true);
  });

  it('keeps a blob a writer stores again between the listing and the removal', async () => {
    const b = store();
    const text = 'the same content, uploaded again';
    const again = await old(b, text);
    // The collector has listed it as old; before it reads the rows, a writer stores the same
    // bytes (and would commit its row after the rows were read).
    const r = await b.collect(Date.now() - HOUR_MS, async () => {
      expect((await b.put(text)).sha256).toBe(again);
      return new Set();
    });
    expect(r).toEqual({ blobs: 0, bytes: 0 });
    expect(existsSync(b.path(again))).toBe(true);
    expect(sha(text)).toBe(again);
  });

  it('ignores what is not a blob name, and finds nothing to do in an empty folder', async () => {
    const b = store();
    expect(await b.collect(Date.now(), () => Promise.reject(new Error('not asked')))).toEqual({
      blobs: 0,
      bytes: 0,
    });
    // A file that is no sha256 name (an operator's note) is never a candidate.
    const stray = path.join(b.blobDir, 'ab', 'README');
    mkdirSync(path.dirname(stray));
    writeFileSync(stray, 'not a blob');
    utimesSync(stray, 0, 0);
    expect(await b.collect(Date.now(), () => Promise.reject(new Error('not asked')))).toEqual({
      blobs: 0,
      bytes: 0,
    });
    expect(existsSync(stray)).toBe(true);
  });
});
