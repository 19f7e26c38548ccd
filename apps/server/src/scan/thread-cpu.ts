/**
 * A thread's own CPU time, for the worker pool's CPU budgets (pool.ts): wall-clock time on a
 * loaded machine says more about the machine than about the task.
 */
import { readFileSync } from 'node:fs';

/** Granularity of a thread's CPU time in /proc (USER_HZ clock ticks: 10 ms on Linux). */
export const CPU_TICK_MS = 10;

/** Thread id and CPU time (user + system, ms) from a /proc stat file's text (proc(5)). */
function parseStat(text: string): { tid: number; cpuMs: number } | undefined {
  // The command name (field 2) may hold spaces and parentheses: the fields after it start
  // with the state (field 3); utime and stime are fields 14 and 15, in clock ticks.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const tid = Number.parseInt(text, 10);
  const ticks = Number(f[11]) + Number(f[12]);
  return Number.isSafeInteger(tid) && Number.isFinite(ticks)
    ? { tid, cpuMs: ticks * CPU_TICK_MS }
    : undefined;
}

function readStat(file: string): { tid: number; cpuMs: number } | undefined {
  try {
    return parseStat(readFileSync(file, 'latin1'));
  } catch {
    return undefined; // not Linux, or the thread has ended
  }
}

/** The calling thread's id and CPU time, or undefined without /proc. */
export function ownThreadCpu(): { tid: number; cpuMs: number } | undefined {
  return readStat('/proc/thread-self/stat');
}

/**
 * CPU time (ms) of thread `tid` of this process, or undefined (no /proc, or the thread has
 * ended). Node 20 has no API for another thread's CPU time (`worker.cpuUsage()` came in
 * Node 22.19 and 24.6).
 */
export function threadCpuMs(tid: number): number | undefined {
  return readStat(`/proc/self/task/${tid}/stat`)?.cpuMs;
}
