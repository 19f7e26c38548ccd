/**
 * Charts as ways in: a graph node, a graph edge, a matrix cell and an overlap column open the
 * files they stand for (in the URL, so the link reproduces it); cross-domain duplicates are an
 * edge style of their own; the matrix stays readable at 120 instances (domain blocks on the
 * axes, a legend from zero with units); the treemap is coloured by the shared proportion, sized
 * without or with sharing, and driven by keyboard; the Overview's tables sort and a 120-instance
 * report opens on a summary with paginated tables. Every figure is recomputed here from the
 * API's report (GET /api/reports/:id), not taken from the page.
 */
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { formatBytes, formatPercent } from '@sharemap/sharing';
import type { Report } from '@sharemap/sharing';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { apiReport, fixtures, openDemo, shot } from './helpers';

const idOf = (r: Report, label: string): string => {
  const i = r.instances.find((x) => x.label === label);
  if (!i) throw new Error(`no instance ${label}`);
  return i.id;
};
const indexOf = (r: Report, id: string) => r.instances.findIndex((x) => x.id === id);

/** Bytes two instances share: each shared inode with members on both, once; and the rows behind it. */
function sharedBetween(r: Report, a: string, b: string): { bytes: number; rows: number } {
  const ia = indexOf(r, a);
  const ib = indexOf(r, b);
  let bytes = 0;
  let rows = 0;
  for (const g of r.groups) {
    const on = g.members.map((row) => r.files.instance[row]);
    if (!on.includes(ia) || !on.includes(ib)) continue;
    bytes += g.pages * r.options.pageSize;
    rows += on.filter((i) => i === ia || i === ib).length;
  }
  return { bytes, rows };
}

const pathOf = (r: Report, row: number) =>
  r.paths[r.instances[r.files.instance[row]!]!.imageId]![r.files.file[row]!]!;

/** A mark of the pair a-b, in either order. */
const pairSel = (base: string, a: string, b: string) =>
  `${base}[data-pair="${a},${b}"], ${base}[data-pair="${b},${a}"]`;

function pairOfUrl(page: Page): string[] {
  const p = new URL(page.url()).searchParams.get('pair') ?? '';
  return p.split(',').map(decodeURIComponent).sort();
}

async function bytesAt(page: Page, testid: string): Promise<number> {
  return Number(await page.getByTestId(testid).locator('[data-bytes]').first().getAttribute('data-bytes'));
}

async function rowCount(page: Page): Promise<number> {
  const text = (await page.getByTestId('files-count').textContent()) ?? '';
  return Number(/^([\d,]+) of/.exec(text)![1]!.replace(/,/g, ''));
}

