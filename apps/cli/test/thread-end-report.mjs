/**
 * Loaded with `node --import` into the built CLI by thread-ends.test.ts ("the built CLI"): says
 * how each worker thread of the process ended, on stderr, as the process exits. One line
 * `thread-ends: [{"exit":0,"terminated":false}, ...]` (in the order the threads were made):
 * `exit` is the code of the thread's 'exit' event, null when it had not ended by the process's
 * exit (Node then stops it as terminate() does); `terminated` says whether terminate() was
 * called on it. A thread that calls process.exit() (which ends it as terminate() does) writes
 * `thread-ends: process.exit in a thread`. Watched where no listener can be removed: the
 * Worker class itself (its constructor, emit and terminate), not an 'exit' listener.
 */
import { writeSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import workerThreads from 'node:worker_threads';

if (workerThreads.isMainThread) {
  const threads = [];
  class WatchedWorker extends workerThreads.Worker {
    constructor(...args) {
      super(...args);
      this.ends = { exit: null, terminated: false };
      threads.push(this.ends);
    }
    emit(event, ...args) {
      if (event === 'exit') this.ends.exit = args[0];
      return super.emit(event, ...args);
    }
    terminate() {
      this.ends.terminated = true;
      return super.terminate();
    }
  }
  workerThreads.Worker = WatchedWorker;
  syncBuiltinESMExports();
  process.on('exit', () => writeSync(2, `thread-ends: ${JSON.stringify(threads)}\n`));
} else {
  const exit = process.exit;
  process.exit = function (code) {
    writeSync(2, 'thread-ends: process.exit in a thread\n');
    return exit.call(process, code);
  };
}
