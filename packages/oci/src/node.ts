/**
 * Node entry (`@sharemap/oci/node`): SHA-256 on a worker thread. `workerTarHasher` hashes a
 * layer's tar stream whole (its diff id) and every file's data span in it (the fingerprints),
 * so the thread that reads the tar only parses headers; `workerSha256` hashes a compressed
 * blob whole (its digest). Both share one worker per thread and its ring of slots
 * (docs/benchmarks.md#oci-predicting-from-a-docker-save-archive). The only module of the
 * package that imports Node built-ins: the browser build keeps hashing on its one thread.
 */
import { Worker } from 'node:worker_threads';
import type { Hasher, HasherFactory } from '@sharemap/erofs';
import { awaitWorkerEnd, watchWorkerExit } from '@sharemap/erofs/worker-end';
import { TAR_HASH_CHUNK_BYTES, type TarHasher, type TarHasherFactory } from './tar-hasher.js';

/** Bytes of one slot of the ring shared with the worker (each chunk is copied there once:
 * copying costs a fraction of hashing). A TarHasher chunk fills at most one slot. */
export const DIGEST_SLOT_BYTES = TAR_HASH_CHUNK_BYTES;
/** Slots of the ring: how far the main thread may run ahead of the worker (bounds the memory
 * held for it: 8 x 4 MiB, allocated once per thread). */
export const DIGEST_SLOTS = 8;
/** Longest wait for the worker (a piece hashed, or a digest) before giving up: the worker
 * hashes a piece in milliseconds, so this only fires when the worker thread is stuck. */
export const DIGEST_WAIT_MS = 120_000;

// Control words (Int32 indices) of the shared control block.
const HASHED = 0; // slots the worker has hashed (and freed)
const DIGESTS = 1; // digests the worker has written to the result block
const FAILED = 2; // 1 once the worker has thrown (it then exits)

/**
 * The worker: hashes slot after slot of the shared ring in message order (messages are small).
 * Plain hashers: { id, slot, len } then { id, digest }; the result block carries the hex
 * digest. Tar streams ({ tar: true, id, ... }): `spans` (offset, length pairs) declares files'
 * data, a slot is hashed for the stream and for the parts of the declared spans that lie in it
 * (a span that continues past the slot is continued with the next), `finish` posts back
 * { id, digest, files } (files: the hex digests concatenated in declaration order). A
 * message that breaks these rules throws: FAILED is raised first, so a main thread blocked in
 * Atomics.wait (where no error event can reach it) wakes and fails too.
 * Plain JavaScript evaluated by the Worker constructor, so it runs the same from the
 * TypeScript sources and the build.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const ctl = new Int32Array(workerData.control);
const ring = new Uint8Array(workerData.ring);
const slotBytes = workerData.slotBytes;
const out = new Uint8Array(workerData.result);
const EMPTY = createHash('sha256').digest('hex');
const hashes = new Map();
const tars = new Map();
function freed() {
  Atomics.add(ctl, ${HASHED}, 1);
  Atomics.notify(ctl, ${HASHED});
}
function plain(m) {
  let h = hashes.get(m.id);
  if (!h) hashes.set(m.id, (h = createHash('sha256')));
  if (m.len !== undefined) {
    h.update(ring.subarray(m.slot * slotBytes, m.slot * slotBytes + m.len));
    return freed();
  }
  hashes.delete(m.id);
  if (m.digest) out.set(Buffer.from(h.digest('hex'), 'latin1'));
  Atomics.add(ctl, ${DIGESTS}, 1);
  Atomics.notify(ctl, ${DIGESTS});
}
function tar(m) {
  if (m.abort) return void tars.delete(m.id);
  let t = tars.get(m.id);
  if (!t) tars.set(m.id, (t = { h: createHash('sha256'), pos: 0, end: 0, spans: [], head: 0, fh: null, files: [] }));
  const s = t.spans;
  for (let i = 0; m.spans && i < m.spans.length; i += 2) {
    const start = m.spans[i], len = m.spans[i + 1];
    if (start < t.end || start < t.pos)
      throw new Error('file data at ' + start + ' declared out of order (hashed up to ' + t.pos + ', last file ends at ' + t.end + ')');
    t.end = start + len;
    if (len === 0) t.files.push(EMPTY);
    else {
      s.push(start, len, t.files.length);
      t.files.push('');
    }
  }
  if (m.len !== undefined) {
    const off = t.pos, end = off + m.len;
    const bytes = ring.subarray(m.slot * slotBytes, m.slot * slotBytes + m.len);
    t.h.update(bytes);
    while (t.head < s.length && s[t.head] < end) {
      const fs = s[t.head], fe = fs + s[t.head + 1];
      if (!t.fh) t.fh = createHash('sha256');
      t.fh.update(bytes.subarray(Math.max(fs, off) - off, Math.min(fe, end) - off));
      if (fe > end) break;
      t.files[s[t.head + 2]] = t.fh.digest('hex');
      t.fh = null;
      t.head += 3;
    }
    if (t.head >= 3 * 1024) {
      s.splice(0, t.head);
      t.head = 0;
    }
    t.pos = end;
    freed();
  }
  if (m.finish) {
    tars.delete(m.id);
    if (t.head < s.length)
      throw new Error('the tar stream ended at ' + t.pos + ' inside the data of a file at ' + s[t.head]);
    parentPort.postMessage({ id: m.id, digest: t.h.digest('hex'), files: t.files.join('') });
  }
}
parentPort.on('message', (m) => {
  // Nothing more comes (releaseDigestWorker): the port closed, the loop empties, the thread ends.
  if (m === 'end') return parentPort.close();
  try {
    if (m.tar) tar(m);
    else plain(m);
  } catch (e) {
    Atomics.store(ctl, ${FAILED}, 1);
    Atomics.notify(ctl, ${HASHED});
    Atomics.notify(ctl, ${DIGESTS});
    throw e;
  }
});
parentPort.postMessage('ready');
`;

interface TarResult {
  digest: string;
  files: string;
}

interface DigestWorker {
  worker: Worker;
  ctl: Int32Array;
  ring: Uint8Array;
  result: Uint8Array;
  /** Slots filled so far (compared with the worker's HASHED count). */
  written: number;
  nextId: number;
  /** Tar streams waiting for their digests (the worker is referenced while any waits). */
  waiting: Map<number, { resolve: (r: TarResult) => void; reject: (e: Error) => void }>;
  /** Why the worker failed, once it has. */
  failure?: Error;
  /** Stop the worker after a failure and forget it (the next use starts a new one). */
  stop: (e: Error) => void;
  /** Told to end (releaseDigestWorker): its exit is not a failure. */
  released?: boolean;
}