test('graph: an edge and a node open their files; cross-domain duplicates are their own edge style', async ({
  page,
  request,
}) => {
  const id = await openDemo(page, 'graph');
  const r = await apiReport(request, id);
  const v1 = idOf(r, '/run/images/base-v1');
  const v2 = idOf(r, '/run/images/base-v2');
  const app = idOf(r, '/run/images/app');
  const third = idOf(r, '/run/images/app-thirdparty');
  const edge = page.locator(pairSel('g.edge-hit:not(.cross)', v1, v2));
  await expect(edge).toHaveCount(1);
  const want = sharedBetween(r, v1, v2);
  // The worked figure of docs/sharing-rules.md: base-v1.fp and base-v2.fp share 655,360 bytes.
  expect(want.bytes).toBe(655_360);
  // Edges cross one another in the middle: Enter on the focused edge is the sure way to it.
  await edge.focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/view=files/);
  expect(pairOfUrl(page)).toEqual([v1, v2].sort());
  await expect(page.getByTestId('files-pair')).toBeVisible();
  expect(await bytesAt(page, 'pair-shared')).toBe(want.bytes);
  expect(await rowCount(page)).toBe(want.rows);
  await shot(page, 'graph-edge-files');
  // The link reproduces the view in a fresh page.
  const url = page.url();
  const fresh = await page.context().newPage();
  await fresh.goto(url);
  expect(await bytesAt(fresh, 'pair-shared')).toBe(want.bytes);
  expect(await rowCount(fresh)).toBe(want.rows);
  await fresh.close();

  // app (acme-signed) and app-thirdparty (thirdparty) hold the same content in two domains (R4).
  await openDemo(page, 'graph');
  await expect(page.getByTestId('legend-cross')).toBeVisible();
  // The words as shown (innerText: without the hidden definition of the glossary term).
  expect(await page.getByTestId('legend-cross').innerText()).toContain(
    'same content, not shared: different domains',
  );
  const cross = page.locator(pairSel('g.edge-hit.cross', app, third));
  await expect(cross).toHaveCount(1);
  await expect(page.locator(pairSel('g.edge-hit:not(.cross)', app, third))).toHaveCount(0);
  // What app-thirdparty holds in page cache, each content once: every file is also on app.
  const ti = indexOf(r, third);
  let crossBytes = 0;
  const counted = new Set<number>();
  for (let row = 0; row < r.files.instance.length; row++) {
    if (r.files.instance[row] !== ti || r.files.pagesWithout[row] === 0) continue;
    if (r.files.status[row] !== 'shared' && r.files.status[row] !== 'shared-alone') continue;
    const g = r.files.group[row]!;
    if (g >= 0) {
      if (counted.has(g)) continue;
      counted.add(g);
      crossBytes += r.groups[g]!.pages * r.options.pageSize;
    } else crossBytes += r.files.pagesWithout[row]! * r.options.pageSize;
  }
  expect(crossBytes).toBeGreaterThan(0);
  await shot(page, 'graph-cross-domain');
  await cross.focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/view=files.*pair=/);
  expect(pairOfUrl(page)).toEqual([app, third].sort());
  await expect(page.getByTestId('pair-cross')).toBeVisible({ timeout: 30_000 });
  expect(await bytesAt(page, 'pair-cross')).toBe(crossBytes);
  expect(await bytesAt(page, 'pair-shared')).toBe(0);

  // A node opens its instance's files.
  await openDemo(page, 'graph');
  await page.locator(`g.node[data-instance="${v2}"]`).click();
  await expect(page).toHaveURL(new RegExp(`view=files.*inst=${v2}`));
  const rowsOfV2 = r.files.instance.filter((i) => i === indexOf(r, v2)).length;
  expect(await rowCount(page)).toBe(rowsOfV2);
});

test('overlap: set sizes carry their values and a column opens its files', async ({ page, request }) => {
  const id = await openDemo(page, 'overlap');
  const r = await apiReport(request, id);
  // Each content (shared inode) belongs to the exact set of images holding it.
  const imagesOf = (g: Report['groups'][number]) =>
    [
      ...new Set([...g.members, ...g.rejected].map((row) => r.instances[r.files.instance[row]!]!.imageId)),
    ].sort();
  const values = page.locator('text.set-value');
  await expect(values.first()).toBeVisible();
  for (const t of await values.all()) {
    const img = (await t.getAttribute('data-image'))!;
    const want = r.groups.filter((g) => imagesOf(g).includes(img)).reduce((a, g) => a + g.size, 0);
    expect(Number(await t.getAttribute('data-bytes'))).toBe(want);
    await expect(t).toHaveText(formatBytes(want));
  }
  const col = page.locator('g.upset-col').first();
  const imgs = (await col.getAttribute('data-images'))!.split(',').sort();
  const groups = r.groups.filter((g) => imagesOf(g).join(',') === imgs.join(','));
  const rows = groups.reduce((a, g) => a + g.members.length + g.rejected.length, 0);
  await col.click();
  await expect(page).toHaveURL(/view=files.*ov=/);
  await expect(page.getByTestId('files-overlap')).toContainText(`${groups.length} content`);
  expect(await rowCount(page)).toBe(rows);
  await shot(page, 'overlap-column-files');
});

