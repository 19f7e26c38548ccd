// The parts of the FAILED / FLAKY lines `npm test` ends its log with (scripts/test.mjs,
// docs/development.md#flaky-tests): kept apart from test.mjs, which runs everything when
// imported, so scripts/test/failure-lines.test.ts can check them.

/** Longest error text one FAILED or FLAKY line carries (the rest is in the log above it). */
export const MAX_ERROR_CHARS = 200;

/** The first line of an error message, at most MAX_ERROR_CHARS characters. */
export function firstLine(message) {
  return String(message ?? '')
    .split('\n')[0]
    .slice(0, MAX_ERROR_CHARS);
}

/** A Playwright test as one title: its file, the describe titles around it, and its own title. */
export function playwrightTitle(titles, specTitle) {
  return [...titles, specTitle].join(' > ');
}
