/**
 * The browser scan's manifest (lib/scan.ts, what the scan worker uploads) is, byte for byte,
 * what `sharemap scan --hash --ndjson` writes for the same image: the streamed Blob parts join
 * into the CLI's NDJSON whatever their size.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getLz4Decoder, lz4WasmAvailable, setLz4Decoder } from '@sharemap/erofs';
import { CHUNK_BYTES, pooledSha256, scanToNdjson } from '../../src/lib/scan';
// The CLI in-process, as its own tests run it: the reference output.
import { cli, fx } from '../../../cli/test/helpers.js';

/** Fixtures with fingerprints, lz4hc, xattrs, odd names, hard links, and a device (blob). */
/** Each case scans its image four times with hashing: generous on a loaded machine. */
const TIMEOUT_MS = 180_000;
const IMAGES: { image: string; devices?: string[] }[] = [
  { image: 'app.fp.img' },
  { image: 'base-v1.fp.lz4hc.img' },
  { image: 'edge-mini.fp-trusted.img' },
  { image: 'edge-mini.mkfs15.lz4hc.img' },
  { image: 'edge-mini.chunk4k.blob.img', devices: ['edge-mini.chunk4k.blob.blob'] },
];

const bytesOf = async (b: Blob) => Buffer.from(await b.arrayBuffer());
const fileBlob = (path: string) => new Blob([readFileSync(path)]);

describe('scanToNdjson', () => {
  for (const { image, devices = [] } of IMAGES)
    it(
      `gives the bytes of sharemap scan --hash --ndjson for ${image}`,
      async () => {
        const ref = await cli([
          'scan',
          fx(image),
          '--hash',
          '--ndjson',
          ...devices.flatMap((d) => ['--device', fx(d)]),
        ]);
        expect(ref.stderr).toBe('');
        expect(ref.code).toBe(0);
        const expected = Buffer.from(ref.stdout, 'utf8');
        const lines = ref.stdout.split('\n').length - 2; // header and final newline
        // The default part size (one part for a fixture) and tiny parts (a part per record or
        // two, and records longer than a part): the parts join into the same bytes.
        for (const chunkBytes of [CHUNK_BYTES, 700, 64]) {
          let progressed = 0;
          const out = await scanToNdjson(
            fileBlob(fx(image)),
            basename(image),
            devices.map((d) => fileBlob(fx(d))),
            (files) => void (progressed = files),
            { chunkBytes },
          );
          expect(out.files).toBe(lines);
          expect(out.ndjson.type).toBe('application/x-ndjson');
          expect((await bytesOf(out.ndjson)).equals(expected)).toBe(true);
          expect(progressed).toBeLessThanOrEqual(lines);
        }
      },
      TIMEOUT_MS,
    );

  it('refuses what is not an EROFS image with the reader error', async () => {
    await expect(
      scanToNdjson(new Blob([new Uint8Array(8192)]), 'zeros.img', [], () => undefined),
    ).rejects.toMatchObject({ code: 'EBADMAGIC' });
  });
});

// The scan worker decodes LZ4 with the WebAssembly decoder (docs/reader.md#lz4-decoders), the
// JavaScript one where WebAssembly is refused: a compressed image's manifest is the same.
describe('scanToNdjson with either LZ4 decoder', () => {
  it.each(['base-v1.fp.lz4hc.img', 'edge-mini.mkfs15.lz4hc.img'])(
    '%s: the WebAssembly decoder (the default) and the JavaScript one give the same bytes',
    async (image) => {
      expect(lz4WasmAvailable()).toBe(true);
      expect(getLz4Decoder()).toBe('wasm');
      const viaWasm = await scanToNdjson(fileBlob(fx(image)), basename(image), [], () => undefined);
      setLz4Decoder('js');
      try {
        const viaJs = await scanToNdjson(fileBlob(fx(image)), basename(image), [], () => undefined);
        expect(viaJs.files).toBe(viaWasm.files);
        expect((await bytesOf(viaJs.ndjson)).equals(await bytesOf(viaWasm.ndjson))).toBe(true);
      } finally {
        setLz4Decoder('wasm');
      }
      expect((await bytesOf(viaWasm.ndjson)).toString()).toContain('"sha256":');
    },
    TIMEOUT_MS,
  );
});

describe('pooledSha256', () => {
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  it('gives node:crypto digests for files hashed one after another on one instance', async () => {
    const factory = pooledSha256();
    const inputs = [new Uint8Array(0), new TextEncoder().encode('a/b/c\n'), new Uint8Array(70_000).fill(7)];
    for (const input of [...inputs, ...inputs]) {
      const h = await factory();
      h.update(input.subarray(0, 5));
      h.update(input.subarray(5));
      expect(h.digestHex()).toBe(sha(input));
    }
  });
  it('keeps overlapping hashes apart', async () => {
    const factory = pooledSha256();
    const a = await factory();
    const b = await factory();
    a.update(new TextEncoder().encode('one'));
    b.update(new TextEncoder().encode('two'));
    expect(b.digestHex()).toBe(sha(new TextEncoder().encode('two')));
    const c = await factory(); // reuses b's instance, reset
    c.update(new TextEncoder().encode('three'));
    expect(a.digestHex()).toBe(sha(new TextEncoder().encode('one')));
    expect(c.digestHex()).toBe(sha(new TextEncoder().encode('three')));
  });
});
