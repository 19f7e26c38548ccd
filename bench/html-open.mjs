// Opening a self-contained HTML report in headless Chromium from file:// with the network off,
// shared by the benchmarks that measure it (ci-pack, server-2m). Times are the page's own
// performance.now() (since navigation start): to the headline (`headlineMs`) and to the first
// rows of the files table (`filesRowsMs`).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromiumLaunchOptions } from '../e2e/chromium.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'e2e/package.json'));
const { chromium } = require('@playwright/test');

/** Opens `htmlFile` `runs` times, each in a fresh offline context; checks the headline text. */
export async function openHtmlReport(htmlFile, expectedHeadline, runs) {
  const browser = await chromium.launch(chromiumLaunchOptions);
  const opens = [];
  try {
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext({ offline: true, viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'commit' });
      const h = await page.waitForFunction(
        () => {
          const el = document.querySelector('[data-testid="headline"]');
          return el ? { text: el.textContent, at: performance.now() } : null;
        },
        null,
        { timeout: 120_000, polling: 'raf' },
      );
      const { text, at: headlineMs } = await h.jsonValue();
      if (text !== expectedHeadline)
        throw new Error(`headline ${JSON.stringify(text)} != ${JSON.stringify(expectedHeadline)}`);
      await page.getByRole('tab', { name: 'Files' }).click();
      const f = await page.waitForFunction(
        () =>
          document.querySelector('[data-testid="files-body"] [data-row], [data-testid="files-body"] tr')
            ? performance.now()
            : null,
        null,
        { timeout: 300_000, polling: 'raf' },
      );
      opens.push({ headlineMs: Math.round(headlineMs), filesRowsMs: Math.round(await f.jsonValue()) });
      await context.close();
    }
  } finally {
    await browser.close();
  }
  return opens;
}
