/**
 * The FAILED / FLAKY lines `npm test` ends its log with (scripts/failure-lines.mjs): one line
 * per test, whatever the runner's error looked like (docs/development.md#flaky-tests).
 */
import { describe, expect, it } from 'vitest';
import { firstLine, MAX_ERROR_CHARS, playwrightTitle } from '../failure-lines.mjs';

describe('failure lines', () => {
  it('keeps the first line of an error, at most 200 characters', () => {
    expect(MAX_ERROR_CHARS).toBe(200);
    expect(firstLine('AssertionError: expected 1 to be 2\n    at test.ts:3:4\n')).toBe(
      'AssertionError: expected 1 to be 2',
    );
    const long = `Error: ${'x'.repeat(300)}\nsecond`;
    expect(firstLine(long)).toBe(long.slice(0, 200));
    expect(firstLine(long)).toHaveLength(200);
    expect(firstLine('one line')).toBe('one line');
  });

  it('answers an empty string for a missing message (a runner that gave none)', () => {
    expect(firstLine(undefined)).toBe('');
    expect(firstLine(null)).toBe('');
    expect(firstLine('')).toBe('');
    expect(firstLine('\nafter a blank first line')).toBe('');
  });

  it('joins a Playwright test title from its file and describe titles', () => {
    expect(playwrightTitle(['charts.spec.ts', 'charts'], 'bars sort by size')).toBe(
      'charts.spec.ts > charts > bars sort by size',
    );
    expect(playwrightTitle([], 'alone')).toBe('alone');
  });
});
