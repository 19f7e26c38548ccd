/**
 * Numbers that would mislead, shown right: the host total, fair share per instance and container,
 * the unknown-domain range in the headline with its one-click what-ifs, before -> after
 * deltas, Compare's image and instance differences, and `scn=working-set:<f>` applied or
 * refused. Figures: the worked figures of docs/sharing-rules.md, the fixture images' file
 * sizes, and the model itself (@sharemap/sharing) on the report's input.
 */
import { expect, test, type APIRequestContext, type Locator, type Page } from '@playwright/test';
import { analyze, compareReports, loopDirectIo, workingSet } from '@sharemap/sharing';
import type { AnalysisInput } from '@sharemap/sharing';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { apiReport, demoId, fixtures, headlineTotals, openDemo, shot } from './helpers';

/** fleet.fstab with every file-backed instance mounted reads 14,745,600 bytes with sharing (docs/sharing-rules.md). */
const FLEET_WITH_SHARING = 14_745_600;
/** The fleet's file-backed mounts without directio (lines 4, 5, 6, 7, 9): their image files stay in the backing cache (R8). */
const BACKED = ['base-v1.fp.img', 'base-v2.fp.img', 'app.fp.img', 'base-v1.fp.lz4hc.img', 'edge.img'];
const pageUp = (n: number) => Math.ceil(n / 4096) * 4096;

const bytesOf = async (l: Locator): Promise<number> =>
  Number(await l.locator('[data-bytes]').first().getAttribute('data-bytes'));

async function input(request: APIRequestContext, id: string): Promise<AnalysisInput> {
  return (await (await request.get(`/api/reports/${id}/input`)).json()) as AnalysisInput;
}

