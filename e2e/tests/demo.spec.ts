import { expect, test } from '@playwright/test';
import { formatPercent } from '@sharemap/sharing';
import { apiReport, demoId, headlineTotals, openDemo, shot } from './helpers';

test('demo report loads and its headline equals GET /api/reports/:id totals', async ({ page, request }) => {
  const id = await demoId(request);
  const report = await apiReport(request, id);
  await page.goto('/');
  await page.getByTestId('open-demo').click();
  await expect(page).toHaveURL(new RegExp(`/r/${id}$`));
  const t = await headlineTotals(page);
  expect(t).toEqual({
    bytesWithoutSharing: report.totals.bytesWithoutSharing,
    bytesWithSharing: report.totals.bytesWithSharing,
    bytesSaved: report.totals.bytesSaved,
  });
  await expect(page.getByTestId('percent-saved')).toHaveText(formatPercent(report.totals.percentSaved));
  await shot(page, 'overview');
});

test('every view of the demo report renders (screenshots)', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // [screenshot name, view, other URL parameters, what shows it rendered]
  const views: [string, string, Record<string, string>, string][] = [
    ['instances', 'instances', {}, 'table.instances-table'],
    ['graph', 'graph', {}, 'svg.graph-svg'],
    ['matrix', 'graph', { gm: 'matrix' }, 'svg.heatmap-svg'],
    ['overlap', 'overlap', {}, 'svg.upset-svg'],
    ['files', 'files', {}, '[data-testid=files-body] [data-row]'],
    ['treemap', 'files', { fv: 'treemap' }, 'svg.treemap-svg'],
    ['findings', 'findings', {}, '.finding'],
    ['scenarios', 'scenarios', {}, 'table.scenarios-table'],
  ];
  for (const [name, view, params, sel] of views) {
    await openDemo(page, view, params);
    await expect(page.locator(sel).first()).toBeVisible();
    await shot(page, name);
  }
  // The headline's "saved" number links to the files behind it.
  await openDemo(page);
  await page.getByTestId('bytes-saved').click();
  await expect(page).toHaveURL(/view=files/);
  await expect(page).toHaveURL(/status=saving/);
  const row = page.locator('[data-testid=files-body] [data-row]').first();
  await row.click();
  await expect(page.getByTestId('explanation')).toContainText(/shared|private|R\d/);
  await shot(page, 'file-detail');
  await page.goto('/');
  await shot(page, 'start');
  expect(errors).toEqual([]);
});
