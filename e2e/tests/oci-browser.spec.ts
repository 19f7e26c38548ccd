import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Report } from '@sharemap/sharing';
import { apiReport, headlineTotals, root, shot } from './helpers';

const ARCHIVE = path.join(root, 'testdata/oci/image.docker.tar');

test('a docker save archive dropped on the start page is predicted in the browser: no image bytes sent, the CLI totals', async ({
  page,
  request,
}) => {
  const bytes = readFileSync(ARCHIVE);
  const sent: { url: string; method: string; body: Buffer | null }[] = [];
  await page.route('**/api/**', async (route) => {
    const req = route.request();
    sent.push({ url: req.url(), method: req.method(), body: req.postDataBuffer() });
    await route.continue();
  });
  await page.goto('/');
  // A real drop event on the drop zone, carrying the archive as a File.
  const dataTransfer = await page.evaluateHandle((b64) => {
    const bin = atob(b64);
    const u8 = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
    // The page's DataTransfer (the e2e project is type-checked without the DOM library).
    const Dt = (globalThis as unknown as { DataTransfer: new () => { items: { add(f: File): void } } })
      .DataTransfer;
    const dt = new Dt();
    dt.items.add(new File([u8], 'image.docker.tar', { type: 'application/x-tar' }));
    return dt;
  }, bytes.toString('base64'));
  await page.locator('.dropzone').dispatchEvent('drop', { dataTransfer });

  const row = page.getByTestId('upload-item');
  await expect(row).toHaveCount(1);
  // Told from its bytes: an OCI archive; small, so by default the server would predict it.
  await expect(row.getByLabel('Kind of image.docker.tar')).toHaveValue('archive');
  await expect(row.getByTestId('archive-place')).toHaveText(
    'will be uploaded to the server, which predicts it',
  );
  await page.getByTestId('browser-archives-above').fill('0');
  await expect(row.getByTestId('archive-place')).toHaveText(
    'will be predicted in this browser: only the predicted manifests are sent',
  );
  await page.getByTestId('analyze').click();
  await expect(page).toHaveURL(/\/r\/[A-Za-z0-9_-]+$/, { timeout: 45_000 });

  const posts = sent.filter((s) => s.method === 'POST');
  expect(posts.map((s) => new URL(s.url).pathname)).toEqual(['/api/manifests', '/api/reports']);
  // No request carries any 256-byte run of the archive (tar headers, configs, layer data).
  for (const s of posts) {
    if (!s.body) continue;
    for (let off = 0; off + 256 <= bytes.length; off += 512) {
      const run = bytes.subarray(off, off + 256);
      if (run.every((b) => b === 0)) continue;
      expect(s.body.includes(run), `${s.url} carries archive bytes at ${off}`).toBe(false);
    }
  }

  // The CLI's report of the same archive (built CLI, same default model: flattened).
  const cli = JSON.parse(
    execFileSync(process.execPath, [path.join(root, 'apps/cli/dist/main.js'), 'analyze', ARCHIVE, '--json'], {
      encoding: 'utf8',
    }),
  ) as Report;
  const id = new URL(page.url()).pathname.split('/').pop()!;
  const report = await apiReport(request, id);
  expect(report.totals).toEqual(cli.totals);
  expect(await headlineTotals(page)).toEqual({
    bytesWithoutSharing: cli.totals.bytesWithoutSharing,
    bytesWithSharing: cli.totals.bytesWithSharing,
    bytesSaved: cli.totals.bytesSaved,
  });
  expect(report.images.map((i) => [i.name, i.fileCount, i.predicted?.tool])).toEqual([
    ['sharemap_demo:1.0', 34, 'mkfs.erofs 1.9.3'],
  ]);
  await expect(page.getByTestId('predicted-note')).toContainText('predicted from OCI images');
  // The image detail: tags, config digest, the layers and what each adds, changes, deletes.
  const detail = page.getByTestId('oci-image');
  await expect(detail).toContainText('sharemap/demo:1.0');
  await expect(detail).toContainText(
    'sha256:c1a2d21b34457521279d5fa8a3cfd1e9cc7a6d9663ad94bac9c9a7df730ba756',
  );
  const layers = detail.getByTestId('oci-layer');
  await expect(layers).toHaveCount(3);
  await expect(layers.nth(1).getByTestId('layer-deleted')).toHaveText('6');
  await layers.nth(1).getByTestId('layer-deleted').click();
  await expect(layers.nth(1)).toContainText('/usr/share/doc/legacy');
  await shot(page, 'oci-browser-overview');
});
