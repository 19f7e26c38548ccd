/**
 * What the start page and the report say about the user's inputs, in words:
 * detected formats (with an override), parse errors at their line, mounts left out, "Link
 * copied", inputs not sent twice, errors without repeated codes, fingerprints and bytes as
 * people read them.
 */
import { expect, test, type Page } from '@playwright/test';
import path from 'node:path';
import { openDemo, fixtures, root, shot } from './helpers';

const fstab = path.join(root, 'testdata/mounts/fleet.fstab');
const img = (name: string) => path.join(fixtures, name);
const REPORT_URL = /\/r\/[A-Za-z0-9_-]+$/;

/** Counts the browser's POST /api/images requests (each is one image upload). */
function countImageUploads(page: Page): () => number {
  let n = 0;
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/images') n++;
  });
  return () => n;
}

test('the detected format of a pasted or uploaded configuration is shown and can be overridden', async ({
  page,
}) => {
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles([img('app.fp.img'), fstab]);
  await expect(page.getByLabel('Format of fleet.fstab')).toHaveValue('auto');
  await expect(page.getByLabel('Format of fleet.fstab').locator('option:checked')).toHaveText(
    'detected: fstab',
  );

  const paste = page.getByLabel(/paste a mount configuration/i);
  await paste.fill('/var/lib/images/app.fp.img /run/app erofs ro,inode_share 0 0\n');
  await expect(page.getByTestId('paste-format')).toHaveText('Read as proc-mounts (detected)');
  await page.getByLabel('Format of the pasted configuration').selectOption('fstab');
  await expect(page.getByTestId('paste-format')).toHaveText('Read as fstab (your choice)');
  await paste.fill('36 25 0:51 / /run/app ro,relatime - erofs /var/lib/images/app.fp.img ro,inode_share\n');
  await page.getByLabel('Format of the pasted configuration').selectOption('auto');
  await expect(page.getByTestId('paste-format')).toHaveText('Read as mountinfo (detected)');
  await shot(page, 'start-formats');
});

test('a parse error of the pasted text is placed at its line, highlighted, with its column', async ({
  page,
}) => {
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(img('app.fp.img'));
  const good = '36 24 0:50 / /run/base rw - tmpfs tmpfs rw';
  const bad =
    '36 25 0:51 / /run/app ro,relatime - erofs /var/lib/images/app.fp.img ro,inode_share,dax=sometimes';
  const paste = page.getByLabel(/paste a mount configuration/i);
  await paste.fill(`${good}\n${bad}\n`);
  await page.getByTestId('analyze').click();
  const err = page.getByTestId('paste-error');
  await expect(err).toBeVisible({ timeout: 30_000 });
  await expect(err).toContainText(':2:');
  await expect(err).toContainText('dax');
  await expect(page.getByTestId('paste-error-line')).toHaveText(bad);
  await expect(err).toContainText(`^ column ${bad.indexOf('dax=sometimes') + 1}`);
  await expect(paste).toHaveAttribute('aria-invalid', 'true');
  // The line is selected in the textarea, where the user fixes it.
  const sel = await paste.evaluate((t) => {
    const area = t as unknown as { selectionStart: number; selectionEnd: number };
    return [area.selectionStart, area.selectionEnd];
  });
  expect(sel).toEqual([good.length + 1, good.length + 1 + bad.length]);
  await expect(page).toHaveURL(/\/$/);
  await shot(page, 'start-paste-error');
});

