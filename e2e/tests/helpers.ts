import { expect, type APIRequestContext, type Page } from '@playwright/test';
import type { Report, Totals } from '@sharemap/sharing';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../..');
export const fixtures = path.join(root, 'testdata/erofs');
export const shotsDir = path.resolve(here, '../screenshots');

export async function demoId(request: APIRequestContext): Promise<string> {
  for (let i = 0; i < 60; i++) {
    const res = await request.get('/api/demo');
    if (res.ok()) return ((await res.json()) as { id: string }).id;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('demo report never became ready');
}

export async function apiReport(request: APIRequestContext, id: string): Promise<Report> {
  const res = await request.get(`/api/reports/${id}`);
  expect(res.ok()).toBe(true);
  return (await res.json()) as Report;
}

/** The headline's exact byte figures (data-bytes of each number). */
export async function headlineTotals(
  page: Page,
): Promise<Pick<Totals, 'bytesWithoutSharing' | 'bytesWithSharing' | 'bytesSaved'>> {
  const h = page.getByTestId('headline');
  await expect(h).toBeVisible();
  const num = async (id: string) =>
    Number(await h.getByTestId(id).locator('[data-bytes]').getAttribute('data-bytes'));
  return {
    bytesWithoutSharing: await num('bytes-without'),
    bytesWithSharing: await num('bytes-with'),
    bytesSaved: await num('bytes-saved'),
  };
}

export async function shot(page: Page, name: string): Promise<void> {
  if (!existsSync(shotsDir)) mkdirSync(shotsDir, { recursive: true });
  await page.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: false });
}

/**
 * The demo report open in `page` at `view` (the URL's `view=`; '' for the overview) with `params`
 * added to the URL, once the server has it ready; its id. The one way the specs open the demo.
 */
export async function openDemo(page: Page, view = '', params: Record<string, string> = {}): Promise<string> {
  const id = await demoId(page.request);
  const q = new URLSearchParams({ ...(view ? { view } : {}), ...params }).toString();
  await page.goto(`/r/${id}${q ? `?${q}` : ''}`);
  return id;
}
