import { expect, test, type Page } from '@playwright/test';

/** The start page's controls a user clicks first, with their boxes. */
async function controlBoxes(
  page: Page,
): Promise<Record<string, { x: number; y: number; width: number; height: number }>> {
  const out: Record<string, { x: number; y: number; width: number; height: number }> = {};
  for (const id of ['open-demo', 'mode-browser', 'analyze']) {
    const box = await page.getByTestId(id).boundingBox();
    expect(box, id).not.toBeNull();
    out[id] = box!;
  }
  out['choose files'] = (await page.getByRole('button', { name: 'choose files' }).boundingBox())!;
  return out;
}

// The demo card arrives after the page (docs/web.md#tests); it must not move the controls under
// the pointer (a click aimed at the checkbox landed on another control). The demo request is
// held until the positions before it are measured, then released.
test('the start page does not shift under the pointer when the demo card arrives', async ({ page }) => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let demoRequested!: () => void;
  const requested = new Promise<void>((r) => (demoRequested = r));
  await page.route('**/api/demo', async (route) => {
    demoRequested();
    await held;
    await route.continue();
  });
  await page.goto('/');
  await requested;
  await expect(page.getByTestId('analyze')).toBeVisible();
  await expect(page.locator('.demo-headline')).toHaveCount(0);
  const before = await controlBoxes(page);
  release();
  await expect(page.locator('.demo-headline a')).toBeVisible();
  const after = await controlBoxes(page);
  expect(after).toEqual(before);
  // and the slot did not grow with its content
  await expect(page.getByTestId('demo-slot')).toHaveCSS('height', '28px');
});
