/**
 * Accessibility and phone layout of every view (docs/web.md#accessibility-and-themes): axe-core
 * on every view of the demo report and the start page in both themes, no sideways scrolling at
 * 390x844, and a screenshot of each (view, theme, width) written to e2e/screenshots/.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Browser, type Page } from '@playwright/test';
import path from 'node:path';
import { apiReport, demoId, openDemo, root, shot } from './helpers';

/** The WCAG 2.x A and AA rules (axe's tags); best practices are not part of the bar. */
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
/** Impacts that fail the suite (docs/web.md#accessibility-and-themes). */
const BLOCKING = new Set(['serious', 'critical']);

const THEMES = ['light', 'dark'] as const;

// The tests of this file share nothing (each opens its own browser context on the demo report,
// which is only read): let Playwright hand them to any free worker. In file order, one browser
// ran all four axe sweeps (about 30 s each on a quiet machine) while the other ran every other
// spec file (docs/development.md#how-long-npm-test-takes).
test.describe.configure({ mode: 'parallel' });

/**
 * `SHAREMAP_DOCS_SHOTS=1` also refreshes docs/screenshots/ from the light theme at 1400 px (the
 * Overview as a whole page: headline, host total, fair share per instance and per container).
 * The trust screenshot comes from trust.spec.ts's mixed-publisher report, not the demo.
 */
const DOCS_SHOTS = process.env.SHAREMAP_DOCS_SHOTS === '1';
const DOCS_VIEWS = new Set([
  'start',
  'overview',
  'instances',
  'graph',
  'matrix',
  'overlap',
  'files',
  'file-detail',
  'treemap',
  'scenarios',
]);

async function docsShot(page: Page, name: string): Promise<void> {
  await page.screenshot({
    path: path.join(root, 'docs/screenshots', `${name}.png`),
    fullPage: name === 'overview',
  });
}
type Theme = (typeof THEMES)[number];

/** Every view: name, address (relative to the demo report, or absolute), what shows it is drawn. */
function views(id: string, base: string): [string, string, string][] {
  return [
    ['start', '/', '[data-testid=open-demo]'],
    ['overview', `/r/${id}`, '[data-testid=headline]'],
    ['instances', `/r/${id}?view=instances`, 'table.instances-table'],
    ['graph', `/r/${id}?view=graph`, 'svg.graph-svg'],
    ['matrix', `/r/${id}?view=graph&gm=matrix`, 'svg.heatmap-svg'],
    ['overlap', `/r/${id}?view=overlap`, 'svg.upset-svg'],
    ['files', `/r/${id}?view=files`, '[data-testid=files-body] [data-row]'],
    ['file-detail', `/r/${id}?view=files&sel=0`, '[data-testid=explanation]'],
    ['treemap', `/r/${id}?view=files&fv=treemap`, 'svg.treemap-svg'],
    ['findings', `/r/${id}?view=findings`, '.finding'],
    ['scenarios', `/r/${id}?view=scenarios`, 'table.scenarios-table'],
    ['compare', `/r/${id}?view=compare&base=${base}`, '[data-testid=compare-lost-gained]'],
    ['trust', `/r/${id}?view=trust`, '[data-testid=trust-view]'],
  ];
}

async function themedPage(browser: Browser, theme: Theme, width: number, height: number): Promise<Page> {
  const ctx = await browser.newContext({ colorScheme: theme, viewport: { width, height } });
  return ctx.newPage();
}

async function open(page: Page, theme: Theme, url: string, ready: string): Promise<void> {
  await page.goto(url);
  await expect(page.locator(ready).first()).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
}

/**
 * Another view of the report already open in `page`, the way the browser's back and forward
 * buttons reach it: the address changes in place and the app redraws from it (its `popstate`
 * handler reads every view setting from the URL), without loading the page and the report
 * again. A sweep reaches most of the report's views this way (LOADED_VIEWS are loaded);
 * demo.spec.ts and link.spec.ts load every view from its address.
 */
async function openInPage(page: Page, theme: Theme, url: string, ready: string): Promise<void> {
  await page.evaluate(`history.pushState(null, '', ${JSON.stringify(url)});
    window.dispatchEvent(new PopStateEvent('popstate'));`);
  await expect(page.locator(ready).first()).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
}

