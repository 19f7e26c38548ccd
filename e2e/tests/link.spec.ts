import { expect, test } from '@playwright/test';
import { openDemo, headlineTotals } from './helpers';

test('a copied link opened in a fresh browser context shows the same view', async ({ page, browser }) => {
  await openDemo(page);
  await page.getByRole('tab', { name: 'Files' }).click();
  await page.getByTestId('files-search').fill('libexpat');
  await expect(page).toHaveURL(/q=libexpat/);
  await page.getByTestId('files-status').selectOption('shared');
  const first = page.locator('[data-testid=files-body] [data-row]').first();
  await first.click();
  await expect(page).toHaveURL(/sel=\d+/);
  const path = await page.locator('.detail-path').textContent();
  const count = await page.getByTestId('files-count').textContent();
  const explanation = await page.getByTestId('explanation').textContent();
  const link = page.url();

  const ctx = await browser.newContext();
  const fresh = await ctx.newPage();
  await fresh.goto(link);
  await expect(fresh.getByRole('tab', { name: 'Files' })).toHaveAttribute('aria-selected', 'true');
  await expect(fresh.getByTestId('files-search')).toHaveValue('libexpat');
  await expect(fresh.getByTestId('files-status')).toHaveValue('shared');
  await expect(fresh.locator('.detail-path')).toHaveText(path!);
  await expect(fresh.getByTestId('files-count')).toHaveText(count!);
  await expect(fresh.getByTestId('explanation')).toHaveText(explanation!);
  await ctx.close();
});

test('a link with a domain reassignment reproduces the recomputed figures', async ({ page, browser }) => {
  await openDemo(page, 'instances');
  const field = page.getByTestId('domain-i5');
  await field.fill('D1');
  await field.press('Enter');
  await page.getByRole('tab', { name: 'Overview' }).click();
  await expect(page.locator('.whatif-bar')).toContainText('recomputed');
  const totals = await headlineTotals(page);
  const ctx = await browser.newContext();
  const fresh = await ctx.newPage();
  await fresh.goto(page.url());
  await expect(fresh.locator('.whatif-bar')).toContainText('recomputed');
  expect(await headlineTotals(fresh)).toEqual(totals);
  await ctx.close();
});
