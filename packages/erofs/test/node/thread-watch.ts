/**
 * What the tests of how worker threads end (docs/development.md#how-worker-threads-end) look at:
 * the threads of this process, and every Worker's terminate() calls and exit codes.
 */
import { readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { vi } from 'vitest';

/** The threads of this process (Linux: /proc/self/task), or undefined without /proc. */
export function threadCount(): number | undefined {
  try {
    return readdirSync('/proc/self/task').length;
  } catch {
    return undefined;
  }
}

/**
 * The thread count once it is back at `expected` or below, or what it is after `boundMs`.
 * Why not one reading: every ended Worker's thread is joined before its 'exit' event, yet one
 * full run of digest-pool.test.ts at load 16 read one thread more than before (a thread that is
 * not one of ours, never identified); a thread that is really left over stays and still fails.
 */
export async function threadCountBackTo(
  expected: number | undefined,
  boundMs = 10_000,
): Promise<number | undefined> {
  const until = Date.now() + boundMs;
  for (;;) {
    const now = threadCount();
    if (now === undefined || expected === undefined || now <= expected || Date.now() >= until) return now;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** From now on: how often terminate() is called on any Worker, and the exit codes they end with. */
export interface WorkerWatch {
  terminated(): number;
  exits: number[];
  restore(): void;
}

export function watchWorkers(): WorkerWatch {
  const terminate = vi.spyOn(Worker.prototype, 'terminate');
  const exits: number[] = [];
  const inherited = Worker.prototype.emit;
  const emit = vi.spyOn(Worker.prototype, 'emit').mockImplementation(function (
    this: Worker,
    event: string | symbol,
    ...args: unknown[]
  ) {
    if (event === 'exit') exits.push(args[0] as number);
    return inherited.call(this, event, ...args);
  });
  return {
    terminated: () => terminate.mock.calls.length,
    exits,
    restore() {
      terminate.mockRestore();
      emit.mockRestore();
    },
  };
}
