import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { apiReport, fixtures, headlineTotals, root, shot } from './helpers';

const IMAGES = ['base-v1.fp.img', 'app.fp.img'];

/** The start page in browser-scan mode, IMAGES chosen, Analyze: until the report page opens. */
async function scanImagesInBrowser(page: Page): Promise<void> {
  await page.goto('/');
  await page.getByTestId('mode-browser').check();
  await page.getByTestId('file-input').setInputFiles(IMAGES.map((f) => path.join(fixtures, f)));
  await page.getByTestId('analyze').click();
  await expect(page).toHaveURL(/\/r\/[A-Za-z0-9_-]+$/, { timeout: 45_000 });
}

test('scan in the browser: no image bytes are sent, only manifests', async ({ page, request }) => {
  const imageBytes = IMAGES.map((f) => readFileSync(path.join(fixtures, f)));
  const sent: { url: string; method: string; size: number; body: Buffer | null }[] = [];
  await page.route('**/api/**', async (route) => {
    const req = route.request();
    sent.push({
      url: req.url(),
      method: req.method(),
      size: req.postDataBuffer()?.length ?? 0,
      body: req.postDataBuffer(),
    });
    await route.continue();
  });
  await scanImagesInBrowser(page);

  const posts = sent.filter((s) => s.method === 'POST');
  expect(posts.some((s) => s.url.includes('/api/images'))).toBe(false);
  expect(posts.filter((s) => s.url.includes('/api/manifests'))).toHaveLength(IMAGES.length);
  // No request carries an image's superblock (EROFS magic at 1024) or any 4 KiB block of its data.
  for (const s of posts) {
    if (!s.body) continue;
    for (const img of imageBytes) {
      expect(s.body.includes(img.subarray(1024, 1024 + 128))).toBe(false);
      for (let off = 4096; off + 4096 <= img.length; off += 4096 * 16) {
        const block = img.subarray(off, off + 256);
        if (block.every((b) => b === 0)) continue;
        expect(s.body.includes(block)).toBe(false);
      }
    }
  }
  const id = new URL(page.url()).pathname.split('/').pop()!;
  const report = await apiReport(request, id);
  expect(await headlineTotals(page)).toEqual({
    bytesWithoutSharing: report.totals.bytesWithoutSharing,
    bytesWithSharing: report.totals.bytesWithSharing,
    bytesSaved: report.totals.bytesSaved,
  });
  expect(report.images.every((i) => i.hashed)).toBe(true);
  await shot(page, 'browser-scan-overview');
});

test('the manifest a browser scan uploads is byte for byte sharemap scan --hash --ndjson of the image', async ({
  page,
}) => {
  // The scan worker hashes with pooled hash-wasm instances and posts its NDJSON as a Blob of
  // parts (apps/web/src/lib/scan.ts); the CLI streams the same records, hashed by node:crypto.
  const bodies: Buffer[] = [];
  await page.route('**/api/manifests**', async (route) => {
    const body = route.request().postDataBuffer();
    if (body) bodies.push(body);
    await route.continue();
  });
  await scanImagesInBrowser(page);
  const cli = (f: string) =>
    execFileSync(
      process.execPath,
      [path.join(root, 'apps/cli/dist/main.js'), 'scan', path.join(fixtures, f), '--hash', '--ndjson'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
  expect(bodies).toHaveLength(IMAGES.length);
  // The two scans run side by side: match each body to its image by the header's name.
  const byName = new Map(
    bodies.map((b) => [JSON.parse(b.subarray(0, b.indexOf(10)).toString('utf8')).image.name as string, b]),
  );
  for (const f of IMAGES) {
    const expected = cli(f);
    expect(expected.length).toBeGreaterThan(1000);
    expect(byName.get(f)?.equals(expected)).toBe(true);
  }
});