test('mounts whose image was not uploaded are listed on the new report', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles([img('base-v1.fp.img'), img('app.fp.img'), fstab]);
  await page.getByTestId('analyze').click();
  await expect(page).toHaveURL(REPORT_URL, { timeout: 30_000 });
  await expect(page.getByTestId('unresolved-mounts')).toHaveText(
    '7 mounts name images you did not upload: ' +
      [
        '/var/lib/images/base-v2.fp.img (/run/images/base-v2)',
        '/var/lib/images/base-v1.fp.lz4hc.img (/run/images/base-v1-z)',
        '/var/lib/images/app.fp.lz4hc.img (/run/images/app-thirdparty)',
        '/var/lib/images/edge.img (/run/images/edge)',
        '/var/lib/images/base-v2.fp.img (/run/images/no-domain)',
        '/var/lib/images/base-v2.fp.img (/run/images/with-dax)',
        '/var/lib/images/base-v2.fp.lz4hc.img (/run/images/base-v2-z)',
      ].join(', '),
  );
  await shot(page, 'report-unresolved-mounts');
});

test('Copy link confirms: "Link copied", and the clipboard holds the address', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await openDemo(page, 'instances');
  await expect(page.getByTestId('copy-status')).toHaveText('');
  await page.getByRole('button', { name: 'Copy link' }).click();
  await expect(page.getByTestId('copy-status')).toHaveText('Link copied');
  expect(await page.evaluate('navigator.clipboard.readText()')).toBe(page.url());
});

test('re-analysing after removing the failed file uploads none of the others again', async ({ page }) => {
  const uploads = countImageUploads(page);
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles([img('base-v1.fp.img'), img('broken/zeroed-magic.img')]);
  await page.getByTestId('analyze').click();
  const err = page.getByTestId('upload-error');
  // The code once (never "EBADMAGIC: EBADMAGIC: ...").
  await expect(err).toHaveText(
    'EBADMAGIC: not an EROFS image: bad superblock magic 0x00000000 (want 0xe0f5e1e2) @ offset 1024',
    { timeout: 30_000 },
  );
  await expect(page.getByTestId('upload-item').first()).toHaveClass(/ready/);
  expect(uploads()).toBe(2);
  await page.getByRole('button', { name: 'Remove zeroed-magic.img' }).click();
  await page.getByTestId('analyze').click();
  await expect(page).toHaveURL(REPORT_URL, { timeout: 30_000 });
  expect(uploads()).toBe(2);
});

test('a truncated image is called truncated; a corrupt one scanned in the browser names its code once', async ({
  page,
}) => {
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(img('broken/truncated-half.img'));
  await page.getByTestId('analyze').click();
  await expect(page.getByTestId('upload-error')).toHaveText(
    'EIO: truncated image: the superblock counts 54 blocks of 4096 bytes (221184 bytes), the file has 110592 @ offset 110592',
    { timeout: 30_000 },
  );
  await page.getByRole('button', { name: 'Remove truncated-half.img' }).click();
  await page.getByTestId('mode-browser').check();
  await page.getByTestId('file-input').setInputFiles(img('broken/zeroed-magic.img'));
  await page.getByTestId('analyze').click();
  await expect(page.getByTestId('upload-error')).toHaveText(
    'EBADMAGIC: not an EROFS image: bad superblock magic 0x00000000 (want 0xe0f5e1e2) @ offset 1024',
    { timeout: 30_000 },
  );
});

test('a fingerprint is shown as its value (sha256:<digest>); findings print bytes with units', async ({
  page,
}) => {
  const id = await openDemo(page, 'files', { status: 'shared' });
  await page.locator('[data-testid=files-body] [data-row]').first().click();
  await expect(page.locator('code.fp')).toHaveText(/^sha256:[0-9a-f]{64}$/);

  await page.goto(`/r/${id}?view=findings`);
  const messages = page.locator('.finding p:not(.small)');
  await expect(messages.first()).toBeVisible();
  const texts = await messages.allTextContents();
  // Every byte figure in a message has its unit: "7.3 MiB (7,602,176 bytes)", never "7602176 bytes".
  expect(texts.filter((t) => /\d{4} bytes/.test(t))).toEqual([]);
  expect(texts.some((t) => /\.\d (?:KiB|MiB|GiB) \(\d[\d,]* bytes\)/.test(t))).toBe(true);
});