test('treemap: coloured by the shared proportion, sized without or with sharing, keyboard levels', async ({
  page,
  request,
}) => {
  const id = await openDemo(page, 'files', { fv: 'treemap' });
  const r = await apiReport(request, id);
  const ps = r.options.pageSize;
  const under = (p: string) => {
    let total = 0;
    let shared = 0;
    for (let row = 0; row < r.files.instance.length; row++) {
      const b = r.files.pagesWithout[row]! * ps;
      if (b === 0) continue;
      const rp = pathOf(r, row);
      if (rp !== p && !rp.startsWith(p + '/')) continue;
      total += b;
      if (r.files.status[row] === 'shared') shared += b;
    }
    return { total, shared };
  };
  await expect(page.getByTestId('treemap-legend')).toContainText('0 %');
  await expect(page.getByTestId('treemap-legend')).toContainText('100 %');
  await expect(page.getByTestId('treemap-total')).toContainText(
    `${formatBytes(r.totals.bytesWithoutSharing)} without sharing`,
  );
  const boxes = page.locator('g.tm-box');
  await expect(boxes.first()).toBeVisible();
  for (const b of (await boxes.all()).slice(0, 6)) {
    const p = (await b.getAttribute('data-path'))!;
    const want = under(p);
    expect(Number(await b.getAttribute('data-total'))).toBe(want.total);
    expect(Number(await b.getAttribute('data-shared'))).toBe(want.shared);
    await expect(b).toHaveAttribute(
      'aria-label',
      new RegExp(`${formatPercent((want.shared / want.total) * 100)} shared`),
    );
  }
  await page.getByTestId('treemap-size-with').click();
  await expect(page).toHaveURL(/tms=with/);
  await expect(page.getByTestId('treemap-total')).toContainText(
    `${formatBytes(r.totals.bytesWithSharing)} with sharing`,
  );
  await shot(page, 'treemap-with');

  // Keyboard: Enter opens the largest directory box, focus lands on the largest box inside it;
  // Escape and Backspace go up a level.
  const dir = page.locator('g.tm-box.tm-dir').first();
  const dirPath = (await dir.getAttribute('data-path'))!;
  await dir.focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`dir=${encodeURIComponent(dirPath)}(&|$)`));
  await expect(page.locator('g.tm-box').first()).toBeFocused();
  const values = await page
    .locator('g.tm-box')
    .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-bytes'))));
  expect(values[0]).toBe(Math.max(...values));
  // Up a level: the parent directory (the root has no `dir`).
  const parent = dirPath.slice(0, dirPath.lastIndexOf('/'));
  const atParent = parent ? new RegExp(`dir=${encodeURIComponent(parent)}(&|$)`) : /^(?!.*dir=)/;
  await page.keyboard.press('Escape');
  await expect(page).toHaveURL(atParent);
  await expect(page.locator('g.tm-box').first()).toBeFocused();
  const next = page.locator('g.tm-box.tm-dir').first();
  const nextPath = (await next.getAttribute('data-path'))!;
  await next.focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`dir=${encodeURIComponent(nextPath)}(&|$)`));
  await page.keyboard.press('Backspace');
  await expect(page).toHaveURL(
    new RegExp(`dir=${encodeURIComponent(nextPath.slice(0, nextPath.lastIndexOf('/')))}(&|$)`),
  );
});

test('overview tables sort by any column', async ({ page, request }) => {
  const r = await apiReport(request, await openDemo(page));
  const t = page.getByTestId('table-img');
  await t.locator('button[data-sort=saved]').click();
  const want = Object.entries(r.perImage)
    .map(([k, v], i) => ({ k, v: v.bytesSaved, i }))
    .sort((a, b) => b.v - a.v || a.i - b.i)
    .map((x) => x.k);
  expect(await t.locator('tbody tr').evaluateAll((rs) => rs.map((x) => x.getAttribute('data-key')))).toEqual(
    want,
  );
  await expect(t.locator('th[aria-sort=descending]')).toHaveCount(1);
  await t.locator('button[data-sort=saved]').click();
  expect(await t.locator('tbody tr').evaluateAll((rs) => rs.map((x) => x.getAttribute('data-key')))).toEqual(
    Object.entries(r.perImage)
      .map(([k, v], i) => ({ k, v: v.bytesSaved, i }))
      .sort((a, b) => a.v - b.v || a.i - b.i)
      .map((x) => x.k),
  );
});

const N = 120;
const TENANTS = 4;

