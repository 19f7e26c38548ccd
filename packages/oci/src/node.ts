/**
 * Node entry (`@sharemap/oci/node`): a SHA-256 hasher that runs on a worker thread, for the
 * whole-blob digests of layers (LoadOptions.digestHasher). A layer's bytes are hashed twice,
 * once whole (its digest / diff id) and once per file (the fingerprints); with this hasher
 * the two run on two cores, the main thread keeping the tar parsing and the file hashes
 * (docs/benchmarks.md#oci-predicting-from-a-docker-save-archive). The only module of the
 * package that imports Node built-ins: the browser build keeps hashing on its one thread.
 */
import { Worker } from 'node:worker_threads';
import type { Hasher, HasherFactory } from '@sharemap/erofs';

/** Bytes of one slot of the ring shared with the worker (each chunk is copied there once:
 * copying costs a fraction of hashing). */
export const DIGEST_SLOT_BYTES = 4 << 20;
/** Slots of the ring: how far the main thread may run ahead of the worker (bounds the memory
 * held for it: 8 x 4 MiB, allocated once per process). */
export const DIGEST_SLOTS = 8;
/** Longest wait for the worker (a piece hashed, or a digest) before giving up: the worker
 * hashes a piece in milliseconds, so this only fires when the worker thread is gone. */
export const DIGEST_WAIT_MS = 120_000;

// Control words (Int32 indices) of the shared control block.
const HASHED = 0; // slots the worker has hashed (and freed)
const DIGESTS = 1; // digests the worker has written to the result block

/**
 * The worker: hashes slot after slot of the shared ring in message order (messages are tiny:
 * { id, slot, len }); the result block carries the hex digest. Plain
 * JavaScript evaluated by the Worker constructor, so it runs the same from the TypeScript
 * sources and the build.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const ctl = new Int32Array(workerData.control);
const ring = new Uint8Array(workerData.ring);
const slotBytes = workerData.slotBytes;
const out = new Uint8Array(workerData.result);
const hashes = new Map();
parentPort.on('message', (m) => {
  let h = hashes.get(m.id);
  if (!h) hashes.set(m.id, (h = createHash('sha256')));
  if (m.len !== undefined) {
    h.update(ring.subarray(m.slot * slotBytes, m.slot * slotBytes + m.len));
    Atomics.add(ctl, ${HASHED}, 1);
    Atomics.notify(ctl, ${HASHED});
    return;
  }
  hashes.delete(m.id);
  if (m.digest) out.set(Buffer.from(h.digest('hex'), 'latin1'));
  Atomics.add(ctl, ${DIGESTS}, 1);
  Atomics.notify(ctl, ${DIGESTS});
});
parentPort.postMessage('ready');
`;

interface DigestWorker {
  worker: Worker;
  ctl: Int32Array;
  ring: Uint8Array;
  result: Uint8Array;
  /** Slots filled so far (compared with the worker's HASHED count). */
  written: number;
  nextId: number;
}

let shared: Promise<DigestWorker> | undefined;

/**
 * The process's digest worker, started on first use; it never keeps the process alive.
 * Resolves once the worker says it is ready: a worker that fails to start must fail here,
 * since its error event cannot reach a thread blocked in Atomics.wait.
 */
function digestWorker(): Promise<DigestWorker> {
  if (shared) return shared;
  const ring = new SharedArrayBuffer(DIGEST_SLOT_BYTES * DIGEST_SLOTS);
  const control = new SharedArrayBuffer(2 * 4);
  const result = new SharedArrayBuffer(64);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    // CommonJS whatever the parent runs (a parent started with --input-type=module would
    // otherwise pass that flag on and the worker's require() would not exist).
    execArgv: [],
    workerData: { ring, control, result, slotBytes: DIGEST_SLOT_BYTES },
  });
  const w: DigestWorker = {
    worker,
    ctl: new Int32Array(control),
    ring: new Uint8Array(ring),
    result: new Uint8Array(result),
    written: 0,
    nextId: 0,
  };
  const started = new Promise<DigestWorker>((resolve, reject) => {
    worker.once('message', () => {
      worker.unref(); // referenced until it runs, or an await on it would let the process exit
      resolve(w);
    });
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`the digest worker thread exited (${code}) before it ran`)),
    );
  });
  // A worker that dies (it should not: it only hashes) is replaced on the next use; a
  // caller blocked on it fails after DIGEST_WAIT_MS.
  const forget = () => {
    if (shared === started) shared = undefined;
  };
  worker.on('error', forget);
  worker.on('exit', forget);
  shared = started;
  return started;
}

/** Block until control word `i` differs from `seen` (the worker advanced it). */
function waitPast(ctl: Int32Array, i: number, seen: number, what: string): void {
  const deadline = Date.now() + DIGEST_WAIT_MS;
  while (Atomics.load(ctl, i) === seen) {
    const left = deadline - Date.now();
    if (left <= 0 || Atomics.wait(ctl, i, seen, left) === 'timed-out')
      throw new Error(`the digest worker thread did not answer within ${DIGEST_WAIT_MS} ms (${what})`);
  }
}

/**
 * SHA-256 on the digest worker thread. `update` copies the bytes into the shared ring and
 * returns (waiting only when the worker is DIGEST_SLOTS behind); `digestHex` waits for the
 * worker.
 * Hashers may be used concurrently (a compressed layer's blob and tar digests): all share
 * one worker, messages keep their order.
 */
export const workerSha256: HasherFactory = async (): Promise<Hasher> => {
  const w = await digestWorker();
  const id = w.nextId++;
  let done = false;
  const finish = (digest: boolean): string => {
    if (done) throw new Error('hasher used after its digest');
    done = true;
    const seen = Atomics.load(w.ctl, DIGESTS);
    w.worker.postMessage({ id, digest });
    waitPast(w.ctl, DIGESTS, seen, 'digest');
    return String.fromCharCode(...w.result);
  };
  return {
    update(d: Uint8Array) {
      if (done) throw new Error('hasher used after its digest');
      for (let p = 0; p < d.length; p += DIGEST_SLOT_BYTES) {
        const len = Math.min(DIGEST_SLOT_BYTES, d.length - p);
        // Ring full: wait for the worker to free the oldest slot.
        for (
          let h = Atomics.load(w.ctl, HASHED);
          w.written - h >= DIGEST_SLOTS;
          h = Atomics.load(w.ctl, HASHED)
        )
          waitPast(w.ctl, HASHED, h, 'ring full');
        const slot = w.written % DIGEST_SLOTS;
        w.ring.set(d.subarray(p, p + len), slot * DIGEST_SLOT_BYTES);
        w.written++;
        w.worker.postMessage({ id, slot, len });
      }
    },
    digestHex: () => finish(true),
  };
};
