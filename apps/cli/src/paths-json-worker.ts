/**
 * The thread `sharemap analyze --json` writes its report's path lists on while the main thread
 * runs the analysis (paths-json.ts). It lowers its priority first, before its modules (the
 * reader's and the writer's) are loaded, so that loading them, too, takes only what the main
 * thread leaves, then answers (paths-json-answer.ts).
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

lowestPriority();
await import('./paths-json-answer.js');

/**
 * This thread at nice 19 (Linux: setpriority of its thread id, which touches no other thread):
 * the main thread, the collector's helper threads and the rest of the machine come first; the
 * lists are written on a core that would be idle. Elsewhere (no /proc/thread-self) it keeps
 * the process's priority.
 */
function lowestPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, 19);
  } catch {
    // Not Linux, or not allowed: the default priority.
  }
}