/** 120 file-backed mounts of two fixture images in four domains, uploaded and analysed through the API. */
async function longReport(request: APIRequestContext): Promise<string> {
  const images: string[] = [];
  for (const name of ['base-v1.fp.img', 'base-v2.fp.img']) {
    const up = await request.post(`/api/images?name=${name}`, {
      data: readFileSync(path.join(fixtures, name)),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect([200, 202]).toContain(up.status());
    images.push(((await up.json()) as { id: string }).id);
  }
  const lines = Array.from(
    { length: N },
    (_, k) =>
      `/var/lib/images/base-v${(k % 2) + 1}.fp.img /run/c${String(k).padStart(3, '0')} erofs ro,inode_share,domain_id=tenant-${k % TENANTS} 0 0`,
  );
  const cfg = await request.post('/api/mount-configs?name=fleet120.fstab', {
    data: lines.join('\n') + '\n',
    headers: { 'content-type': 'text/plain' },
  });
  expect(cfg.status(), await cfg.text()).toBe(201);
  const created = await request.post('/api/reports', {
    data: { images, mountConfigs: [((await cfg.json()) as { id: string }).id] },
    timeout: 120_000,
  });
  expect(created.status(), await created.text()).toBe(201);
  return ((await created.json()) as { id: string }).id;
}

test('120 instances: summary first, paginated sortable tables, a readable matrix whose cells open files', async ({
  page,
  request,
}) => {
  test.setTimeout(240_000);
  const id = await longReport(request);
  const r = await apiReport(request, id);
  expect(r.instances).toHaveLength(N);
  await page.goto(`/r/${id}`);
  const summary = page.getByTestId('long-summary');
  await expect(summary).toBeVisible();
  await expect(page.getByTestId('summary-counts')).toHaveText(
    `${N} instances in ${TENANTS} domains over 2 images`,
  );
  // The summary comes before the tables (a union locator lists in document order).
  const order = await page
    .locator('[data-testid=long-summary], [data-testid=table-inst]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
  expect(order).toEqual(['long-summary', 'table-inst']);
  const inst = page.getByTestId('table-inst');
  await expect(inst.locator('tbody tr')).toHaveCount(20);
  const pager = page.getByTestId('pager').last();
  await expect(pager.getByTestId('pager-range')).toHaveText(`instances 1–20 of ${N}`);
  await pager.getByRole('button', { name: 'Next' }).click();
  await expect(pager.getByTestId('pager-range')).toHaveText(`instances 21–40 of ${N}`);
  // Sorted by fair share, the first row is the instance that costs most.
  await inst.locator('button[data-sort=fair]').click();
  await expect(pager.getByTestId('pager-range')).toHaveText(`instances 1–20 of ${N}`);
  const fair = Object.entries(r.cost!.perInstance).map(([k, c]) => ({ k, v: c.fairBytes }));
  const top = Math.max(...fair.map((f) => f.v));
  expect(
    Number(
      await inst
        .locator('tbody tr')
        .first()
        .getByTestId('fair')
        .locator('[data-bytes]')
        .getAttribute('data-bytes'),
    ),
  ).toBe(top);
  await shot(page, 'long-report-overview');
  await pager.getByRole('button', { name: `Show all ${N}` }).click();
  await expect(inst.locator('tbody tr')).toHaveCount(N);

  // The matrix: above 80 instances the graph gives way to it; domains label the axes.
  await page.goto(`/r/${id}?view=graph`);
  await expect(page.locator('svg.heatmap-svg')).toBeVisible();
  await expect(page.getByTestId('matrix-axis-block')).toHaveCount(TENANTS);
  // Labels, not the secret domain ids (R11); blocks in label order.
  const labels = [...new Set(r.instances.map((i) => i.domain!.label))].sort();
  expect(labels).toHaveLength(TENANTS);
  await expect(page.locator('svg.heatmap-svg text.hm-label').first()).toContainText(labels[0]!);
  // The colour scale starts at zero and ends at the most two instances share, in bytes.
  let max = 0;
  const pairs: [string, string][] = [];
  for (let a = 0; a < N; a++)
    for (let b = a + 1; b < N; b++) {
      if (a % TENANTS !== b % TENANTS) continue;
      pairs.push([r.instances[a]!.id, r.instances[b]!.id]);
    }
  const sharedOf = new Map<string, number>();
  for (const [a, b] of pairs) {
    const s = sharedBetween(r, a, b).bytes;
    sharedOf.set(`${a},${b}`, s);
    max = Math.max(max, s);
  }
  const ticks = page.getByTestId('matrix-legend').locator('[data-bytes]');
  expect(Number(await ticks.first().getAttribute('data-bytes'))).toBe(0);
  expect(Number(await ticks.last().getAttribute('data-bytes'))).toBe(max);
  await expect(page.getByTestId('matrix-legend')).toContainText('Bytes shared by the pair');
  await shot(page, 'matrix-120');
  // Hover names the pair; a click opens its files.
  const cell = page.locator('rect.hm-cell').first();
  const pair = (await cell.getAttribute('data-pair'))!;
  const [a, b] = pair.split(',') as [string, string];
  const la = r.instances[indexOf(r, a)]!.label;
  await cell.hover();
  await expect(page.getByTestId('matrix-hover')).toContainText(la);
  await cell.click();
  await expect(page).toHaveURL(/view=files.*pair=/);
  const want = sharedBetween(r, a, b);
  expect(await bytesAt(page, 'pair-shared')).toBe(want.bytes);
  expect(await rowCount(page)).toBe(want.rows);
});
