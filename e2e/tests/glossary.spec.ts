/**
 * The glossary: every term the UI marks shows its definition on hover and on keyboard focus
 * (a tooltip named by aria-describedby, not a title), from the one definitions module
 * (apps/web/src/lib/glossary.ts, which docs/glossary.md is generated from); each R-code links to
 * its rule's explanation in the glossary at the foot of the page.
 */
import { expect, test, type Page } from '@playwright/test';
import { GLOSSARY, RULES, TERMS } from '../../apps/web/src/lib/glossary';
import { demoId, shot } from './helpers';

const byId = new Map(GLOSSARY.map((e) => [e.id, e]));

/** Every marked term on the page names a glossary entry and describes itself with its words. */
async function termsMatchGlossary(page: Page): Promise<number> {
  const found = await page.locator('[data-term]').evaluateAll((els) =>
    els.map((el) => {
      const word = el.querySelector('.term-word')!;
      const tip = el.querySelector('.term-tip');
      return {
        id: el.getAttribute('data-term')!,
        tip: tip?.textContent ?? null,
        role: tip?.getAttribute('role'),
        named: !!tip && word.getAttribute('aria-describedby') === tip.id,
      };
    }),
  );
  for (const t of found) {
    const e = byId.get(t.id);
    expect(e, t.id).toBeDefined();
    expect(t.role).toBe('tooltip');
    expect(t.named).toBe(true);
    expect(t.tip).toBe(`${e!.term}: ${e!.text}`);
  }
  return found.length;
}

test('terms show their definition on hover and on keyboard focus, in every view', async ({
  page,
  request,
}) => {
  const id = await demoId(request);
  await page.goto(`/r/${id}?view=instances`);
  const aops = page.locator('th [data-term="aops-class"]').first();
  await expect(aops).toBeVisible();
  const tip = aops.getByRole('tooltip');
  await expect(tip).toBeHidden();
  await aops.locator('.term-word').hover();
  await expect(tip).toBeVisible();
  await expect(tip).toHaveText(`${TERMS.aops.term}: ${TERMS.aops.text}`);
  await shot(page, 'glossary-hover');
  // Keyboard: Tab reaches the term (it is focusable) and focus shows the same definition.
  await page.mouse.move(0, 0);
  const share = page.locator('th [data-term="inode-share"] .term-word').first();
  await share.focus();
  await expect(share).toBeFocused();
  await expect(page.locator('th [data-term="inode-share"]').first().getByRole('tooltip')).toBeVisible();
  await expect(share).toHaveAccessibleDescription(`${TERMS.inodeShare.term}: ${TERMS.inodeShare.text}`);

  // The terms of each view, all from the one module.
  const seen = new Set<string>();
  for (const q of [
    '',
    '?view=instances',
    '?view=graph',
    '?view=findings',
    '?view=files&status=saving&sel=0',
  ]) {
    await page.goto(`/r/${id}${q}`);
    await expect(page.getByTestId('glossary')).toBeAttached();
    if (q.includes('graph')) await expect(page.locator('svg.graph-svg')).toBeVisible();
    if (q.includes('files')) await expect(page.getByTestId('file-detail')).toBeVisible();
    expect(await termsMatchGlossary(page)).toBeGreaterThan(0);
    for (const t of await page
      .locator('[data-term]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-term')!)))
      seen.add(t);
  }
  // The terms the issue names are all shown somewhere (aops class, inode_share, domain, first
  // member, fair share, host total, R-rules, read-order ranges: the demo has no order-dependent key,
  // so read order is checked by the module's own test).
  for (const k of ['aops-class', 'inode-share', 'domain', 'first-member', 'fair-share', 'host-total'])
    expect(seen, k).toContain(k);
  expect([...seen].some((k) => /^r\d+$/.test(k))).toBe(true);
  // The glossary at the foot of the page lists every entry.
  await expect(page.locator('#glossary .glossary-entry')).toHaveCount(GLOSSARY.length);
});

test('an R-code links to its explanation', async ({ page, request }) => {
  const id = await demoId(request);
  await page.goto(`/r/${id}?view=findings`);
  const code = page.locator('.finding a.term-word').first();
  await expect(code).toBeVisible();
  const text = (await code.textContent())!;
  expect(text).toMatch(/^R\d{1,2}$/);
  const n = Number(text.slice(1));
  await expect(code).toHaveAttribute('href', `#gl-r${n}`);
  await expect(code).toHaveAccessibleDescription(`R${n}: ${RULES[n - 1]!.text}`);
  await code.focus();
  await page.keyboard.press('Enter');
  const entry = page.locator(`#gl-r${n}`);
  await expect(entry).toBeVisible();
  await expect(entry).toBeFocused();
  await expect(entry).toContainText(RULES[n - 1]!.text);
  await shot(page, 'glossary-rule');
});
