/**
 * readManifestFile reads a manifest a piece at a time (MANIFEST_READ_PIECE_BYTES, the next piece
 * read while one is parsed): a manifest larger than several pieces, with lines cut by the piece
 * boundaries, read from a file or from a pipe, plain or gzip, must be what the whole bytes parse
 * to, and a bad one must be refused with the same one line.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { manifestToNdjson, parseManifestBytes, type FileRecord, type Manifest } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import { MANIFEST_READ_PIECE_BYTES, readManifestFile } from '../src/inputs.js';
import { fx, tmp } from './helpers.js';

/**
 * A real manifest (a fixture scanned with --hash) grown past three read pieces: copies of its
 * largest regular file's record under a new directory, in path order.
 */
async function bigManifestText(): Promise<string> {
  const m = await scanImageFile(fx('app.fp.img'), { hash: true });
  const files = [...m.files];
  const dir = files.find((f) => f.type === 'dir' && f.path !== '/')!;
  const file = files.filter((f) => f.type === 'file').sort((a, b) => b.size - a.size)[0]!;
  const extra: FileRecord[] = [{ ...dir, path: '/~grown' }];
  const line = [...manifestToNdjson({ ...m, file_count: 1, files: [file] })][1]!.length;
  const count = Math.ceil((3.5 * MANIFEST_READ_PIECE_BYTES) / line);
  for (let i = 0; i < count; i++) extra.push({ ...file, path: `/~grown/f${String(i).padStart(7, '0')}` });
  const all = [...files, ...extra].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  const grown: Manifest = { ...m, file_count: all.length, files: all };
  return [...manifestToNdjson(grown)].join('');
}

/** Header and records of a (columnar) manifest, for comparison. */
const plain = (m: Manifest): unknown => ({ ...m, files: [...m.files] });

/** Write `bytes` into a named pipe from another process while `read` reads it. */
async function throughPipe<T>(bytes: Uint8Array, read: (path: string) => Promise<T>): Promise<T> {
  const dir = tmp();
  const src = join(dir, 'src');
  writeFileSync(src, bytes);
  const fifo = join(dir, 'fifo');
  const mk = spawn('mkfifo', [fifo]);
  await new Promise((resolve) => mk.on('close', resolve));
  const writer = spawn('sh', ['-c', 'cat "$0" > "$1"', src, fifo]);
  const done = new Promise((resolve) => writer.on('close', resolve));
  try {
    return await read(fifo);
  } finally {
    await done;
  }
}

describe('readManifestFile', () => {
  it('reads a manifest of several pieces from a file and from a pipe as its whole bytes parse', async () => {
    const text = await bigManifestText();
    const bytes = Buffer.from(text);
    expect(bytes.length).toBeGreaterThan(3 * MANIFEST_READ_PIECE_BYTES);
    const want = plain(parseManifestBytes(bytes, { columnar: true }));
    const path = join(tmp(), 'big.ndjson');
    writeFileSync(path, bytes);
    expect(plain(await readManifestFile(path))).toStrictEqual(want);
    expect(plain(await throughPipe(bytes, (p) => readManifestFile(p)))).toStrictEqual(want);
    // gzip, told by its bytes: from a file and through a pipe (read to its end, then inflated).
    const gz = gzipSync(bytes);
    const gzPath = join(tmp(), 'big.manifest');
    writeFileSync(gzPath, gz);
    expect(plain(await readManifestFile(gzPath))).toStrictEqual(want);
    expect(plain(await throughPipe(gz, (p) => readManifestFile(p)))).toStrictEqual(want);
    // Stored, not deflated: larger than several pieces, read whole from a file and through a
    // pipe (readRest) before it is inflated.
    const stored = gzipSync(bytes, { level: 0 });
    expect(stored.length).toBeGreaterThan(3 * MANIFEST_READ_PIECE_BYTES);
    const storedPath = join(tmp(), 'stored.manifest');
    writeFileSync(storedPath, stored);
    expect(plain(await readManifestFile(storedPath))).toStrictEqual(want);
    expect(plain(await throughPipe(stored, (p) => readManifestFile(p)))).toStrictEqual(want);
  }, 120_000);

  it('refuses a bad record past the first piece naming its line, and an empty file, in one line', async () => {
    const text = await bigManifestText();
    const lines = text.split('\n');
    const at = lines.length - 10; // well past the first piece
    lines[at] = lines[at]!.replace('"type":"file"', '"type":"nope"');
    const path = join(tmp(), 'bad.ndjson');
    writeFileSync(path, lines.join('\n'));
    const err = await readManifestFile(path).then(
      () => null,
      (e: Error) => e.message,
    );
    expect(err).toBe(`${path}: manifest line ${at + 1}, field type: invalid type "nope"`);
    expect(err).not.toContain('\n');
    const empty = join(tmp(), 'empty.ndjson');
    writeFileSync(empty, '');
    await expect(readManifestFile(empty)).rejects.toThrow(`${empty}: manifest line 1: empty manifest`);
    await expect(readManifestFile(join(tmp(), 'missing.ndjson'))).rejects.toThrow(
      /missing\.ndjson: cannot read: /,
    );
  }, 120_000);
});
