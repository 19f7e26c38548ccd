import { expect, test } from '@playwright/test';
import path from 'node:path';
import { apiReport, fixtures, headlineTotals, shot } from './helpers';

test('upload fixture images through the UI and see the same totals as the API', async ({ page, request }) => {
  await page.goto('/');
  await page
    .getByTestId('file-input')
    .setInputFiles(['base-v1.fp.img', 'base-v2.fp.img', 'app.fp.img'].map((f) => path.join(fixtures, f)));
  await expect(page.getByTestId('upload-item')).toHaveCount(3);
  await page.getByTestId('analyze').click();
  await expect(page).toHaveURL(/\/r\/[A-Za-z0-9_-]+$/, { timeout: 30_000 });
  const id = new URL(page.url()).pathname.split('/').pop()!;
  const report = await apiReport(request, id);
  expect(report.images.map((i) => i.name).sort()).toEqual(['app.fp.img', 'base-v1.fp.img', 'base-v2.fp.img']);
  const t = await headlineTotals(page);
  expect(t).toEqual({
    bytesWithoutSharing: report.totals.bytesWithoutSharing,
    bytesWithSharing: report.totals.bytesWithSharing,
    bytesSaved: report.totals.bytesSaved,
  });
  // docs/sharing-rules.md worked example "base-v1.fp, base-v2.fp, app.fp : acme" (default
  // instances: one file-backed mount of each image in one domain).
  expect(t).toEqual({ bytesWithoutSharing: 8_675_328, bytesWithSharing: 7_434_240, bytesSaved: 1_241_088 });
  await expect(page.getByTestId('instances-count')).toHaveText(String(report.instances.length));
  await shot(page, 'uploaded-overview');
});

test('upload with a mount configuration (fleet.fstab) resolves instances like the API', async ({
  page,
  request,
}) => {
  await page.goto('/');
  await page
    .getByTestId('file-input')
    .setInputFiles([
      path.join(fixtures, 'base-v1.fp.img'),
      path.join(fixtures, 'app.fp.img'),
      path.join(fixtures, '../mounts/fleet.fstab'),
    ]);
  await page.getByTestId('analyze').click();
  await expect(page).toHaveURL(/\/r\/[A-Za-z0-9_-]+$/, { timeout: 30_000 });
  const id = new URL(page.url()).pathname.split('/').pop()!;
  const report = await apiReport(request, id);
  expect(await headlineTotals(page)).toEqual({
    bytesWithoutSharing: report.totals.bytesWithoutSharing,
    bytesWithSharing: report.totals.bytesWithSharing,
    bytesSaved: report.totals.bytesSaved,
  });
  expect(report.instances.some((i) => i.origin?.file === 'fleet.fstab')).toBe(true);
});