async function upload(request: APIRequestContext, names: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const name of names) {
    const up = await request.post(`/api/images?name=${name}`, {
      data: readFileSync(path.join(fixtures, name)),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect([200, 202]).toContain(up.status());
    ids.push(((await up.json()) as { id: string }).id);
  }
  return ids;
}

async function createReport(request: APIRequestContext, body: Record<string, unknown>): Promise<string> {
  const created = await request.post('/api/reports', { data: body, timeout: 60_000 });
  expect(created.status(), await created.text()).toBe(201);
  return ((await created.json()) as { id: string }).id;
}

async function waitRecomputed(page: Page): Promise<void> {
  await expect(page.locator('.whatif-bar')).toContainText('recomputed', { timeout: 30_000 });
}

test('demo: the host total adds the backing files cache, and directio removes it', async ({
  page,
  request,
}) => {
  const id = await openDemo(page);
  const report = await apiReport(request, id);
  const backing = BACKED.reduce((a, n) => a + pageUp(statSync(path.join(fixtures, n)).size), 0);
  expect(report.totals.bytesWithSharing).toBe(FLEET_WITH_SHARING);
  expect(report.cost!.host.backingFileBytes).toBe(backing);

  const host = page.getByTestId('host-total');
  await expect(host).toBeVisible();
  expect(await bytesOf(host.getByTestId('host-with'))).toBe(FLEET_WITH_SHARING + backing);
  expect(await bytesOf(host.getByTestId('host-files'))).toBe(FLEET_WITH_SHARING);
  expect(await bytesOf(host.getByTestId('host-backing'))).toBe(backing);
  // The bar has a never-shared segment beside "with" and "saved".
  await expect(page.locator('.big-bar .seg.unshared')).toHaveCount(1);
  await shot(page, 'host-total');

  await page.getByTestId('apply-directio').click();
  await expect(page).toHaveURL(/scn=directio/);
  await waitRecomputed(page);
  await expect.poll(() => bytesOf(host.getByTestId('host-with'))).toBe(FLEET_WITH_SHARING);
  await expect(host.getByTestId('host-backing')).toHaveCount(0);
  const change = host.getByTestId('host-change').locator('[data-bytes]');
  expect(await change.nth(0).getAttribute('data-bytes')).toBe(String(FLEET_WITH_SHARING + backing));
  expect(await change.nth(1).getAttribute('data-bytes')).toBe(String(FLEET_WITH_SHARING));
  expect(await change.nth(2).getAttribute('data-bytes')).toBe(String(-backing));

  // Loop devices with direct I/O: as the model computes it, and no backing-file cache either.
  const loop = analyze(loopDirectIo(await input(request, id)));
  expect(loop.cost!.host.backingFileBytes).toBe(0);
  await openDemo(page, '', { scn: 'loop-directio' });
  await waitRecomputed(page);
  await expect.poll(() => bytesOf(host.getByTestId('host-with'))).toBe(loop.cost!.host.bytesWithSharing);
});

test('demo: fair share per instance and per container, first member pays kept as a column', async ({
  page,
  request,
}) => {
  const report = await apiReport(request, await openDemo(page));
  const cost = report.cost!;
  const fairSum = Object.values(cost.perInstance).reduce((a, c) => a + c.fairBytes, 0);
  expect(fairSum).toBe(FLEET_WITH_SHARING);

  const table = page.getByTestId('table-inst');
  await expect(table.locator('thead')).toContainText('Fair share');
  await expect(table.locator('thead')).toContainText('First member pays');
  for (const inst of report.instances) {
    const row = table.locator(`tr[data-key="${inst.id}"]`);
    expect(await bytesOf(row.getByTestId('fair'))).toBe(cost.perInstance[inst.id]!.fairBytes);
    expect(await bytesOf(row.getByTestId('host'))).toBe(cost.perInstance[inst.id]!.hostBytes);
    expect(await bytesOf(row.getByTestId('first-member'))).toBe(
      report.perInstance[inst.id]!.bytesWithSharing,
    );
  }
  // base-v1 is read first: it pays every shared page in the old view, half or less by fair share.
  const v1 = report.instances.find((i) => i.label === '/run/images/base-v1')!;
  expect(cost.perInstance[v1.id]!.fairBytes).toBeLessThan(report.perInstance[v1.id]!.bytesWithSharing);

  // Containers of testdata/mounts/fleet-containers.fstab.
  const boxes = page.getByTestId('table-containers');
  await expect(boxes).toBeVisible();
  expect(cost.containers.map((c) => c.name)).toEqual(['api', 'batch', 'partner', 'web']);
  const label = (iid: string) => report.instances.find((i) => i.id === iid)!.label;
  expect(cost.containers.map((c) => c.instanceIds.map(label))).toEqual([
    ['/run/images/base-v1', '/run/images/app'],
    ['/run/images/base-v1-z'],
    ['/run/images/app-thirdparty', '/run/images/edge'],
    ['/run/images/base-v2', '/run/images/app'],
  ]);
  for (const c of cost.containers)
    expect(await bytesOf(boxes.locator(`tr[data-key="${c.name}"]`).getByTestId('fair'))).toBe(c.fairBytes);
  // partner shares nothing (its own domain, an image without fingerprints): fair = alone = without.
  const partner = cost.containers.find((c) => c.name === 'partner')!;
  const own = partner.instanceIds.reduce((a, i) => a + report.perInstance[i]!.bytesWithoutSharing, 0);
  expect([partner.fairBytes, partner.bytesWithSharing, partner.bytesWithoutSharing]).toEqual([own, own, own]);
  // Every instance's fair share is in some container or in no container: they add up to the total.
  const orphans = report.instances
    .filter((i) => !(i.users ?? []).length)
    .reduce((a, i) => a + cost.perInstance[i.id]!.fairBytes, 0);
  expect(cost.containers.reduce((a, c) => a + c.fairBytes, 0) + orphans).toBe(FLEET_WITH_SHARING);
  await shot(page, 'fair-share');

  // The Instances view gives the same fair share and host cost beside the cached bytes.
  await openDemo(page, 'instances');
  for (const inst of report.instances) {
    expect(await bytesOf(page.getByTestId(`fair-${inst.id}`))).toBe(cost.perInstance[inst.id]!.fairBytes);
    expect(await bytesOf(page.getByTestId(`host-${inst.id}`))).toBe(cost.perInstance[inst.id]!.hostBytes);
  }
});

test('unknown domains: the headline gives the range, and one click places the unknown instances', async ({
  page,
  request,
}) => {
  const images = await upload(request, ['base-v1.fp.img', 'base-v2.fp.img']);
  const mountinfo = [
    '101 26 0:51 / /run/images/base-v1 ro,relatime shared:60 - erofs /var/lib/images/base-v1.fp.img ro,user_xattr,acl,inode_share',
    '102 26 0:52 / /run/images/base-v2 ro,relatime shared:61 - erofs /var/lib/images/base-v2.fp.img ro,user_xattr,acl,inode_share',
    '',
  ].join('\n');
  const cfg = await request.post('/api/mount-configs?name=two.mountinfo', {
    data: mountinfo,
    headers: { 'content-type': 'text/plain' },
  });
  expect(cfg.status()).toBe(201);
  const id = await createReport(request, {
    images,
    mountConfigs: [((await cfg.json()) as { id: string }).id],
    publishers: { 'base-v1.fp.img': 'acme', 'base-v2.fp.img': 'acme' },
  });
  await page.goto(`/r/${id}`);
  const h = page.getByTestId('headline');
  // Worked figures: each alone 7,602,176 with sharing; both in one domain 6,946,816.
  expect(await bytesOf(h.getByTestId('range-with-best'))).toBe(6_946_816);
  expect(await bytesOf(h.getByTestId('range-with-worst'))).toBe(7_602_176);
  await expect(h.getByTestId('range-saved')).toHaveText('0 B – 640.0 KiB');
  await expect(h.getByTestId('bytes-saved')).toHaveCount(0);
  await shot(page, 'unknown-range');

  await page.getByTestId('apply-merge-unknown').click();
  await expect(page).toHaveURL(/scn=merge-unknown/);
  await waitRecomputed(page);
  await expect.poll(async () => (await headlineTotals(page)).bytesWithSharing).toBe(6_946_816);
  const delta = page.getByTestId('change-with').locator('[data-bytes]');
  expect(await delta.nth(0).getAttribute('data-bytes')).toBe('7602176');
  expect(await delta.nth(1).getAttribute('data-bytes')).toBe('6946816');
  expect(await delta.nth(2).getAttribute('data-bytes')).toBe('-655360');
  // The tables show before -> after too: per instance (fair share), per domain, per image.
  await expect(page.getByTestId('table-inst').getByTestId('row-change')).toHaveCount(2);
  await expect(
    page.getByTestId('table-dom').locator('tr[data-key="unknown-merged"]').getByTestId('row-change'),
  ).toHaveText('added');
  await expect(page.getByTestId('table-img').getByTestId('row-change')).toHaveCount(2);

  // One domain per publisher: both images are acme's.
  await page.goto(`/r/${id}?scn=domain-per-publisher`);
  await waitRecomputed(page);
  await expect.poll(async () => (await headlineTotals(page)).bytesWithSharing).toBe(6_946_816);
});

test('scn=working-set:0.1 applies, a slider applies any fraction, an unknown scenario is refused', async ({
  page,
  request,
}) => {
  const id = await demoId(request);
  const base = await input(request, id);
  const tenth = analyze(workingSet(0.1)(base)).totals;
  await page.goto(`/r/${id}?scn=working-set:0.1`);
  await waitRecomputed(page);
  await expect
    .poll(async () => (await headlineTotals(page)).bytesWithoutSharing)
    .toBe(tenth.bytesWithoutSharing);
  expect((await headlineTotals(page)).bytesWithSharing).toBe(tenth.bytesWithSharing);
  await expect(page.locator('.big-bar .legend')).toContainText('working set 10 %');

  await openDemo(page, 'scenarios');
  const slider = page.getByTestId('working-set-slider');
  await slider.fill('0.25');
  await expect(page.getByTestId('working-set-value')).toHaveText('25 %');
  await page.getByTestId('apply-working-set').click();
  await expect(page).toHaveURL(/scn=working-set%3A0\.25|scn=working-set:0\.25/);
  await waitRecomputed(page);
  const quarter = analyze(workingSet(0.25)(base)).totals;
  await page.getByRole('tab', { name: 'Overview' }).click();
  await expect
    .poll(async () => (await headlineTotals(page)).bytesWithoutSharing)
    .toBe(quarter.bytesWithoutSharing);

  for (const bad of ['bogus', 'working-set:2']) {
    await page.goto(`/r/${id}?scn=${bad}`);
    await expect(page.locator('.whatif-bar.error')).toContainText(
      bad === 'bogus' ? 'Recompute failed: unknown scenario "bogus"' : 'must be a number in (0, 1]',
    );
    await expect(page.locator('.whatif-bar')).not.toContainText('applied');
  }
});

test('compare: image and instance differences, and lost/gained only with the files behind them', async ({
  page,
  request,
}) => {
  const demo = await demoId(request);
  const images = await upload(request, ['base-v1.fp.img', 'base-v2.fp.img']);
  const next = await createReport(request, { images });
  const a = await apiReport(request, demo);
  const b = await apiReport(request, next);
  const d = compareReports(a, b);
  expect(d.images.filter((x) => x.change === 'removed').map((x) => x.name)).toEqual([
    'app.fp.img',
    'app.fp.lz4hc.img',
    'base-v1.fp.lz4hc.img',
    'base-v2.fp.lz4hc.img',
    'edge.img',
  ]);
  await page.goto(`/r/${next}?view=compare&base=${demo}`);
  const imgs = page.getByTestId('compare-images');
  await expect(imgs.locator('caption')).toHaveText(
    `Images: ${d.images.filter((x) => x.change === 'added').length} added, 5 removed, ${d.images.filter((x) => x.change === 'changed').length} changed`,
  );
  for (const x of d.images)
    await expect(imgs.locator(`tr[data-key="${x.name}"]`).getByTestId('change')).toHaveText(x.change);
  const insts = page.getByTestId('compare-instances');
  for (const x of d.instances)
    await expect(insts.locator(`tr[data-key="${x.name}"]`).getByTestId('change')).toHaveText(x.change);
  // Lost and gained bytes are those of the listed files.
  const listed = ['stoppedSharing', 'startedSharing', 'changedSharing'] as const;
  let rows = 0;
  for (const k of listed) rows += await page.getByTestId(`compare-${k}`).locator('tbody tr').count();
  expect(d.bytesLost + d.bytesGained).toBeGreaterThan(0);
  expect(rows).toBe(
    Math.min(200, d.stoppedSharing.length) +
      Math.min(200, d.startedSharing.length) +
      Math.min(200, d.changedSharing.length),
  );
  expect(rows).toBeGreaterThan(0);
  await shot(page, 'compare');

  // The same report against itself: nothing lost or gained, nothing listed.
  await page.goto(`/r/${next}?view=compare&base=${next}`);
  await expect(page.getByTestId('compare-lost-gained')).toContainText('no file saves more or less');
  await expect(page.getByTestId('compare-images').locator('caption')).toHaveText(
    'Images: 0 added, 0 removed, 0 changed',
  );
});
