/**
 * Output injection: paths and names from a real image (testdata/hostile/hostile-names.img)
 * and an uploaded name reach the CSV and Markdown exports neutralised: formula cells start
 * with `'`, every record keeps its columns, and the Markdown holds no HTML, no link and no
 * line that breaks out of its table.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestToNdjson, type Manifest } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import { CSV_COLUMNS } from '@sharemap/sharing';
import { api, repo, startTestServer, waitImage, type TestServer } from './helpers.js';

const IMAGE = path.join(repo, 'testdata/hostile/hostile-names.img');
const HOSTILE_NAME = '=HYPERLINK("evil.example")<b>x<i>|[y](www.evil.example).img';
const NAMES = [
  '=HYPERLINK("evil.example","x")',
  "+1+cmd|' \\C calc'!A0",
  '-2+3',
  '@SUM(A1)',
  '\tTAB',
  '\rCR',
  '<img src=x onerror=alert(1)>',
  '[click](www.evil.example)',
  'a|b|c',
  'line\rbreak',
  'new\nline',
  '\u001b]0;pwned\u0007title',
  '\u001b[2Jclear',
  '\u009b31mred',
  'plain.txt',
];

/** RFC 4180 records (quoted fields may hold CR, LF, commas and doubled quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  for (;;) {
    let cell = '';
    if (text[i] === '"') {
      for (i++; ; i++) {
        if (i >= text.length) throw new Error('unterminated quote');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i++;
          } else {
            i++;
            break;
          }
        } else cell += text[i];
      }
    } else
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') cell += text[i++];
    row.push(cell);
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text.startsWith('\r\n', i)) i += 2;
    else if (i < text.length) throw new Error(`bare ${JSON.stringify(text[i])} at ${i}`);
    rows.push(row);
    row = [];
    if (i >= text.length) return rows;
  }
}

/**
 * The image's manifest made to share: a fingerprint per file (so each file is its own shared
 * inode across two instances and shows among the top shared files), keeping the nine names
 * that attack Markdown and terminals (the formula names are for the CSV test).
 */
async function sharingManifest(): Promise<string> {
  const m: Manifest = await scanImageFile(IMAGE, { hash: true });
  m.superblock.ishare = true;
  m.superblock.feature_compat = [...m.superblock.feature_compat, 'ishare_xattrs'];
  m.superblock.fingerprint_xattr_name = 'erofs.fingerprint.v1';
  m.files = m.files.filter((f) => !/^\/d\/[-+=@\t\r]/.test(f.path));
  for (const f of m.files)
    if (f.type === 'file') f.fingerprint = createHash('sha256').update(f.path).digest('hex');
  return [...manifestToNdjson(m)].join('');
}

describe('hostile paths and names in exports', () => {
  let s: TestServer;
  let imageReport = '';
  let manifestReport = '';
  beforeAll(async () => {
    s = await startTestServer();
    const up = await api(s.url, 'POST', `/api/images?name=${encodeURIComponent(HOSTILE_NAME)}`, {
      body: readFileSync(IMAGE),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(up.status).toBe(202);
    expect((await waitImage(s.url, up.body.id as string)).status).toBe('ready');
    const r1 = await api(s.url, 'POST', '/api/reports', { json: { images: [up.body.id] } });
    expect(r1.status).toBe(201);
    imageReport = r1.body.id as string;
    const ndjson = await sharingManifest();
    const ids: string[] = [];
    for (const name of [HOSTILE_NAME, 'second.img']) {
      const m = await api(s.url, 'POST', `/api/manifests?name=${encodeURIComponent(name)}`, {
        body: ndjson,
        headers: { 'content-type': 'application/x-ndjson' },
      });
      expect(m.status).toBe(201);
      ids.push(m.body.id as string);
    }
    const r2 = await api(s.url, 'POST', '/api/reports', { json: { manifests: ids } });
    expect(r2.status).toBe(201);
    manifestReport = r2.body.id as string;
  }, 120_000);
  afterAll(async () => {
    await s.stop();
  });

  it('CSV: every record has its 13 columns, paths round-trip, formula cells are neutralised', async () => {
    const r = await api(s.url, 'GET', `/api/reports/${imageReport}?format=csv`);
    expect(r.status).toBe(200);
    const rows = parseCsv(r.text);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    for (const row of rows) expect(row).toHaveLength(CSV_COLUMNS.length);
    const byPath = new Map(rows.slice(1).map((x) => [x[3]!, x]));
    for (const n of NAMES) expect(byPath.has(`/d/${n}`), JSON.stringify(n)).toBe(true);
    // The image name (an uploaded label) starts a formula: written with a leading quote.
    for (const row of rows.slice(1)) expect(row[2]).toBe(`'${HOSTILE_NAME}`);
    // No cell a spreadsheet would evaluate.
    for (const row of rows.slice(1)) for (const cell of row) expect(cell).not.toMatch(/^[=+@\t\r]/);
  });

  it('Markdown: no HTML, no link but the report link, no row broken by CR or LF', async () => {
    const r = await api(s.url, 'GET', `/api/reports/${manifestReport}?format=markdown`);
    expect(r.status).toBe(200);
    const md = r.text;
    expect(md).not.toMatch(/\r/);
    expect(md).not.toMatch(/(?<!\\)</);
    expect(md).not.toMatch(/(?<!\\)\]\(www/);
    expect(md.match(/(?<!\\)\]\(/g)).toHaveLength(1); // [Full report](/r/<id>)
    // The hostile paths are there (escaped) as top shared files.
    expect(md).toContain('\\<img src\\=x onerror\\=alert\\(1\\)\\>');
    expect(md).toContain('a\\|b\\|c');
    expect(md).toContain('line break');
    // Every table row has as many unescaped pipes as its header.
    const lines = md.split('\n');
    for (let k = 0; k < lines.length; k++) {
      if (!lines[k]!.startsWith('|---')) continue;
      const cols = lines[k - 1]!.match(/(?<!\\)\|/g)!.length;
      for (let j = k + 1; j < lines.length && lines[j]!.startsWith('|'); j++)
        expect(lines[j]!.match(/(?<!\\)\|/g), lines[j]).toHaveLength(cols);
    }
  });
});
