import { expect, test } from '@playwright/test';
import { analyze, assignedDomain } from '@sharemap/sharing';
import type { AnalysisInput } from '@sharemap/sharing';
import { headlineTotals, openDemo, shot } from './helpers';

/** What the model says when instance `id` is put in domain `label` (as the UI does it). */
function expected(input: AnalysisInput, id: string, label: string) {
  const changed: AnalysisInput = {
    ...input,
    instances: input.instances.map((i) =>
      i.id === id
        ? {
            ...i,
            domain: assignedDomain(input.instances, label),
            domainKnown: true,
            options: { ...i.options, domainIdGiven: true },
          }
        : i,
    ),
  };
  return analyze(changed).totals;
}

test('change a domain and see savings change as the model says', async ({ page, request }) => {
  const id = await openDemo(page, 'instances');
  const input = (await (await request.get(`/api/reports/${id}/input`)).json()) as AnalysisInput;
  const before = analyze(input).totals;
  // Put the third-party app instance (domain D2) into D1 with the other images.
  const target = input.instances.find((i) => i.domain && i.domain.label !== 'D1' && i.options.inodeShare);
  expect(target, 'the demo has an instance outside D1').toBeTruthy();
  const want = expected(input, target!.id, 'D1');
  expect(want.bytesSaved).not.toBe(before.bytesSaved);

  const field = page.getByTestId(`domain-${target!.id}`);
  await field.fill('D1');
  await field.press('Enter');
  await expect(page).toHaveURL(new RegExp(`dom=${target!.id}%3AD1|dom=${target!.id}:D1`));
  await expect(page.locator('.whatif-bar')).toContainText('recomputed');
  await shot(page, 'instances-reassigned');
  await page.getByRole('tab', { name: 'Overview' }).click();
  await expect.poll(async () => (await headlineTotals(page)).bytesSaved).toBe(want.bytesSaved);
  expect(await headlineTotals(page)).toEqual({
    bytesWithoutSharing: want.bytesWithoutSharing,
    bytesWithSharing: want.bytesWithSharing,
    bytesSaved: want.bytesSaved,
  });
  // Undo restores the stored figures.
  await page.getByRole('button', { name: 'Reset to stored report' }).click();
  await expect.poll(async () => (await headlineTotals(page)).bytesSaved).toBe(before.bytesSaved);
});
