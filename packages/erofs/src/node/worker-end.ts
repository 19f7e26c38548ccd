/**
 * How the project's worker threads end (docs/development.md#how-worker-threads-end): on a
 * success path a thread is told it has nothing more to do (a message, or the work running
 * out), closes its port and handles, and ends on its own when its event loop is empty; the
 * starting thread waits for its 'exit' event. `worker.terminate()` is kept for errors,
 * timeouts, cancellation and runaway tasks, and is then awaited too.
 *
 * Why: terminate() stops the thread's JavaScript wherever it is, while V8 may still have
 * background jobs for its isolate (a TurboFan compile, concurrent marking) that post tasks to
 * it; Node 20 then aborts the whole process on `NodePlatform::ForIsolate ... (data.first) !=
 * nullptr` when such a job schedules its task after the isolate was unregistered (seen once in
 * CI on `apps/cli/test/scan-split.test.ts`). A thread whose loop empties has finished its
 * JavaScript and ends through the same teardown with nothing running.
 *
 * A module without imports beyond node:worker_threads (types only), so that the CLI's
 * early-start module (scan-split-start.ts) can use it.
 */
import type { Worker } from 'node:worker_threads';

/**
 * How long awaitWorkerEnd() waits for a thread told to end before it terminates it (ms): a
 * thread whose loop does not empty (a handle left open: a bug) must not hang its caller.
 * Generous: at a load of 30 a thread's teardown takes a few hundred ms of wall time.
 */
export const WORKER_END_WAIT_MS = 30_000;

/** Exit codes of the threads watchWorkerExit() watches, once they have ended. */
const codes = new WeakMap<Worker, number>();
/** Threads awaitWorkerEnd() had to terminate since the process started (tests: none). */
let forcedEnds = 0;

/**
 * Watch `worker` as it is made (before its 'exit' event can fire): its exit code is kept, for
 * an awaitWorkerEnd() called after it has ended.
 */
export function watchWorkerExit(worker: Worker): void {
  worker.once('exit', (code: number) => codes.set(worker, code));
}

/**
 * Wait for `worker`, already told it has nothing more to do (or one that ends when its work
 * runs out), to end on its own; its exit code. It is referenced meanwhile, so that the process
 * does not end (and terminate it) first. Past `boundMs` it is terminated (counted in
 * forcedWorkerEnds()) and its end awaited.
 *
 * The 'exit' listener is added here, at the call, not kept from watchWorkerExit(): code that
 * removes a thread's 'exit' listeners in between (the first attempt's takeSpare() did, with
 * removeAllListeners) would otherwise leave this wait on a listener that is gone, to run out
 * its bound although the thread ended at once (docs/benchmarks.md, worker-exit2).
 */
export async function awaitWorkerEnd(worker: Worker, boundMs = WORKER_END_WAIT_MS): Promise<number> {
  // Ended already (threadId is -1 from its 'exit' event on): its code if watchWorkerExit() saw it.
  if (worker.threadId < 0) return codes.get(worker) ?? -1;
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  worker.ref();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(resolve, boundMs, 'late')));
  const first = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (first !== 'late') return first;
  forcedEnds++;
  return worker.terminate();
}

/** Threads awaitWorkerEnd() terminated because they did not end on their own in time. */
export function forcedWorkerEnds(): number {
  return forcedEnds;
}
