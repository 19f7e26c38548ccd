/**
 * The stored columnar form (manifest-columns-codec.ts) gives back the very manifest it was made
 * from: every fixture image's manifest (hashed and not) encoded, decoded and serialised again is
 * the same NDJSON bytes; and damaged bytes (cut anywhere, a wrong magic or version, offsets out
 * of bounds, bad codes, trailing bytes) throw ManifestColumnsCodecError, never a different manifest.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  COLUMNS_CODEC_VERSION,
  decodeManifestColumns,
  encodeManifestColumns,
  ManifestColumnsCodecError,
} from '../src/manifest-columns-codec.js';
import {
  columnarManifest,
  manifestColumns,
  manifestHeader,
  manifestToNdjson,
  parseManifest,
  StringTable,
} from '../src/manifest.js';
import type { Manifest } from '../src/manifest-types.js';
import { scanImageFile } from '../src/node.js';

const DIR = join(import.meta.dirname, '../../../testdata/erofs');
const ndjsonOf = (m: Manifest): string => [...manifestToNdjson(m)].join('');

function encode(m: Manifest): Uint8Array {
  const cols = manifestColumns(m)!;
  const pieces = encodeManifestColumns(manifestHeader(m), cols)!;
  expect(pieces).not.toBeNull();
  return Buffer.concat(pieces);
}

function roundTrip(bytes: Uint8Array, strings?: StringTable): string {
  const { header, cols } = decodeManifestColumns(bytes, strings);
  return ndjsonOf(columnarManifest(header, cols));
}

describe('stored columnar form of a manifest', () => {
  const oracles = readdirSync(DIR).filter((f) => f.endsWith('.expected.json'));
  it('has fixtures to compare', () => expect(oracles.length).toBeGreaterThan(20));
  for (const oracle of oracles) {
    it(`gives back the NDJSON of ${oracle.replace(/\.expected\.json$/, '')}, hashed and not`, async () => {
      const o = JSON.parse(readFileSync(join(DIR, oracle), 'utf8')) as { image: string; devices?: string[] };
      for (const hash of [false, true]) {
        const m = await scanImageFile(join(DIR, o.image), {
          hash,
          devices: (o.devices ?? []).map((d) => join(DIR, d)),
        });
        const nd = ndjsonOf(m);
        const bytes = encode(parseManifest(nd, { columnar: true }));
        expect(roundTrip(bytes)).toBe(nd);
        expect(roundTrip(bytes, new StringTable())).toBe(nd);
      }
    });
  }

  it('keeps METABOX inode numbers and decimal-string nids', async () => {
    for (const img of ['mbox.metabox.fp.img', 'mbox.metabox.fp.lz4hc.img']) {
      const nd = ndjsonOf(await scanImageFile(join(DIR, 'metabox', img), { hash: true }));
      expect(nd).toContain('"ino":');
      expect(roundTrip(encode(parseManifest(nd, { columnar: true })))).toBe(nd);
    }
  });

  it('leaves a manifest with a lone surrogate in a string unencoded (UTF-8 would turn it into U+FFFD)', async () => {
    const nd = ndjsonOf(await scanImageFile(join(DIR, 'base-v1.fp.img'), { hash: true }));
    for (const column of ['paths', 'fingerprint', 'sha256'] as const) {
      const m = parseManifest(nd, { columnar: true });
      const cols = manifestColumns(m)!;
      const values = cols[column]! as (string | null | undefined)[];
      const i = values.findIndex((v) => typeof v === 'string' && v.length > 1);
      expect(i).toBeGreaterThanOrEqual(0);
      values[i] = `${values[i]}\ud800`;
      expect(encodeManifestColumns(manifestHeader(m), cols)).toBeNull();
      values[i] = `${values[i]!.slice(0, -1)}\ud800\udc00`; // a pair is well-formed
      expect(encodeManifestColumns(manifestHeader(m), cols)).not.toBeNull();
    }
  });

  describe('damaged bytes', async () => {
    // edge-mini: symlinks, devices and listed xattrs (the sparse fields).
    const nd = ndjsonOf(await scanImageFile(join(DIR, 'edge-mini.fp-trusted.img'), { hash: true }));
    const good = encode(parseManifest(nd, { columnar: true }));
    it('starts from a form that decodes', () => {
      expect(nd).toContain('"target":');
      expect(nd).toContain('"rdev":');
      expect(roundTrip(good)).toBe(nd);
    });
    const refuses = (bytes: Uint8Array, message: RegExp): void => {
      expect(() => decodeManifestColumns(bytes)).toThrow(ManifestColumnsCodecError);
      expect(() => decodeManifestColumns(bytes)).toThrow(message);
    };

    it('refuses the form cut at any length', () => {
      // Every length through the preamble and header, then every 7th, then the last 64 bytes.
      for (let len = 0; len < good.length; len += len < 256 || len > good.length - 64 ? 1 : 7)
        refuses(good.subarray(0, len), /truncated|JSON|UTF-8|bounds/);
    });
    it('refuses a wrong magic and another version', () => {
      const magic = Uint8Array.from(good);
      magic[0] = 0x00;
      refuses(magic, /magic/);
      const version = Uint8Array.from(good);
      new DataView(version.buffer).setUint32(8, COLUMNS_CODEC_VERSION + 1, true);
      refuses(version, new RegExp(`version ${COLUMNS_CODEC_VERSION + 1}`));
    });
    it('refuses trailing bytes', () => {
      refuses(Buffer.concat([good, Buffer.from([0])]), /1 bytes after the last blob/);
    });
    it('refuses a record count the header does not claim', () => {
      const count = Uint8Array.from(good);
      new DataView(count.buffer).setUint32(16, 1, true);
      refuses(count, /file_count/);
    });
  });
});