/** The views a sweep loads from their address; it reaches the others in place (openInPage). */
const LOADED_VIEWS = new Set(['start', 'overview', 'graph']);

/**
 * What AxeBuilder evaluates instead of axe-core's source when the page has axe-core already
 * (`assertScriptsRun + axeSource`, then `axe.configure` and `axe.run` as always): an earlier
 * call injected it into this document and nothing has replaced the document since.
 */
const AXE_ALREADY_IN_PAGE = ';/* axe-core is already in this page */';

/**
 * "rule (impact): target, target" for each serious or critical violation. axe runs with
 * `axe.run` in the page itself (`setLegacyMode()`): AxeBuilder's default runs `axe.runPartial`
 * per frame and then opens a second, blank page to inject axe-core again and merge the results
 * there (`axe.finishRun`), which cost about twice the whole legacy call and ten times axe's own
 * run on these pages. The views have no iframes (one frame each); on all 52 (view, theme, width)
 * the two modes gave the same violated and passed rules, and on 51 the same nodes too
 * (docs/benchmarks.md#suite-time2-the-axe-sweeps-in-the-page-2026-12-07).
 */
async function blockingViolations(page: Page): Promise<string[]> {
  // Legacy mode still evaluated axe-core's ~650 KB source twice per call (once in analyze(),
  // once in its frame injection), most of a sweep's time on a loaded machine; a page that has
  // it already gets it no more (the axe-core in the page is the one AxeBuilder brought).
  const loaded = await page.evaluate(
    'typeof window.axe === "object" && typeof window.axe.run === "function"',
  );
  const builder = new AxeBuilder(loaded === true ? { page, axeSource: AXE_ALREADY_IN_PAGE } : { page });
  const res = await builder.withTags(AXE_TAGS).setLegacyMode().analyze();
  return res.violations
    .filter((v) => BLOCKING.has(v.impact ?? ''))
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 5)
          .join(', ')}`,
    );
}

/**
 * Every view at one size and theme: axe's blocking violations and the page's scrollWidth per
 * view, a screenshot of each (`a11y-<view>-<theme><suffix>.png`).
 */
async function everyView(
  browser: Browser,
  id: string,
  theme: Theme,
  width: number,
  height: number,
): Promise<{ found: Record<string, string[]>; wide: Record<string, number> }> {
  const page = await themedPage(browser, theme, width, height);
  const found: Record<string, string[]> = {};
  const wide: Record<string, number> = {};
  const suffix = width < 1400 ? `-${width}` : '';
  for (const [name, url, ready] of views(id, id)) {
    // The start page, the report and its graph are loaded; the other views are reached in
    // place. axe's results in place equal those of a load on every other view (violations,
    // passes, incomplete and inapplicable rules with their node counts); the graph reached in
    // place gave axe 4 fewer elements with ARIA attributes to check (same violations).
    if (LOADED_VIEWS.has(name)) await open(page, theme, url, ready);
    else await openInPage(page, theme, url, ready);
    const w = Number(await page.evaluate('document.documentElement.scrollWidth'));
    if (w > width) wide[name] = w;
    const v = await blockingViolations(page);
    if (v.length) found[name] = v;
    await shot(page, `a11y-${name}-${theme}${suffix}`);
    if (DOCS_SHOTS && theme === 'light' && !suffix && DOCS_VIEWS.has(name)) await docsShot(page, name);
  }
  await page.context().close();
  return { found, wide };
}

for (const theme of THEMES) {
  test(`axe: no serious or critical violation on any view, ${theme} theme (screenshots)`, async ({
    browser,
    request,
  }) => {
    test.setTimeout(240_000);
    const { found } = await everyView(browser, await demoId(request), theme, 1400, 900);
    expect(found).toEqual({});
  });

  // The phone layout changes the page (scroll boxes, a menu for the tabs): axe again there.
  test(`390x844: no sideways scrolling and no serious axe violation on any view, ${theme} theme (screenshots)`, async ({
    browser,
    request,
  }) => {
    test.setTimeout(240_000);
    const { found, wide } = await everyView(browser, await demoId(request), theme, 390, 844);
    expect(wide).toEqual({});
    expect(found).toEqual({});
  });
}

// The sweeps above pass only if axe, run as they run it, reports what it should: a page with
// an image without alternative text (image-alt, critical) and text at 1.1:1 (color-contrast,
// serious) fails, a fixed one passes.
test("the sweeps' axe call reports serious and critical violations, and none once fixed", async ({
  page,
}) => {
  const bad = [
    '<!doctype html><html lang="en"><head><title>a11y probe</title></head><body><main>',
    '<h1>Probe</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">',
    '<p style="color:#f4f4f4;background:#ffffff">faint text</p></main></body></html>',
  ].join('');
  const rules = (found: string[]) => found.map((v) => v.split(' ')[0]).sort();
  const hasAxe = () => page.evaluate('typeof window.axe');
  await page.setContent(bad);
  expect(await hasAxe()).toBe('undefined');
  expect(rules(await blockingViolations(page))).toEqual(['color-contrast', 'image-alt']);
  // The next calls find axe-core in the page (setContent keeps the window) and inject nothing:
  // the way the sweeps call it on every view after the first of a page load.
  await page.setContent(bad.replace('<img ', '<img alt="a dot" ').replace('#f4f4f4', '#222222'));
  expect(await hasAxe()).toBe('object');
  expect(await blockingViolations(page)).toEqual([]);
  await page.setContent(bad);
  expect(await hasAxe()).toBe('object');
  expect(rules(await blockingViolations(page))).toEqual(['color-contrast', 'image-alt']);
});

test('390 px: the tabs collapse into a "View" menu; 1400 px: the tablist, no menu', async ({
  browser,
  request,
}) => {
  const id = await demoId(request);
  const phone = await themedPage(browser, 'light', 390, 844);
  await open(phone, 'light', `/r/${id}`, '[data-testid=headline]');
  await expect(phone.getByRole('tablist')).toBeHidden();
  const menu = phone.getByRole('combobox', { name: 'View', exact: true });
  await expect(menu).toBeVisible();
  await expect(menu).toHaveValue('overview');
  await menu.selectOption({ label: 'Files' });
  await expect(phone).toHaveURL(/view=files/);
  await expect(phone.locator('[data-testid=files-body] [data-row]').first()).toBeVisible();
  await phone.context().close();

  const wide = await themedPage(browser, 'light', 1400, 900);
  await open(wide, 'light', `/r/${id}`, '[data-testid=headline]');
  await expect(wide.getByRole('tablist')).toBeVisible();
  await expect(wide.getByTestId('view-menu')).toBeHidden();
  await wide.context().close();
});

test("390 px: the graph hides its labels and lists the pairs instead, with the API report's bytes", async ({
  browser,
  request,
}) => {
  const id = await demoId(request);
  const report = await apiReport(request, id);
  // The oracle: bytes each pair of instances shares, from the report's shared inodes (a shared
  // inode's pages count once for each pair of distinct instances among its members).
  const shared = new Map<string, number>();
  for (const g of report.groups) {
    const insts = [...new Set(g.members.map((row) => report.files.instance[row]!))].sort((a, b) => a - b);
    for (let a = 0; a < insts.length; a++)
      for (let b = a + 1; b < insts.length; b++) {
        const k = `${report.instances[insts[a]!]!.label}|${report.instances[insts[b]!]!.label}`;
        shared.set(k, (shared.get(k) ?? 0) + g.pages * report.options.pageSize);
      }
  }
  expect(shared.size).toBeGreaterThan(0);
  const page = await themedPage(browser, 'light', 390, 844);
  await open(page, 'light', `/r/${id}?view=graph`, 'svg.graph-svg');
  await expect(page.locator('.node-label').first()).toBeHidden();
  const list = page.getByTestId('pairs-list');
  await expect(list).toHaveAttribute('open', '');
  const rows = list.locator('tbody tr');
  await expect(rows).toHaveCount(Math.min(shared.size, 50));
  const listed = new Map<string, number>();
  for (const tr of await rows.all()) {
    const [a, b] = await tr.locator('td').allInnerTexts();
    listed.set(`${a}|${b}`, Number(await tr.locator('[data-bytes]').getAttribute('data-bytes')));
  }
  const top = [...shared].sort((x, y) => y[1] - x[1]).slice(0, 50);
  expect(listed).toEqual(new Map(top));
  await page.context().close();

  // Wide: labels drawn, the list collapsed.
  const wide = await themedPage(browser, 'light', 1400, 900);
  await open(wide, 'light', `/r/${id}?view=graph`, 'svg.graph-svg');
  await expect(wide.locator('.node-label').first()).toBeVisible();
  await expect(wide.getByTestId('pairs-list')).not.toHaveAttribute('open', '');
  await wide.context().close();
});

test('the file grid: role grid, focus stays on it, aria-activedescendant follows the keyboard cursor', async ({
  page,
}) => {
  await openDemo(page, 'files');
  const grid = page.getByRole('grid', { name: 'Files' });
  await expect(grid.locator('[data-row]').first()).toBeVisible();
  await expect(grid).toHaveAttribute('data-testid', 'files-body');
  // Every row, the header's too, is a child row of the grid.
  await expect(grid.getByRole('columnheader')).toHaveCount(6);
  await grid.focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  const active = await grid.getAttribute('aria-activedescendant');
  expect(active).toMatch(/^row-\d+$/);
  const row = page.locator(`#${active}`);
  await expect(row).toHaveAttribute('role', 'row');
  await expect(row).toHaveAttribute('aria-selected', 'true');
  await expect(row).toHaveAttribute('aria-rowindex', '3'); // header 1, first row 2, second row 3
  expect(await page.evaluate("document.activeElement && document.activeElement.getAttribute('role')")).toBe(
    'grid',
  );
  await expect(page).toHaveURL(new RegExp(`sel=${active!.slice(4)}`));
  await page.keyboard.press('ArrowUp');
  await expect(grid).toHaveAttribute('aria-activedescendant', /^row-\d+$/);
  await expect(page.locator(`#${await grid.getAttribute('aria-activedescendant')}`)).toHaveAttribute(
    'aria-rowindex',
    '2',
  );
});

