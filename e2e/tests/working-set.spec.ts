import { expect, test } from '@playwright/test';
import { formatBytes, formatPercent, type Report, type Totals } from '@sharemap/sharing';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fixtures, root, shot } from './helpers';

const pair = (t: Totals) =>
  `${formatBytes(t.bytesWithoutSharing)} -> ${formatBytes(t.bytesWithSharing)}, ${formatPercent(t.percentSaved)}`;

test('images plus a host snapshot: the headline shows the static and the measured numbers of the API', async ({
  page,
  request,
}) => {
  const images: string[] = [];
  for (const name of ['base-v1.fp.img', 'base-v2.fp.img']) {
    const up = await request.post(`/api/images?name=${name}`, {
      data: readFileSync(path.join(fixtures, name)),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect([200, 202]).toContain(up.status()); // 200: already uploaded (the demo report holds these images)
    images.push(((await up.json()) as { id: string }).id);
  }
  // The snapshot as recorded by sharemap collect (gzip), and the fstab that names the domains.
  const snap = await request.post('/api/residency?name=host.snapshot.json.gz', {
    data: readFileSync(path.join(root, 'testdata/residency/host.snapshot.json.gz')),
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
  });
  expect(snap.status()).toBe(201);
  const fstab = await request.post('/api/mount-configs?name=fleet.fstab', {
    data: readFileSync(path.join(root, 'testdata/mounts/fleet.fstab'), 'utf8'),
    headers: { 'content-type': 'text/plain' },
  });
  expect(fstab.status()).toBe(201);
  const created = await request.post('/api/reports', {
    data: {
      images,
      mountConfigs: [((await fstab.json()) as { id: string }).id],
      residency: [{ id: ((await snap.json()) as { id: string }).id }],
    },
    timeout: 60_000,
  });
  expect(created.status()).toBe(201);
  const id = ((await created.json()) as { id: string }).id;
  const report = (await (await request.get(`/api/reports/${id}`)).json()) as Report;
  // testdata/residency/README.md: libcap on both mounts (shared once), openssl's readahead, libexpat.
  expect(report.measured!.totals).toMatchObject({ pagesWithoutSharing: 74, pagesWithSharing: 62 });

  await page.goto(`/r/${id}`);
  await expect(page.getByTestId('measure-static')).toHaveText(pair(report.totals));
  await expect(page.getByTestId('measure-measured')).toHaveText(pair(report.measured!.totals));
  await expect(page.getByTestId('measure-measured')).toHaveText('296.0 KiB -> 248.0 KiB, 16.2 %');
  const c = report.measured!.coverage;
  await expect(page.getByTestId('measure-coverage')).toHaveText(
    `(residency data for ${c.filesWithData} of ${c.files} files, ${formatBytes(c.bytesWithData)} of ${formatBytes(c.bytes)})`,
  );
  await shot(page, 'working-set-headline');
});
