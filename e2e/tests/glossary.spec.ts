/**
 * The glossary: every term the UI marks shows its definition on hover and on keyboard focus
 * (a tooltip named by aria-describedby, and the word's aria-description: not a title), from the one definitions module
 * (apps/web/src/lib/glossary.ts, which docs/glossary.md is generated from); each R-code links to
 * its rule's explanation in the glossary at the foot of the page.
 */
import { expect, test, type Page } from '@playwright/test';
import { GLOSSARY, RULES, TERMS } from '../../apps/web/src/lib/glossary';
import { openDemo, shot } from './helpers';

const byId = new Map(GLOSSARY.map((e) => [e.id, e]));

/** Every marked term on the page names a glossary entry and describes itself with its words. */
async function termsMatchGlossary(page: Page): Promise<number> {
  const found = await page.locator('[data-term]').evaluateAll((els) =>
    els.map((el) => ({
      id: el.getAttribute('data-term')!,
      description: el.querySelector('.term-word')!.getAttribute('aria-description'),
      // The visible definition exists only on hover or focus: the page's text holds it once, in the glossary.
      shown: el.querySelector('.term-tip') !== null,
    })),
  );
  for (const t of found) {
    const e = byId.get(t.id);
    expect(e, t.id).toBeDefined();
    expect(t.description).toBe(`${e!.term}: ${e!.text}`);
    expect(t.shown).toBe(false);
  }
  return found.length;
}

test('terms show their definition on hover and on keyboard focus, in every view', async ({ page }) => {
  const id = await openDemo(page, 'instances');
  const aops = page.locator('th [data-term="aops-class"]').first();
  await expect(aops).toBeVisible();
  const tip = aops.getByRole('tooltip');
  await expect(tip).toBeHidden();
  await aops.locator('.term-word').hover();
  await expect(tip).toBeVisible();
  await expect(tip).toHaveText(`${TERMS.aops.term}: ${TERMS.aops.text}`);
  // The word names the tooltip while it shows.
  await expect(aops.locator('.term-word')).toHaveAttribute(
    'aria-describedby',
    (await tip.getAttribute('id'))!,
  );
  await shot(page, 'glossary-hover');
  // Keyboard: Tab reaches the term (it is focusable) and focus shows the same definition.
  await page.mouse.move(0, 0);
  const share = page.locator('th [data-term="inode-share"] .term-word').first();
  await share.focus();
  await expect(share).toBeFocused();
  const shareTip = page.locator('th [data-term="inode-share"]').first().getByRole('tooltip');
  await expect(shareTip).toBeVisible();
  await expect(shareTip).toHaveText(`${TERMS.inodeShare.term}: ${TERMS.inodeShare.text}`);
  await expect(share).toHaveAccessibleDescription(`${TERMS.inodeShare.term}: ${TERMS.inodeShare.text}`);
  // Escape dismisses it without moving focus.
  await page.keyboard.press('Escape');
  await expect(shareTip).toBeHidden();
  await expect(share).toBeFocused();

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
    // The view renders after its data arrives (the glossary at the foot comes first): wait for a term.
    await expect(page.locator('[data-term]').first()).toBeAttached();
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

test('an R-code links to its explanation', async ({ page }) => {
  await openDemo(page, 'findings');
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