/** What the page-side colour lookup uses of a DOM element (the e2e tsconfig has no DOM types). */
interface StyledElement {
  parentElement: StyledElement | null;
  ownerDocument: {
    defaultView: { getComputedStyle(e: StyledElement): { color: string; backgroundColor: string } };
  };
}

/** WCAG contrast ratio of two CSS colours "rgb(r, g, b)" (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio). */
function contrast(fg: string, bg: string): number {
  const lum = (c: string) => {
    const [r, g, b] = c
      .match(/\d+(\.\d+)?/g)!
      .slice(0, 3)
      .map((x) => Number(x) / 255);
    const lin = (v: number) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(b!);
  };
  const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
  return (hi! + 0.05) / (lo! + 0.05);
}

test('the known offenders reach 4.5:1: "shared" and ON in light, the Table toggle and ERROR in dark', async ({
  browser,
  request,
}) => {
  const id = await demoId(request);
  /** Text colour against the nearest opaque background behind it (runs in the page). */
  const colours = (page: Page, sel: string) =>
    page
      .locator(sel)
      .first()
      .evaluate((node): [string, string] => {
        const el = node as unknown as StyledElement;
        const css = el.ownerDocument.defaultView.getComputedStyle.bind(el.ownerDocument.defaultView);
        let e: StyledElement | null = el;
        let bg = 'rgba(0, 0, 0, 0)';
        while (e && /rgba\(.*, 0\)|transparent/.test(bg)) {
          bg = css(e).backgroundColor;
          e = e.parentElement;
        }
        return [css(el).color, bg];
      });
  const cases: [string, string, string][] = [
    ['light', `/r/${id}?view=files&status=shared`, '[data-row] .st-shared'],
    ['light', `/r/${id}?view=instances`, '.badge.ok'],
    ['dark', `/r/${id}?view=files`, '.seg-buttons .btn.active'],
    ['dark', `/r/${id}?view=findings`, '.badge.error'],
  ];
  for (const [theme, url, sel] of cases) {
    const page = await themedPage(browser, theme as 'light' | 'dark', 1400, 900);
    await open(page, theme as 'light' | 'dark', url, sel);
    const [fg, bg] = await colours(page, sel);
    expect(contrast(fg, bg), `${sel} in ${theme}: ${fg} on ${bg}`).toBeGreaterThanOrEqual(4.5);
    await page.context().close();
  }
});
