/**
 * `--html FILE`: the report template filled with the report's two parts (gzip + base64). The
 * real template opening in Chromium from file:// is tested with the packed CLI
 * (e2e/tests/packed-cli.spec.ts); here a minimal template shows what the CLI writes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  decodeFiles,
  extractStaticParts,
  encodeFiles,
  reportSummary,
  STATIC_FILES_PART,
  STATIC_SUMMARY_PART,
  STATIC_TEMPLATE_META,
} from '@sharemap/report-wire';
import { headline, type Report } from '@sharemap/sharing';
import { cli, fx, tmp } from './helpers.js';

const IMAGES = ['base-v1.fp.img', 'base-v2.fp.img', 'app.fp.img'].map(fx);

function part(html: string, id: string): Buffer {
  const parts = extractStaticParts(html);
  expect(parts).not.toBeNull();
  return gunzipSync(id === STATIC_SUMMARY_PART ? parts!.summaryGzip : parts!.filesGzip);
}

describe('sharemap analyze --html', () => {
  it('embeds the summary and the files encoding of the report, titled with its headline', async () => {
    const dir = tmp();
    const template = join(dir, 't.html');
    writeFileSync(
      template,
      `<html><head>${STATIC_TEMPLATE_META}<title>x</title></head><body><p>views</p></body></html>`,
    );
    const r = await cli(['analyze', ...IMAGES, '--html', 'report.html', '--json', '--no-config'], {
      cwd: dir,
      env: { SHAREMAP_REPORT_TEMPLATE: template },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { gate, delta, ...rest } = JSON.parse(r.stdout) as Report & { gate: unknown; delta: unknown };
    void gate;
    void delta;
    const report = rest as Report;
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain(`<title>sharemap: ${headline(report)}</title>`);
    expect(html.startsWith(`<html><head>${STATIC_TEMPLATE_META}`)).toBe(true);
    expect(html).toMatch(
      /<p>views<\/p><script type="application\/octet-stream" data-sharemap-part="summary">/,
    );
    expect(JSON.parse(part(html, STATIC_SUMMARY_PART).toString('utf8'))).toEqual(
      JSON.parse(JSON.stringify(reportSummary(report))),
    );
    const files = part(html, STATIC_FILES_PART);
    expect(files.equals(Buffer.from(encodeFiles(report)))).toBe(true);
    const cols = decodeFiles(Uint8Array.from(files).buffer);
    expect(cols.rows).toBe(report.files.status.length);
  });

  it('a missing or foreign template is exit 2 with one line', async () => {
    const dir = tmp();
    let r = await cli(['analyze', fx('app.fp.img'), '--html', 'r.html'], {
      cwd: dir,
      env: { SHAREMAP_REPORT_TEMPLATE: join(dir, 'none.html') },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      '--html: the report template (report-template.html) is missing; build the web UI first (pnpm build)\n'.replace(
        /^/,
        'sharemap: ',
      ),
    );
    writeFileSync(join(dir, 'other.html'), '<html><body></body></html>');
    r = await cli(['analyze', fx('app.fp.img'), '--html', 'r.html'], {
      cwd: dir,
      env: { SHAREMAP_REPORT_TEMPLATE: join(dir, 'other.html') },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'sharemap: --html: not a sharemap report template (its marker meta element is missing)\n',
    );
  });
});