let shared: Promise<DigestWorker> | undefined;
let current: DigestWorker | undefined;

/** The thread id of this thread's digest worker while one runs (tests: a failed worker is gone). */
export function digestWorkerThreadId(): number | undefined {
  return current?.worker.threadId;
}

/**
 * This thread's digest worker, started on first use; it never keeps the process alive while
 * idle. Resolves once the worker says it is ready: a worker that fails to start must fail
 * here, since its error event cannot reach a thread blocked in Atomics.wait.
 */
function digestWorker(): Promise<DigestWorker> {
  // A worker that raised FAILED while this thread was blocked (its error event not yet
  // delivered) is not handed out again.
  if (current && Atomics.load(current.ctl, FAILED)) current.stop(new Error('it threw'));
  if (shared) return shared;
  const ring = new SharedArrayBuffer(DIGEST_SLOT_BYTES * DIGEST_SLOTS);
  const control = new SharedArrayBuffer(3 * 4);
  const result = new SharedArrayBuffer(64);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    // CommonJS whatever the parent runs (a parent started with --input-type=module would
    // otherwise pass that flag on and the worker's require() would not exist).
    execArgv: [],
    workerData: { ring, control, result, slotBytes: DIGEST_SLOT_BYTES },
  });
  watchWorkerExit(worker);
  // The process's loop is empty (the worker is unreferenced while idle): it ends the worker
  // the same way, so that Node's exit does not stop it (docs/development.md#how-worker-threads-end).
  if (!releaseOnExit) {
    releaseOnExit = true;
    process.once('beforeExit', releaseAtExit);
  }
  const w: DigestWorker = {
    worker,
    ctl: new Int32Array(control),
    ring: new Uint8Array(ring),
    result: new Uint8Array(result),
    written: 0,
    nextId: 0,
    waiting: new Map(),
    stop: () => undefined,
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
  worker.on('message', (m: unknown) => {
    if (m === 'ready') return;
    const r = m as TarResult & { id: number };
    const waiter = w.waiting.get(r.id);
    w.waiting.delete(r.id);
    if (w.waiting.size === 0) worker.unref();
    waiter?.resolve(r);
  });
  // A worker that fails (it hashes only what it is told; a message out of order makes it
  // throw) is stopped and replaced on the next use; whoever waits on it fails now.
  const fail = (e: Error) => {
    if (w.released) return;
    w.failure ??= new Error(`the digest worker thread failed: ${e.message}`);
    Atomics.store(w.ctl, FAILED, 1);
    for (const waiter of w.waiting.values()) waiter.reject(w.failure);
    w.waiting.clear();
    if (shared === started) shared = undefined;
    if (current === w) current = undefined;
    void worker.terminate();
  };
  w.stop = fail;
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`it exited (${code})`)));
  shared = started;
  current = w;
  return started;
}

let releaseOnExit = false;
/** The process's 'beforeExit' listener while a digest worker may run (removed once it is released). */
function releaseAtExit(): void {
  releaseOnExit = false;
  void releaseDigestWorker();
}

/**
 * End this thread's digest worker, if one runs and nothing waits on it: told so, it ends on
 * its own (docs/development.md#how-worker-threads-end); resolves once it has. The next use
 * starts a new one. Called as the process's event loop empties, and by a thread that ends.
 */
