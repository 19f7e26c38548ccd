import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ownThreadCpu, threadCpuMs } from '../../src/scan/thread-cpu.js';

const linux = process.platform === 'linux';

describe.runIf(linux)('a thread CPU time from /proc (the pool budgets, pool.ts)', () => {
  it('counts the thread that computes, and not one that waits', async () => {
    const main = ownThreadCpu()!;
    expect(main.tid).toBeGreaterThan(0);
    // A worker thread that sleeps while this thread spins.
    const w = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const fs = require('node:fs');
       const tid = Number.parseInt(fs.readFileSync('/proc/thread-self/stat', 'latin1'), 10);
       parentPort.postMessage(tid);
       parentPort.on('message', () => parentPort.close());`,
      { eval: true },
    );
    try {
      const tid = await new Promise<number>((resolve) => w.once('message', resolve));
      expect(tid).not.toBe(main.tid);
      const sleeperBefore = threadCpuMs(tid)!;
      const processBefore = process.cpuUsage();
      let x = 0;
      while (threadCpuMs(main.tid)! - main.cpuMs < 200) for (let i = 0; i < 1e6; i++) x = (x * 31 + 7) | 0;
      const spun = ownThreadCpu()!.cpuMs - main.cpuMs;
      const p = process.cpuUsage(processBefore);
      // The process's CPU time includes this thread's (and its other threads').
      expect((p.user + p.system) / 1000).toBeGreaterThanOrEqual(spun - 20);
      // The waiting worker thread used next to nothing meanwhile.
      expect(threadCpuMs(tid)! - sleeperBefore).toBeLessThan(spun / 2);
      expect(x).not.toBe(0.5);
    } finally {
      await w.terminate();
    }
  }, 60_000);

  it('has no reading for a thread that does not exist', () => {
    expect(threadCpuMs(2 ** 31 - 1)).toBeUndefined();
  });
});
