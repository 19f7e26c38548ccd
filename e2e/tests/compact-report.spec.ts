/**
 * A compact file table (report version 2, docs/metrics.md#compact-file-table) in the real UI:
 * 33 mounts of three fixture images in two domains, analysed with `fileTable: 'compact'` (a
 * lead's rows stand for every mount of its class), written as the static page `sharemap
 * analyze --html` writes and opened from file://. The Files view shows the rows of a mount that
 * is not the first of its class exactly as the per-instance report of the same fleet has them.
 */
import { expect, test } from '@playwright/test';
import {
  analyze,
  formatBytes,
  formatInteger,
  imageEntryFromManifest,
  type AnalysisInput,
  type InstanceInput,
  type Report,
} from '@sharemap/sharing';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fixtures, root } from './helpers';

const IMAGES = ['base-v1.fp', 'base-v2.fp', 'app.fp'];

/** Mount k: image k % 3, domain d1 for k % 6 < 3, else d2 (six classes, the first six mounts lead them). */
function mount(k: number): InstanceInput {
  const imageId = IMAGES[k % 3]!;
  return {
    id: `m${k}`,
    label: `/run/m${k}`,
    imageId,
    mountPoints: [`/run/m${k}`],
    source: `/images/${imageId}.img`,
    backing: 'file',
    domain: { label: k % 6 < 3 ? 'd1' : 'd2' },
    options: { inodeShare: true, dax: null, directio: false, cacheStrategy: null, devices: [], fsoffset: 0 },
  };
}

test("a compact report (version 2) shows a later mount's rows as the per-instance report has them", async ({
  browser,
}) => {
  test.setTimeout(180_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'sharemap-compact-'));
  try {
    const cli = path.join(root, 'apps/cli/dist/main.js');
    const images = IMAGES.map((id) => {
      const out = execFileSync(
        process.execPath,
        [cli, 'scan', path.join(fixtures, `${id}.img`), '--hash', '--json'],
        {
          encoding: 'utf8',
          maxBuffer: 256 << 20,
          timeout: 120_000,
        },
      );
      const manifest = JSON.parse(out) as AnalysisInput['images'][number]['manifest'];
      return { image: imageEntryFromManifest(manifest, { id }), manifest };
    });
    const input: AnalysisInput = {
      images,
      instances: Array.from({ length: 33 }, (_, k) => mount(k)),
      createdAt: '2026-12-06T00:00:00.000Z',
    };
    const compact = analyze({ ...input, fileTable: 'compact' });
    const full = analyze(input);
    expect(compact.version).toBe(2);
    expect(compact.files.rowsOf!.slice(0, 12)).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
    expect(compact.files.status.length * 5.5).toBe(full.files.status.length);
    // The page as `sharemap analyze --html` writes it (the CLI's renderHtml, the web UI's template).
    const { renderHtml } = (await import(
      pathToFileURL(path.join(root, 'apps/cli/dist/output/html.js')).href
    )) as {
      renderHtml(template: string, report: Report): string;
    };
    const template = readFileSync(path.join(root, 'apps/web/dist/report-template.html'), 'utf8');
    const file = path.join(dir, 'report.html');
    writeFileSync(file, renderHtml(template, compact));

    // m28 (base-v2.fp in d2) is the fifth mount of its class: its rows are m4's.
    const m28 = full.instances.findIndex((i) => i.id === 'm28');
    expect(compact.files.rowsOf![m28]).toBe(4);
    const rows = [...full.files.instance.keys()].filter((r) => full.files.instance[r] === m28);
    const shared = rows.filter((r) => full.files.status[r] === 'shared');
    expect(shared.length).toBeGreaterThan(0);
    const path28 = (r: number) => full.paths['base-v2.fp']![full.files.file[r]!]!;
    // The largest shared file of m28 (the Files view sorts by size, descending).
    const top = shared.sort((a, b) => full.files.size[b]! - full.files.size[a]! || a - b)[0]!;

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${pathToFileURL(file).href}?view=files&inst=m28&status=shared&sort=-size`);
    const body = page.getByTestId('files-body');
    await expect(page.getByTestId('files-count')).toContainText(
      `${formatInteger(shared.length)} of ${formatInteger(full.files.status.length)} rows`,
    );
    const first = body.locator('[role="row"][data-row]').first();
    await expect(first).toHaveAttribute('data-row', String(top));
    await expect(first).toContainText(path28(top));
    await expect(first).toContainText('/run/m28');
    await expect(first).toContainText('shared');
    await first.click();
    const detail = page.getByTestId('file-detail');
    await expect(detail).toContainText(
      `${formatBytes(full.files.pagesWithout[top]! * 4096)} without sharing`,
    );
    // A later member: its pages are the first member's (m4's lead row in the compact table).
    await expect(page.getByTestId('explanation')).toContainText('(first member)');
    const g = full.groups[full.files.group[top]!]!;
    await expect(detail).toContainText(`${g.members.length} members`);
    expect(errors).toEqual([]);
    await page.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