export async function releaseDigestWorker(): Promise<void> {
  const w = current;
  if (!w || w.failure || w.waiting.size > 0) return;
  // Nothing runs after this one ends (the next use registers again): the process keeps no
  // listener of ours (a test process running many files checks that it does not).
  if (releaseOnExit) {
    releaseOnExit = false;
    process.off('beforeExit', releaseAtExit);
  }
  const ready = shared;
  shared = undefined;
  current = undefined;
  w.released = true;
  try {
    await ready; // started: it reads its messages (a worker that failed to start has ended)
  } catch {
    return;
  }
  w.worker.postMessage('end');
  await awaitWorkerEnd(w.worker);
}

function checkAlive(w: DigestWorker): void {
  if (w.failure || Atomics.load(w.ctl, FAILED))
    throw w.failure ?? new Error('the digest worker thread failed');
}

/** Block until control word `i` differs from `seen` (the worker advanced it, or failed). */
function waitPast(w: DigestWorker, i: number, seen: number, what: string): void {
  const deadline = Date.now() + DIGEST_WAIT_MS;
  while (Atomics.load(w.ctl, i) === seen) {
    checkAlive(w);
    const left = deadline - Date.now();
    if (left <= 0 || Atomics.wait(w.ctl, i, seen, left) === 'timed-out')
      throw new Error(`the digest worker thread did not answer within ${DIGEST_WAIT_MS} ms (${what})`);
  }
  checkAlive(w);
}

/** Copy `d` (at most one slot) into the next free slot of the ring, waiting while it is full. */
function toRing(w: DigestWorker, d: Uint8Array): number {
  checkAlive(w);
  // Ring full: wait for the worker to free the oldest slot.
  for (let h = Atomics.load(w.ctl, HASHED); w.written - h >= DIGEST_SLOTS; h = Atomics.load(w.ctl, HASHED))
    waitPast(w, HASHED, h, 'ring full');
  const slot = w.written % DIGEST_SLOTS;
  w.ring.set(d, slot * DIGEST_SLOT_BYTES);
  w.written++;
  return slot;
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
    checkAlive(w);
    const seen = Atomics.load(w.ctl, DIGESTS);
    w.worker.postMessage({ id, digest });
    waitPast(w, DIGESTS, seen, 'digest');
    return String.fromCharCode(...w.result);
  };
  return {
    update(d: Uint8Array) {
      if (done) throw new Error('hasher used after its digest');
      for (let p = 0; p < d.length; p += DIGEST_SLOT_BYTES) {
        const len = Math.min(DIGEST_SLOT_BYTES, d.length - p);
        const slot = toRing(w, d.subarray(p, p + len));
        w.worker.postMessage({ id, slot, len });
      }
    },
    digestHex: () => finish(true),
  };
};

/**
 * A TarHasher on the digest worker thread: each chunk is copied into the ring once and hashed
 * there for the stream and for the files whose data lies in it. The last chunk is held back
 * (by reference) until the next `update` or `finish`, and goes to the worker together with
 * the spans declared meanwhile: a tar reader declares a file when it parses its header, which
 * may lie in that chunk, and the worker must know a span before it hashes the span's bytes.
 * Only the digests cross back, once per stream.
 */
export const workerTarHasher: TarHasherFactory = async (): Promise<TarHasher> => {
  const w = await digestWorker();
  const id = w.nextId++;
  let held: Uint8Array | null = null;
  let spans: number[] = [];
  let done = false;
  const open = () => {
    if (done) throw new Error('tar hasher used after finish or abort');
    checkAlive(w);
  };
  /** Send the held chunk (if any) with the spans declared so far. */
  const send = (): void => {
    if (held) {
      const slot = toRing(w, held);
      w.worker.postMessage({ tar: true, id, slot, len: held.length, spans });
      held = null;
    } else if (spans.length) w.worker.postMessage({ tar: true, id, spans });
    spans = [];
  };
  return {
    update(chunk) {
      open();
      if (chunk.length > DIGEST_SLOT_BYTES)
        throw new Error(
          `tar hasher chunk of ${chunk.length} bytes exceeds ${DIGEST_SLOT_BYTES} (split it first)`,
        );
      if (chunk.length === 0) return;
      send();
      held = chunk;
    },
    file(offset, length) {
      open();
      spans.push(offset, length);
    },
    async finish() {
      open();
      send();
      done = true;
      const reply = new Promise<TarResult>((resolve, reject) => w.waiting.set(id, { resolve, reject }));
      w.worker.ref(); // a pending reply must keep the process alive
      w.worker.postMessage({ tar: true, id, finish: true });
      const r = await reply;
      const files: string[] = [];
      for (let p = 0; p < r.files.length; p += 64) files.push(r.files.slice(p, p + 64));
      return { digest: r.digest, files };
    },
    abort() {
      if (done) return;
      done = true;
      held = null;
      if (!w.failure) w.worker.postMessage({ tar: true, id, abort: true });
    },
  };
};
