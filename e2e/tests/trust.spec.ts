import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Report } from '@sharemap/sharing';
import { apiReport, fixtures, shot } from './helpers';

async function uploadImage(request: APIRequestContext, name: string): Promise<string> {
  const res = await request.post(`/api/images?name=${encodeURIComponent(name)}`, {
    headers: { 'content-type': 'application/octet-stream' },
    data: readFileSync(path.join(fixtures, name)),
  });
  expect(res.status(), await res.text()).toBeLessThan(300);
  return ((await res.json()) as { id: string }).id;
}

/**
 * A mixed-publisher report: base-v1.fp (acme) and base-v2.fp.forged (mallory) in one domain.
 * Hand figures (docs/sharing-rules.md worked figures): 7,602,176 - 5,967,872 = 1,634,304 bytes
 * saved, all of them pages of base-v1.fp read by base-v2.fp.forged, in 38 files.
 */
test('Trust view: the matrix names acme -> mallory and a cell leads to its 38 files', async ({
  page,
  request,
}) => {
  const images = [
    await uploadImage(request, 'base-v1.fp.img'),
    await uploadImage(request, 'base-v2.fp.forged.img'),
  ];
  const created = await request.post('/api/reports', {
    data: {
      images,
      publishers: { 'base-v1.fp.img': 'acme', 'base-v2.fp.forged.img': 'mallory' },
      title: 'trust e2e',
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const id = ((await created.json()) as { id: string }).id;
  const report: Report = await apiReport(request, id);
  const cells = report.trust!.matrix.map((c) => [c.supplier, c.reader, c.bytes, c.files]);
  expect(cells).toEqual([['pub:acme', 'pub:mallory', 1_634_304, 38]]);

  await page.goto(`/r/${id}?view=trust`);
  const cell = page.getByTestId('trust-cell');
  await expect(cell).toHaveCount(1);
  await expect(cell).toHaveAttribute('data-supplier', 'acme');
  await expect(cell).toHaveAttribute('data-reader', 'mallory');
  await expect(cell).toHaveAttribute('data-bytes', '1634304');
  await expect(cell).toHaveAttribute('data-files', '38');
  await expect(cell).toContainText('1.6 MiB · 38 files');
  // The narrative names the mix and the forged file, each with its rule.
  await expect(page.getByTestId('trust-view')).toContainText('mixes 2 publishers (acme, mallory)');
  await expect(page.getByTestId('trust-view')).toContainText(
    '1 file of base-v2.fp.forged.img carries a sha256 fingerprint that does not match its content',
  );
  await shot(page, 'trust');

  await cell.getByRole('link').click();
  await expect(page).toHaveURL(/view=files/);
  await expect(page).toHaveURL(/tc=pub%3Aacme%3Epub%3Amallory/);
  await expect(page.getByTestId('files-trust-cell')).toContainText(
    'pages published by acme read by instances of mallory',
  );
  await expect(page.getByTestId('files-count')).toContainText(`38 of ${report.files.instance.length} rows`);
  const want = new Set(report.trust!.matrix[0]!.rows);
  const shown = page.locator('[data-testid=files-body] [data-row]');
  await expect(shown.first()).toBeVisible();
  const rows = (await shown.evaluateAll((els) =>
    els.map((e) => Number(e.getAttribute('data-row'))),
  )) as number[];
  expect(rows.length).toBeGreaterThan(0);
  for (const r of rows) expect(want.has(r), `row ${r} is behind the cell`).toBe(true);
  // Every file shown is on the mallory instance and shares (its pages come from acme's image).
  for (const r of rows)
    expect(report.instances[report.files.instance[r]!]!.imageId).toBe('base-v2.fp.forged.img');
  await page.getByRole('link', { name: 'show all files' }).click();
  await expect(page.getByTestId('files-count')).toContainText(
    `${report.files.instance.length} of ${report.files.instance.length} rows`,
  );
});

/** The Trust view's cells as [supplier, reader, bytes, files]. */
async function viewCells(page: Page): Promise<[string, string, number, number][]> {
  const cells = page.getByTestId('trust-cell');
  await expect(cells.first()).toBeVisible();
  return cells.evaluateAll((els) =>
    els.map((e) => [
      e.getAttribute('data-supplier')!,
      e.getAttribute('data-reader')!,
      Number(e.getAttribute('data-bytes')),
      Number(e.getAttribute('data-files')),
    ]),
  ) as Promise<[string, string, number, number][]>;
}

const byPair = (a: [string, string, number, number], b: [string, string, number, number]) =>
  (a[0] + a[1]).localeCompare(b[0] + b[1]);

test('Trust view: serial fingerprints and fleet.fstab with two publishers in one domain, hand figures', async ({
  page,
  request,
}) => {
  // Serials (publisher-defined): 7,602,176 - 6,946,816 = 655,360 bytes of base-v1 read by base-v2, 37 files.
  const serial = [
    await uploadImage(request, 'base-v1.fp.serial.img'),
    await uploadImage(request, 'base-v2.fp.serial.img'),
  ];
  let res = await request.post('/api/reports', {
    data: {
      images: serial,
      publishers: { 'base-v1.fp.serial.img': 'acme', 'base-v2.fp.serial.img': 'acme' },
    },
  });
  expect(res.status(), await res.text()).toBe(201);
  let id = ((await res.json()) as { id: string }).id;
  await page.goto(`/r/${id}?view=trust`);
  expect(await viewCells(page)).toEqual([['acme', 'acme', 655_360, 37]]);
  await expect(page.getByTestId('trust-view')).toContainText(
    '238 files of base-v1.fp.serial.img carry publisher-defined fingerprints',
  );

  // fleet.fstab's images with their publishers: acme's base images and appco's app images share
  // domain D1 (acme-signed).
  const publishers: Record<string, string> = {
    'base-v1.fp.img': 'acme',
    'base-v2.fp.img': 'acme',
    'base-v1.fp.lz4hc.img': 'acme',
    'base-v2.fp.lz4hc.img': 'acme',
    'app.fp.img': 'appco',
    'app.fp.lz4hc.img': 'appco',
    'edge.img': 'appco',
  };
  const images: string[] = [];
  for (const n of Object.keys(publishers)) images.push(await uploadImage(request, n));
  const mc = await request.post('/api/mount-configs?name=fleet.fstab', {
    headers: { 'content-type': 'text/plain' },
    data: readFileSync(path.join(fixtures, '../mounts/fleet.fstab'), 'utf8'),
  });
  expect(mc.status(), await mc.text()).toBe(201);
  res = await request.post('/api/reports', {
    data: { images, mountConfigs: [((await mc.json()) as { id: string }).id], publishers },
  });
  expect(res.status(), await res.text()).toBe(201);
  id = ((await res.json()) as { id: string }).id;
  const report = await apiReport(request, id);
  // Hand figures (packages/sharing/test/trust/trust.test.ts, reference from the oracles).
  const want: [string, string, number, number][] = [
    ['acme', 'acme', 2_334_720, 261],
    ['acme', 'appco', 585_728, 4],
  ];
  expect(report.trust!.matrix.map((c) => [c.supplier.slice(4), c.reader.slice(4), c.bytes, c.files])).toEqual(
    want,
  );
  await page.goto(`/r/${id}?view=trust`);
  expect((await viewCells(page)).sort(byPair)).toEqual(want);
  const d1 = report.trust!.domains.find((d) => d.parties.length > 1)!;
  await expect(page.getByTestId(`trust-domain-${d1.label}`)).toContainText(
    `Domain ${d1.label} mixes 2 publishers (acme, appco)`,
  );
});
