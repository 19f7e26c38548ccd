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
