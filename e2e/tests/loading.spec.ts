import { expect, test } from '@playwright/test';
import { formatInteger } from '@sharemap/sharing';
import { apiReport, demoId, headlineTotals } from './helpers';

// A report page loads in two parts: the summary (headline, per-instance figures) at once, the
// per-file columns (GET /api/reports/:id/files) in the background. Held back here by request
// interception, the page must still show the headline, answer clicks, and show a loading state
// where the file table is needed; then the rows once it arrives.
test('the headline and the Instances view come before the file table, which follows', async ({
  page,
  request,
}) => {
  const id = await demoId(request);
  const report = await apiReport(request, id);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const requested: string[] = [];
  page.on('request', (r) => requested.push(new URL(r.url()).pathname));
  await page.route(`**/api/reports/${id}/files`, async (route) => {
    await held;
    await route.continue();
  });
  await page.goto(`/r/${id}`);
  const t = await headlineTotals(page);
  expect(t.bytesSaved).toBe(report.totals.bytesSaved);
  await page.getByRole('tab', { name: 'Instances' }).click();
  await expect(page.locator('table.instances-table')).toBeVisible();
  // The aops classes come from the summary too.
  await expect(page.locator('table.instances-table')).toContainText(/compressed|block|file-backed/);
  await page.getByRole('tab', { name: 'Files' }).click();
  await expect(page.getByTestId('files-loading')).toContainText(
    `${formatInteger(report.files.instance.length)} rows`,
  );
  await page.getByRole('tab', { name: 'Overlap' }).click();
  await expect(page.getByTestId('files-loading')).toBeVisible();
  release();
  await expect(page.locator('svg.upset-svg')).toBeVisible();
  await page.getByRole('tab', { name: 'Files' }).click();
  await expect(page.locator('[data-testid=files-body] [data-row]').first()).toBeVisible();
  await expect(page.getByTestId('files-count')).toContainText(
    `of ${formatInteger(report.files.instance.length)} rows`,
  );
  // The page never asked for the whole report or, without a what-if, the analysis input.
  expect(requested).toContain(`/api/reports/${id}/summary`);
  expect(requested).not.toContain(`/api/reports/${id}`);
  expect(requested).not.toContain(`/api/reports/${id}/input`);
});

test('a file table that cannot load shows its error where it is needed; the overview still works', async ({
  page,
  request,
}) => {
  const id = await demoId(request);
  await page.route(`**/api/reports/${id}/files`, (route) =>
    route.fulfill({
      status: 503,
      contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'busy', message: 'the analysis queue is full' } }),
    }),
  );
  await page.goto(`/r/${id}?view=files`);
  await expect(page.getByRole('alert')).toContainText('Cannot load the file table');
  await expect(page.getByRole('alert')).toContainText('the analysis queue is full');
  await page.getByRole('tab', { name: 'Overview' }).click();
  await expect(page.getByTestId('headline')).toBeVisible();
});
