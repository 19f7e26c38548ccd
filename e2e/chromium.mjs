// How sharemap drives a browser, shared by the Playwright config and bench/web.bench.mjs:
// Debian's Chromium (a downloaded browser build is not available here), headless, with every
// background network feature off so runs neither stall nor phone home.
export const chromiumLaunchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};
