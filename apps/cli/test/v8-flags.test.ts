/**
 * The V8 flags `sharemap scan --hash` sets for itself (src/v8-flags.ts): which commands set
 * them, and that V8 really applies them, in the thread that sets them and in a worker thread
 * started after (as the digest threads are): a child Node process with
 * --allow-natives-syntax counts the calls of a small function before V8 marks it for
 * optimization, a count that depends on the interrupt budget alone, not on the machine's load.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SCAN_HASH_INTERRUPT_BUDGET, V8_DEFAULT_INTERRUPT_BUDGET, v8FlagsFor } from '../src/v8-flags.js';

describe('v8FlagsFor', () => {
  it('raises the interrupt budget for scan --hash only', () => {
    expect(v8FlagsFor(['scan', 'a.img', '--hash', '--ndjson'])).toBe(`--interrupt-budget=${8 * 67_584}`);
    expect(v8FlagsFor(['scan', 'a.img', '--ndjson', '--hash', '--threads', '0'])).toBe(
      `--interrupt-budget=${SCAN_HASH_INTERRUPT_BUDGET}`,
    );
    expect(v8FlagsFor(['scan', 'a.img', '--ndjson'])).toBeUndefined();
    expect(v8FlagsFor(['analyze', 'a.img', '--hash'])).toBeUndefined();
    expect(v8FlagsFor([])).toBeUndefined();
  });
});

/** A probe run in a child: calls of `work` before V8 marks it for optimization, here and in a worker. */
const PROBE = `
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
const count = \`
function work(a) { let s = 0; for (let i = 0; i < 16; i++) s += (a * i) & 7; return s; }
let calls = 0;
for (; calls < 1e6; calls++) { work(calls); if (%GetOptimizationStatus(work) & (16 | 256 | 512 | 1024)) break; }
calls;\`;
if (process.argv[1]) setFlagsFromString(process.argv[1]);
const here = eval(count);
const w = new Worker(
  \`import { parentPort } from 'node:worker_threads'; parentPort.postMessage(eval(\${JSON.stringify(count)}));\`,
  { eval: true },
);
w.once('message', (there) => { console.log(JSON.stringify({ here, there })); w.terminate(); });
`;

function probe(flags: string | undefined): { here: number; there: number } {
  const args = ['--allow-natives-syntax', '--input-type=module', '-e', PROBE];
  if (flags) args.push(flags);
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as { here: number; there: number };
}

describe('the interrupt budget of scan --hash in V8', () => {
  it('delays optimization by the budget, in the thread that sets it and in a worker started after', () => {
    const before = probe(undefined);
    const after = probe(v8FlagsFor(['scan', 'a.img', '--hash']));
    const factor = SCAN_HASH_INTERRUPT_BUDGET / V8_DEFAULT_INTERRUPT_BUDGET;
    // The count is set by the bytecode run, so it scales with the budget (133 -> 1060 on Node 20).
    for (const [b, a] of [
      [before.here, after.here],
      [before.there, after.there],
    ] as const) {
      expect(b).toBeGreaterThan(10);
      expect(a / b).toBeGreaterThan(factor * 0.75);
      expect(a / b).toBeLessThan(factor * 1.25);
    }
  });
});
