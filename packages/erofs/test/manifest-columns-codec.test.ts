/**
 * The stored columnar form (manifest-columns-codec.ts) gives back the very manifest it was made
 * from: every fixture image's manifest (hashed and not) encoded, decoded and serialised again is
 * the same NDJSON bytes; and damaged bytes (cut anywhere, a wrong magic or version, offsets out
 * of bounds, bad codes, trailing bytes) throw ManifestColumnsCodecError, never a different manifest.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type ColumnsByteSource,
  COLUMNS_CODEC_VERSION,
  decodeManifestColumns,
  encodeManifestColumns,
  ManifestColumnsCodecError,
} from '../src/manifest-columns-codec.js';
import {
  columnarManifest,
  ManifestColumns,
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

/**
 * The bytes as a ColumnsByteSource gives them: each section in a buffer of its own (the server
 * reads its columnar files so); `atEnd` runs once the last byte is taken (a checksum's place).
 */
function sourceOf(bytes: Uint8Array, atEnd?: () => void): ColumnsByteSource & { given: ArrayBufferLike[] } {
  let at = 0;
  const given: ArrayBufferLike[] = [];
  return {
    length: bytes.length,
    given,
    next(count) {
      const out = new Uint8Array(count);
      out.set(bytes.subarray(at, at + count));
      at += count;
      given.push(out.buffer);
      if (at === bytes.length) atEnd?.();
      return out;
    },
  };
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
        const { header, cols } = decodeManifestColumns(sourceOf(bytes), new StringTable());
        expect(ndjsonOf(columnarManifest(header, cols))).toBe(nd);
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

  it('stores each distinct fingerprint once, and each record its index among them (version 2 and later)', async () => {
    // edge: duplicates and hard links (75 fingerprints, 68 distinct).
    const nd = ndjsonOf(await scanImageFile(join(DIR, 'edge.zstd.fp.img'), { hash: true }));
    const m = parseManifest(nd, { columnar: true });
    const fps = manifestColumns(m)!.fingerprint.filter((v): v is string => v !== null);
    const distinct = [...new Set(fps)];
    expect(distinct.length).toBeGreaterThan(50);
    expect(distinct.length).toBeLessThan(fps.length); // files of equal content share one
    const bytes = encode(m);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(dv.getUint32(8, true)).toBe(COLUMNS_CODEC_VERSION); // 3
    expect(dv.getUint32(8 + 4 * 8, true)).toBe(distinct.length);
    // The fingerprint blob holds the distinct values alone (hex: a byte per character).
    expect(dv.getUint32(8 + 4 * 6, true)).toBe(distinct.join('').length);
    // An empty table takes the distinct values as stored (first seen, first), unhashed; the
    // records' indices are theirs. Paths and sha256s stay as decoded here (the server's way).
    const strings = new StringTable();
    const { cols, fingerprintIndex } = decodeManifestColumns(bytes, {
      internAt: (_slot, s) => s,
      internDistinct: (values) => strings.internDistinct(values),
    });
    expect(ndjsonOf(columnarManifest(manifestHeader(m), cols))).toBe(nd);
    expect(strings.size).toBe(distinct.length);
    for (let i = 0; i < cols.n; i++) {
      const fp = cols.fingerprint[i] ?? null;
      if (fp === null) expect(fingerprintIndex![i]).toBe(-1);
      else {
        expect(fingerprintIndex![i]).toBe(distinct.indexOf(fp));
        expect(strings.stringAt(fingerprintIndex![i]!)).toBe(fp);
      }
    }
    // Lookups after it find them (the table is hashed when first asked).
    expect(strings.indexOf(distinct[7]!)).toBe(7);
    expect(strings.indexOf(fps[fps.length - 1]!)).toBe(distinct.indexOf(fps[fps.length - 1]!));
  });

  it('numbers distinct fingerprints of every form in order of first appearance (digests held as bytes, others apart)', async () => {
    const base = parseManifest(ndjsonOf(await scanImageFile(join(DIR, 'base-v1.fp.img'), { hash: true })), {
      columnar: true,
    });
    const template = base.files.find((f) => f.type === 'file' && f.fingerprint !== null)!;
    const digest = (k: number): string => createHash('sha256').update(String(k)).digest('hex');
    // 6,000 sha256-form values (the table grows and rehashes), each seen again later, with
    // values of other forms between them: upper case, a non-hex character, serials, one that
    // differs from a digest form only in its prefix, and the same digests' upper-case twins.
    const values: (string | null)[] = [];
    for (let k = 0; k < 6_000; k++) {
      values.push(`7368613235363a${digest(k)}`);
      if (k % 7 === 0) values.push(`7368613235363a${digest(k)}`.toUpperCase());
      if (k % 11 === 0) values.push(`7368613235363a${digest(k).slice(0, 63)}g`);
      if (k % 13 === 0) values.push(`serial-${k % 50}`.replace(/[^0-9a-f]/g, 'a'));
      if (k % 17 === 0) values.push(`7368613235363b${digest(k)}`);
      if (k % 5 === 0) values.push(null);
      if (k >= 3_000) values.push(`7368613235363a${digest(k - 3_000)}`);
    }
    const files = values.map((fingerprint, i) => ({
      ...template,
      path: `/f${String(i).padStart(6, '0')}`,
      fingerprint,
    }));
    const m = columnarManifest(
      { ...manifestHeader(base), file_count: files.length },
      ManifestColumns.fromRecords(files),
    );
    const bytes = encode(m);
    const distinct = [...new Set(values.filter((v): v is string => v !== null))];
    const strings = new StringTable();
    const { cols, fingerprintIndex } = decodeManifestColumns(bytes, {
      internAt: (_slot, s) => s,
      internDistinct: (v) => strings.internDistinct(v),
    });
    expect(strings.size).toBe(distinct.length);
    for (let k = 0; k < distinct.length; k++) expect(strings.stringAt(k)).toBe(distinct[k]);
    const at = new Map(distinct.map((v, k) => [v, k]));
    for (let i = 0; i < values.length; i++) {
      expect(cols.fingerprint[i] ?? null).toBe(values[i]);
      expect(fingerprintIndex![i]).toBe(values[i] === null ? -1 : at.get(values[i]!));
    }
  });

  it('reads a form section by section from a ColumnsByteSource, keeping its sections as the typed columns', async () => {
    const nd = ndjsonOf(await scanImageFile(join(DIR, 'edge-mini.fp-trusted.img'), { hash: true }));
    const bytes = encode(parseManifest(nd, { columnar: true }));
    const src = sourceOf(bytes);
    const { cols } = decodeManifestColumns(src, new StringTable());
    expect(ndjsonOf(columnarManifest(decodeManifestColumns(bytes).header, cols))).toBe(nd);
    for (const c of [cols.size, cols.mtime, cols.nid, cols.uid, cols.mode, cols.type])
      expect(src.given).toContain(c.buffer);
    // From bytes in memory, the columns are copies: the caller's buffer is not kept.
    const fromBytes = decodeManifestColumns(bytes).cols;
    expect(fromBytes.size.buffer).not.toBe(bytes.buffer);
    // What the source throws at its last byte (a checksum that does not match) comes through,
    // before any string is interned.
    const strings = new StringTable();
    expect(() =>
      decodeManifestColumns(
        sourceOf(bytes, () => {
          throw new Error('its CRC-32 does not match its bytes');
        }),
        strings,
      ),
    ).toThrow('CRC-32');
    expect(strings.size).toBe(0);
  });

  it("gives back the sha256s, those that are their fingerprint's tail (taken from it) and any other", async () => {
    const base = parseManifest(ndjsonOf(await scanImageFile(join(DIR, 'base-v1.fp.img'), { hash: true })), {
      columnar: true,
    });
    const template = base.files.find((f) => f.type === 'file' && f.fingerprint !== null)!;
    const digest = (k: number): string => createHash('sha256').update(String(k)).digest('hex');
    const rows: { fingerprint: string | null; sha256: string | undefined }[] = [];
    for (let k = 0; k < 400; k++) {
      const d = digest(k % 150); // each fingerprint on several records
      rows.push({ fingerprint: `7368613235363a${d}`, sha256: d }); // the usual binding
      if (k % 3 === 0) rows.push({ fingerprint: `7368613235363a${d}`, sha256: digest(k + 1000) }); // R12 mismatch
      if (k % 5 === 0) rows.push({ fingerprint: `7368613235363a${d}`, sha256: undefined });
      if (k % 7 === 0) rows.push({ fingerprint: null, sha256: d });
      if (k % 11 === 0) rows.push({ fingerprint: `7368613235363a${d}`.toUpperCase(), sha256: d });
      if (k % 13 === 0) rows.push({ fingerprint: `serial-${k}`.replace(/[^0-9a-f]/g, 'a'), sha256: d });
      if (k % 17 === 0) rows.push({ fingerprint: `7368613235363b${d}`, sha256: d }); // another prefix, same tail
      if (k % 19 === 0) rows.push({ fingerprint: d.slice(0, 40), sha256: d }); // shorter than a digest
    }
    const files = rows.map((r, i) => ({
      ...template,
      path: `/f${String(i).padStart(6, '0')}`,
      fingerprint: r.fingerprint,
      sha256: r.sha256,
    }));
    const m = columnarManifest(
      { ...manifestHeader(base), file_count: files.length },
      ManifestColumns.fromRecords(files),
    );
    const bytes = encode(m);
    for (const strings of [undefined, new StringTable()]) {
      const { cols } = decodeManifestColumns(bytes, strings);
      for (let i = 0; i < rows.length; i++) expect(cols.sha256![i]).toBe(rows[i]!.sha256);
      expect(ndjsonOf(columnarManifest(manifestHeader(m), cols))).toBe(ndjsonOf(m));
    }
    // Version 3: a sha256 that is its fingerprint's last 64 characters is a presence byte of 2,
    // nothing in the sha256 blob; any other is stored (1), an absent one is 0.
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = rows.length;
    const tail = (r: (typeof rows)[number]): boolean =>
      r.sha256 !== undefined && r.fingerprint !== null && r.fingerprint.endsWith(r.sha256);
    expect(rows.filter(tail).length).toBeGreaterThan(400);
    expect(rows.filter((r) => r.sha256 !== undefined && !tail(r)).length).toBeGreaterThan(100);
    const stored = rows.filter((r) => r.sha256 !== undefined && !tail(r));
    expect(dv.getUint32(8 + 4 * 7, true)).toBe(stored.reduce((sum, r) => sum + r.sha256!.length, 0));
    const blobs = [5, 6, 7].reduce((sum, k) => sum + dv.getUint32(8 + 4 * k, true), 0);
    const presence = bytes.subarray(bytes.length - blobs - n, bytes.length - blobs);
    expect([...presence]).toEqual(rows.map((r) => (r.sha256 === undefined ? 0 : tail(r) ? 2 : 1)));
  });

  it('reads string blobs a piece at a time from a source that gives pieces: values across their borders, non-ASCII and not UTF-8', async () => {
    const base = parseManifest(ndjsonOf(await scanImageFile(join(DIR, 'base-v1.fp.img'), { hash: true })), {
      columnar: true,
    });
    const template = base.files.find((f) => f.type === 'file' && f.fingerprint !== null)!;
    const digest = (k: number): string => createHash('sha256').update(String(k)).digest('hex');
    const files = Array.from({ length: 300 }, (_, i) => {
      const d = digest(i % 70);
      return {
        ...template,
        // Two-, three- and four-byte characters in some paths: a piece may end inside one.
        path: `/d${i % 9}/${i % 4 === 0 ? `\u00fc\u20ac\u{1d11e}-${i}` : `file-${String(i).padStart(5, '0')}`}`,
        fingerprint: i % 11 === 0 ? null : `7368613235363a${d}`,
        sha256: i % 7 === 0 ? digest(i + 1000) : i % 11 === 0 ? undefined : d,
      };
    });
    files.sort((a, b) => (a.path < b.path ? -1 : 1));
    const m = columnarManifest(
      { ...manifestHeader(base), file_count: files.length },
      ManifestColumns.fromRecords(files),
    );
    const bytes = encode(m);
    const nd = ndjsonOf(m);
    /** sourceOf's sections, and the string blobs in pieces of `size` bytes of one reused buffer. */
    const piecesOf = (from: Uint8Array, size: number, atEnd?: () => void) => {
      const src = sourceOf(from, atEnd);
      let at = 0;
      const buffer = new Uint8Array(size);
      const counts: number[] = [];
      const next = src.next.bind(src);
      return Object.assign(src, {
        counts,
        next(count: number) {
          at += count;
          return next(count);
        },
        pieces(count: number, each: (b: Uint8Array) => void) {
          counts.push(count);
          for (let got = 0; got < count;) {
            const k = Math.min(size, count - got);
            buffer.set(from.subarray(at, at + k));
            each(buffer.subarray(0, k));
            buffer.fill(0x3f); // the piece is not kept: overwritten once handed over
            got += k;
            at += k;
          }
          if (at === from.length) atEnd?.();
        },
      });
    };
    for (const size of [1, 2, 3, 5, 64, 1 << 20]) {
      for (const strings of [undefined, new StringTable()]) {
        const src = piecesOf(bytes, size);
        const { header, cols } = decodeManifestColumns(src, strings);
        expect(ndjsonOf(columnarManifest(header, cols))).toBe(nd);
        // The three blobs (paths, fingerprints, sha256s) came as pieces.
        expect(src.counts).toHaveLength(3);
      }
    }
    // Interned from their bytes (a table that cannot adopt them): the paths keep their bytes.
    const strings = new StringTable();
    strings.internAt(0, '/elsewhere');
    const src = piecesOf(bytes, 3);
    expect(ndjsonOf(columnarManifest(manifestHeader(m), decodeManifestColumns(src, strings).cols))).toBe(nd);
    expect(src.counts).toHaveLength(2);
    // A path blob that is not UTF-8 fails as it did from whole bytes; a checksum that fails at
    // the last byte comes first.
    const bad = bytes.slice();
    const at = Buffer.from(bad).indexOf(Buffer.from('\u20ac'));
    expect(at).toBeGreaterThan(0);
    bad[at] = 0xff;
    expect(() => decodeManifestColumns(bad)).toThrow(/^paths are not UTF-8/);
    for (const size of [1, 7, 1 << 20]) {
      expect(() => decodeManifestColumns(piecesOf(bad, size))).toThrow(/^paths are not UTF-8/);
      const table = new StringTable();
      expect(() =>
        decodeManifestColumns(
          piecesOf(bad, size, () => {
            throw new Error('its CRC-32 does not match its bytes');
          }),
          table,
        ),
      ).toThrow('CRC-32');
      expect(table.size).toBe(0);
    }
  });

  it('reads the version-2 files the encoder wrote before (test/columns-v2-fixtures), and writes them smaller', async () => {
    for (const img of ['edge-mini.fp-trusted', 'base-v2.fp']) {
      const v2 = readFileSync(join(import.meta.dirname, 'columns-v2-fixtures', `${img}.hashed.cols`));
      expect(v2.readUInt32LE(8)).toBe(2);
      const m = await scanImageFile(join(DIR, `${img}.img`), { hash: true });
      const nd = ndjsonOf(m);
      expect(roundTrip(v2)).toBe(nd);
      expect(roundTrip(v2, new StringTable())).toBe(nd);
      const { header, cols, fingerprintIndex } = decodeManifestColumns(sourceOf(v2), new StringTable());
      expect(ndjsonOf(columnarManifest(header, cols))).toBe(nd);
      expect(fingerprintIndex).toBeDefined();
      // Encoded again (version 3): the sha256s that are their fingerprint's tail leave the blob.
      const tails = m.files.filter((f) => f.sha256 !== undefined && f.fingerprint?.endsWith(f.sha256)).length;
      expect(tails).toBeGreaterThan(40);
      const v3 = encode(parseManifest(nd, { columnar: true }));
      expect(v3.length).toBe(v2.length - 64 * tails);
      expect(roundTrip(v3)).toBe(nd);
    }
  });

  it('reads the version-1 files the encoder wrote before (test/columns-v1-fixtures)', async () => {
    for (const img of ['edge-mini.fp-trusted', 'base-v2.fp']) {
      const v1 = readFileSync(join(import.meta.dirname, 'columns-v1-fixtures', `${img}.hashed.cols`));
      expect(v1.readUInt32LE(8)).toBe(1);
      const nd = ndjsonOf(await scanImageFile(join(DIR, `${img}.img`), { hash: true }));
      expect(roundTrip(v1)).toBe(nd);
      expect(roundTrip(v1, new StringTable())).toBe(nd);
      // Version 1 gives no distinct fingerprints: no indices come back.
      expect(decodeManifestColumns(v1, new StringTable()).fingerprintIndex).toBeUndefined();
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
    it('refuses a fingerprint index past the distinct values', () => {
      // The fingerprint index column follows the paths' offsets and presence bytes.
      const dv = new DataView(good.buffer, good.byteOffset, good.byteLength);
      const n = dv.getUint32(16, true);
      const distinct = dv.getUint32(8 + 4 * 8, true);
      const at = good.length - [5, 6, 7].reduce((sum, k) => sum + dv.getUint32(8 + 4 * k, true), 0);
      const index = at - 5 * n - 4 * distinct - 4 * n; // blobs, sha256s' offsets and presence, fingerprints' offsets
      const bad = Uint8Array.from(good);
      const view = new DataView(bad.buffer);
      const k = [...Array(n).keys()].find((i) => view.getInt32(index + 4 * i, true) >= 0)!;
      view.setInt32(index + 4 * k, distinct, true);
      refuses(bad, new RegExp(`fingerprint index of record ${k} is out of bounds`));
    });
    it("refuses a sha256 presence byte it does not know, or one that says the fingerprint's tail wrongly", () => {
      const dv = new DataView(good.buffer, good.byteOffset, good.byteLength);
      const n = dv.getUint32(16, true);
      const blobs = [5, 6, 7].reduce((sum, k) => sum + dv.getUint32(8 + 4 * k, true), 0);
      const presence = good.length - blobs - n;
      const index = presence - 4 * n - 4 * dv.getUint32(8 + 4 * 8, true) - 4 * n;
      const fpIndex = (i: number): number => dv.getInt32(index + 4 * i, true);
      const with_ = (i: number, p: number): Uint8Array => {
        const bad = Uint8Array.from(good);
        bad[presence + i] = p;
        return bad;
      };
      const noFingerprint = [...Array(n).keys()].find((i) => fpIndex(i) < 0 && good[presence + i] === 0)!;
      expect(noFingerprint).toBeDefined();
      refuses(with_(noFingerprint, 2), new RegExp(`sha256 of record ${noFingerprint}: no fingerprint`));
      refuses(with_(noFingerprint, 3), new RegExp(`presence byte 3 of record ${noFingerprint}`));
      // A sha256 stored in the blob (not its fingerprint's tail) marked as a tail: its characters are left over.
      const storedSha = [...Array(n).keys()].find((i) => good[presence + i] === 1)!;
      expect(storedSha).toBeDefined();
      refuses(with_(storedSha, 2), /not in the blob has characters/);
    });
    it('refuses a record count the header does not claim', () => {
      const count = Uint8Array.from(good);
      new DataView(count.buffer).setUint32(16, 1, true);
      refuses(count, /file_count/);
    });
  });
});
