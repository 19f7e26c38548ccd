/**
 * Paths and names from an image reach the terminal and the Markdown escaped: the text output
 * carries no control character (no escape sequence can retitle, clear or recolour the
 * terminal), and `--markdown` (pasted into pull requests) no HTML, link or broken table row.
 * Input: the manifest of testdata/hostile/hostile-names.img, with fingerprints so that its
 * files share and are listed as top shared files, under an image name holding ESC sequences.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manifestToNdjson, type Manifest } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import { markdownText } from '@sharemap/sharing';
import { cli, tmp } from './helpers.js';

const IMAGE = join(__dirname, '../../../testdata/hostile/hostile-names.img');

async function hostileManifests(): Promise<string[]> {
  const m: Manifest = await scanImageFile(IMAGE, { hash: true });
  m.superblock.ishare = true;
  m.superblock.feature_compat = [...m.superblock.feature_compat, 'ishare_xattrs'];
  m.superblock.fingerprint_xattr_name = 'erofs.fingerprint.v1';
  for (const f of m.files)
    if (f.type === 'file') f.fingerprint = createHash('sha256').update(f.path).digest('hex');
  const dir = tmp();
  return ['\u001b]0;pwned\u0007a.img', '\u001b[31mb.img'].map((name, k) => {
    m.image = { ...m.image, name };
    const p = join(dir, `m${k}.ndjson`);
    writeFileSync(p, [...manifestToNdjson(m)].join(''));
    return p;
  });
}

describe('hostile names in CLI output', () => {
  it('text output: control characters are shown escaped, never sent', async () => {
    const files = await hostileManifests();
    const r = await cli(['analyze', ...files]);
    expect(r.code).toBe(0);
    // eslint-disable-next-line no-control-regex
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(r.stdout).toContain('\\x1b]0;pwned\\x07a.img');
    // The five top shared files (equal savings: path order).
    expect(r.stdout).toContain('\\x09TAB');
    expect(r.stdout).toContain('\\x0dCR');
    expect(r.stdout).toContain('\\x1b]0;pwned\\x07title');
    expect(r.stdout).toContain('\\x1b[2Jclear');
  }, 60_000);

  it('--markdown: no control character, HTML, link or broken table row', async () => {
    const files = await hostileManifests();
    const r = await cli(['analyze', ...files, '--markdown']);
    expect(r.code).toBe(0);
    const md = r.stdout;
    // eslint-disable-next-line no-control-regex
    expect(md).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(md).toContain('\\\\x1b\\]0\\;pwned\\\\x07title');
    expect(md).not.toMatch(/(?<!\\)[<[]/);
    expect(md).toContain('\\<img src\\=x onerror\\=alert\\(1\\)\\>');
    // The row of a hostile path is one row of four cells, the path escaped whole.
    // Instances are in canonical (name) order: ESC '[' sorts before ESC ']', so the first member,
    // whose path names the shared file, is in the image named ESC [31m b.img.
    const name = '\u001b[31mb.img:/d/<img src=x onerror=alert(1)>';
    expect(md.split('\n')).toContain(`| ${markdownText(name)} | 2 | default | 8.0 KiB |`);
    expect(md.split('\n')).toContain(
      `| ${markdownText('\u001b[31mb.img:/d/[click](www.evil.example)')} | 2 | default | 8.0 KiB |`,
    );
  }, 60_000);
});
