/**
 * The blobs of a new report (scan/report-blobs.ts) are the bytes the server stored before they
 * were streamed: the report JSON (report-wire's jsonBytes) is JSON.stringify(report) however it
 * is cut into pieces, and
 * the stored blobs of 2M-style reports (bigReport of @sharemap/report-wire/testing) have the
 * names, so the sha256 of their gzip bytes, that the former code (main at 26ff7b4:
 * `putGzip(reportJson(report))` whole keys at a time, `gzipSync(encodeFiles(report))`) stored.
 */
import { readFileSync, rmSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeFiles, JSON_PIECE_BYTES, jsonBytes, reportSummary } from '@sharemap/report-wire';
import { bigReport } from '@sharemap/report-wire/testing';
import { analyze, withTrust, type Report } from '@sharemap/sharing';
import { fleetInstances, inputOf } from '@sharemap/sharing/testing';
import { writeReportBlobs } from '../../src/scan/report-blobs.js';
import { BlobStore, SERVER_GZIP_LEVEL } from '../../src/storage/blobs.js';
import { tempDir } from '../helpers.js';

/** The report JSON as the server generates it (UTF-8 pieces), and its largest piece. */
function generated(report: unknown): { text: string; largest: number } {
  const pieces = [...jsonBytes(report as Report)];
  return { text: Buffer.concat(pieces).toString('utf8'), largest: Math.max(...pieces.map((p) => p.length)) };
}

/** Array elements past one piece of the JSON. */
const JSON_ARRAY_CHUNK = JSON_PIECE_BYTES / 8;

describe('the stored report JSON: the text of JSON.stringify(report), in pieces', () => {
  it('on the fleet report with its trust model', () => {
    const input = inputOf(fleetInstances());
    const report = withTrust(analyze(input), input);
    expect(generated(report).text).toBe(JSON.stringify(report));
  });

  it('on what JSON.stringify skips, turns to null or leaves to toJSON, and arrays past a piece', () => {
    const n = JSON_ARRAY_CHUNK * 4 + 3;
    const big = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? { i, s: `p${i}`, u: undefined } : i / 7));
    const sparse: unknown[] = [1];
    sparse[JSON_ARRAY_CHUNK + 5] = 'end';
    const odd = {
      kind: 'sharemap-report',
      skipped: undefined,
      fn: () => 1,
      when: new Date(Date.UTC(2026, 11, 6)),
      typed: new Uint8Array([1, 2, 3]),
      nullProto: Object.assign(Object.create(null) as object, { a: 1, b: undefined }),
      withToJson: { toJSON: () => 'custom' },
      files: {
        instance: big,
        // A column of numbers that ends in other values.
        file: Array.from({ length: n }, (_, i) => (i < n - 2 ? i : i === n - 1 ? 'x' : undefined)),
        empty: [],
        exactlyOnePiece: Array.from({ length: JSON_ARRAY_CHUNK }, (_, i) => i),
        hardlinks: { row: [], primary: [undefined, () => 1, null] },
        nested: { deeper: { deepest: [[1, [2]], { x: undefined }] } },
      },
      paths: { __proto__: ['/a'], 'é "quoted"': ['/ü\u2028\ud800', '/b\u0000'] },
      sparse,
      last: null,
    };
    const { text, largest } = generated(odd);
    expect(text).toBe(JSON.stringify(odd));
    // The arrays longer than a piece were not written as one piece.
    expect(largest).toBeLessThanOrEqual(JSON_PIECE_BYTES);
    expect(JSON.stringify(big).length).toBeGreaterThan(3 * JSON_PIECE_BYTES);
  });
});

describe('writeReportBlobs: the blobs stored before, byte for byte', () => {
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    {
      images: 1 as const,
      report: 'b535a8353eae8d9ca1d8ada2d0caeafc3b67ab197008e2c4e8c80211e87e6021',
      summary: '7e98feb60e345555ebdeebcc17ac5cf9bdafa1885479d4e925e2903e973fbefe',
      files: 'e2727de817b1dfce373c35833a9097ef6e5e916bcb7fe2f407d4e204d191db7d',
    },
    {
      images: 2 as const,
      report: '909cb6cdfa6d60cebf503a444ebaa6972f66621c7b80d43061fdf6a975ccef17',
      summary: '3b429f58023e21de583fe150eca8adcbccfe6b460386d791adb6a2cedff1c7a0',
      files: 'f5f20fae092d1cf0fa2dfbe16f2e2df4fa61681cdaac51d24e32980d2b95d377',
    },
  ])(
    'a 2M-style report of $images image(s) of 60,000 records',
    async (c) => {
      const store = new BlobStore(dir);
      const report = bigReport(60_000, c.images);
      let encoded = 0;
      const got = await writeReportBlobs(store, report, () => encoded++);
      expect(encoded).toBe(1);
      expect(got).toEqual({ reportBlob: c.report, summaryBlob: c.summary, filesBlob: c.files });
      // What the names stand for: gzip (level 1) of the whole JSON, summary and encoding.
      const json = JSON.stringify(report);
      const read = (sha: string): Buffer => gunzipSync(readBlob(store, sha));
      expect(read(got.reportBlob).toString('utf8')).toBe(json);
      expect(readBlob(store, got.reportBlob).equals(gzipSync(json, { level: SERVER_GZIP_LEVEL }))).toBe(true);
      expect(read(got.summaryBlob).toString('utf8')).toBe(JSON.stringify(reportSummary(report)));
      const files = encodeFiles(report);
      expect(read(got.filesBlob).equals(Buffer.from(files))).toBe(true);
      expect(readBlob(store, got.filesBlob).equals(gzipSync(files, { level: SERVER_GZIP_LEVEL }))).toBe(true);
    },
    300_000,
  );
});

function readBlob(store: BlobStore, sha256: string): Buffer {
  return readFileSync(store.path(sha256));
}
