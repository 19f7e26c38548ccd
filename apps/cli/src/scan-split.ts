/**
 * `sharemap scan IMAGE --ndjson|--json` on two threads (docs/cli.md#metadata-scan-on-two-threads):
 * the image's root steps (a root child's record, or a root directory's whole subtree; stepsOf
 * in manifest-scan.ts) are divided between this thread, which takes them from the first one
 * up and writes their records as it goes, and a worker (scan-split-worker.ts), which takes
 * them from the last one down and encodes theirs into buffers (a temporary file beyond a bound)
 * that this thread writes after its own, in step order. Both claim a step with one atomic
 * exchange, so they meet wherever the work splits evenly. The output is the one-thread scan's,
 * byte for byte, header and errors included: the header waits for its count as there (the
 * worker's countPaths, which refuses what only the whole tree shows, such as a directory
 * reached from two parts), and a step the worker did not finish (an error, a dead thread) is
 * walked here, from where its records stopped, which gives the one-thread scan's error.
 * Under `scan --hash` (on an image of small files, splitWorthIt) each thread hashes the regular
 * files of its own steps, and no digest thread is started.
 */
import { channel } from 'node:diagnostics_channel';
import { availableParallelism } from 'node:os';
import { closeSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  ErofsError,
  MAX_HELD_BYTES,
  scanHeader,
  scanSharedTo,
  type HeaderLaterSink,
  type ManifestHeader,
  type RecordFields,
  type RootStepShare,
  type ScanOptions,
} from '@sharemap/erofs';
import {
  awaitWorkerEnd,
  getLz4Decoder,
  releaseSpareDigestThreads,
  watchWorkerExit,
  nodeSha256,
  nodeSha256Now,
  openImageFile,
  type OpenedImageFile,
} from '@sharemap/erofs/node';
import { inputError } from './errors.js';
import { workerOptions } from './worker-options.js';
import {
  releaseStartedWorker,
  SCAN_THREADS_ENV,
  SPLIT_MIN_INODES,
  splitWorkerScript,
  splitWorthIt,
  takeStartedWorker,
} from './scan-split-start.js';

export { SCAN_THREADS_ENV, SPLIT_MIN_INODES };
import {
  CLAIM_FREE,
  CLAIM_MAIN,
  COUNT_FAILED,
  COUNT_PENDING,
  MAX_SHARED_STEPS,
  S_COUNT,
  S_COUNT_STATE,
  S_HELD,
  S_STOP,
  STATE_WORDS,
  type SplitMessage,
  type SplitInitMessage,
  type SplitPiece,
  type SplitWorkerData,
} from './scan-split-protocol.js';

/**
 * The most bytes of the worker's records held in memory for this thread to write (beyond, the
 * worker writes them to a temporary file): with the 32 MiB a one-thread scan holds before its
 * header (MAX_HELD_BYTES), peak RSS stays well under the scan's 300 MB.
 */
export const SPLIT_HELD_BYTES = 32 << 20;

/**
 * Diagnostics channel (node:diagnostics_channel) on which every shared scan publishes a
 * SplitScanDone as it ends: how the root steps were divided (tests, measurements).
 */
export const SCAN_SPLIT_CHANNEL = 'sharemap:scan-split';
const splitChannel = channel(SCAN_SPLIT_CHANNEL);

/** The message of SCAN_SPLIT_CHANNEL. */
export interface SplitScanDone {
  path: string;
  /** The root's steps. */
  steps: number;
  /** Root steps this thread walked as it came to them (from the first one). */
  mainSteps: number;
  /** Root steps the worker walked whole. */
  workerSteps: number;
  /** Root steps this thread walked (the rest of) after the worker did not finish them. */
  walkedAfter: number;
  /** Bytes of the worker's records that went through its temporary file. */
  spilledBytes: number;
}

/** A streamed scan's writer that also takes records already encoded (the worker's). */
export interface SplitSink extends HeaderLaterSink {
  /** Append records encoded by encodeRecord in this sink's form (held until the header, as file()). */
  bytes(b: Uint8Array): void | Promise<void>;
}

export interface ScanSplitOptions {
  devices: string[];
  form: 'ndjson' | 'json';
  /**
   * `scan --hash` with this many digest threads: both threads walk their root steps and hash
   * the regular files in them (no digest threads), when splitWorthIt() says so.
   */
  hash?: { threads: number };
  /** Split when the image has at least this many inodes, whatever splitWorthIt() says (tests: 0). */
  minInodes?: number;
  /** Tests: this thread takes at most this many root steps, the worker the rest. */
  mainSteps?: number;
  /** Tests: the most bytes of the worker's records held in memory (default SPLIT_HELD_BYTES). */
  heldBytes?: number;
  /** Default splitWorkerScript(). */
  script?: URL;
}

/** Whether SHAREMAP_SCAN_THREADS allows a second thread (unset: when there is a second core). */
export function splitAllowed(
  env: Record<string, string | undefined>,
  cores = availableParallelism(),
): boolean {
  const v = env[SCAN_THREADS_ENV];
  if (v === undefined || v === '') return cores > 1;
  if (!/^\d{1,3}$/.test(v))
    throw inputError(
      `${SCAN_THREADS_ENV} must be a count of threads (0 for one), not ${JSON.stringify(v.slice(0, 40))}`,
    );
  return Number(v) > 0;
}

/** Thrown inside: the scan could not be shared and wrote nothing; the caller scans on one thread. */
class NotShared extends Error {}

/**
 * Scan `path` into the sink `makeSink()` gives on two threads; the header, or undefined when it
 * did not (a small image, no worker script, a count the worker could not make): then nothing
 * was written and the caller scans on one thread. The caller asks splitAllowed() first.
 * Throws what the one-thread scan throws, after writing what it writes.
 */
export async function scanSplitTo(
  path: string,
  opts: ScanSplitOptions,
  makeSink: () => SplitSink,
): Promise<ManifestHeader | undefined> {
  const script = opts.script ?? splitWorkerScript();
  if (!script) return undefined; // then none was started ahead either
  let opened: OpenedImageFile;
  try {
    opened = await openImageFile(path, { devices: opts.devices });
  } catch {
    await releaseStartedWorker();
    return undefined; // the one-thread scan names the problem
  }
  try {
    const image = opened.image;
    const inodes = image.superblock.inodes;
    const worth =
      opts.minInodes !== undefined ? inodes >= opts.minInodes : splitWorthIt(inodes, opened.size, opts.hash);
    if (!worth || image.root.type !== 'dir') return undefined;
    // Digest threads started ahead (main.ts) that this scan does not use.
    if (opts.hash) await releaseSpareDigestThreads();
    return await new SharedScan(path, opened, script, opts, makeSink()).run();
  } catch (e) {
    if (e instanceof NotShared) return undefined;
    throw e;
  } finally {
    await releaseStartedWorker(); // one started ahead that this scan did not take
    await opened.close();
  }
}

/** One step's pieces from the worker, in order, until it is done or failed. */
interface StepPieces {
  pieces: SplitPiece[];
  done: boolean;
  failed: boolean;
}

class SharedScan {
  private readonly claims = new Uint8Array(new SharedArrayBuffer(MAX_SHARED_STEPS));
  private readonly state = new Int32Array(new SharedArrayBuffer(4 * STATE_WORDS));
  private readonly worker: Worker;
  private readonly steps = new Map<number, StepPieces>();
  /** The worker has ended (message, error or exit): no more messages. */
  private gone = false;
  private wake: (() => void) | undefined;
  private readonly scan: ScanOptions;
  private header: ManifestHeader | undefined;
  private written = 0;
  private spillFd: number | undefined;
  private readonly done = { workerSteps: 0, walkedAfter: 0, spilledBytes: 0 };

  constructor(
    private readonly path: string,
    private readonly opened: OpenedImageFile,
    script: URL,
    private readonly opts: ScanSplitOptions,
    private readonly sink: SplitSink,
  ) {
    const data: SplitWorkerData = {
      path,
      devices: opts.devices,
      form: opts.form,
      claims: this.claims.buffer as SharedArrayBuffer,
      state: this.state.buffer as SharedArrayBuffer,
      heldBytes: opts.heldBytes ?? SPLIT_HELD_BYTES,
    };
    if (opts.hash) {
      data.hash = true;
      data.lz4Decoder = getLz4Decoder();
    }
    // The worker's spill file is this thread's to read and close, after the worker has ended.
    const ahead = takeStartedWorker();
    if (ahead) ahead.postMessage({ init: data } satisfies SplitInitMessage);
    this.worker =
      ahead ?? new Worker(script, { ...workerOptions(), workerData: data, trackUnmanagedFds: false });
    watchWorkerExit(this.worker);
    this.worker.ref();
    this.worker.on('message', (m: SplitMessage) => this.take(m));
    const ended = (): void => {
      this.gone = true;
      this.poke();
    };
    this.worker.on('error', ended);
    this.worker.on('exit', ended);
    this.scan = {
      imageName: basename(path),
      imageSize: opened.size,
      ...(opts.hash ? { hash: true, hasher: nodeSha256, hashNow: nodeSha256Now } : { hash: false }),
    };
  }

  private take(m: SplitMessage): void {
    if ('step' in m) {
      let s = this.steps.get(m.step);
      if (!s) this.steps.set(m.step, (s = { pieces: [], done: false, failed: false }));
      if ('done' in m) s.done = true;
      else if ('failed' in m) s.failed = true;
      else {
        if (m.spill) this.spillFd = m.spill.fd;
        s.pieces.push(m);
      }
    } else if ('end' in m) this.gone = true;
    this.poke();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Wait for the worker's next message or its end. */
  private changed(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  /** The worker's path count; NotShared when it could not make it. */
  private async count(): Promise<number> {
    for (;;) {
      const s = Atomics.load(this.state, S_COUNT_STATE);
      if (s === COUNT_FAILED) throw new NotShared();
      if (s !== COUNT_PENDING) return Atomics.load(this.state, S_COUNT);
      if (this.gone) throw new NotShared();
      await this.changed();
    }
  }

  private async giveHeader(): Promise<void> {
    const header = scanHeader(this.opened.image, this.scan, await this.count());
    this.header = header;
    const p = this.sink.header(header);
    if (p) await p;
  }

  /** After a write: past the one-thread scan's bound on held output, the header (as scanHoldingHeader). */
  private after(p: void | Promise<void>): void | Promise<void> {
    if (this.header === undefined && this.sink.heldBytes > MAX_HELD_BYTES)
      return p ? p.then(() => this.giveHeader()) : this.giveHeader();
    return p;
  }

  private readonly file = (f: RecordFields): void | Promise<void> => {
    this.written++;
    return this.after(this.sink.file(f));
  };

  async run(): Promise<ManifestHeader> {
    const sink = this.sink;
    const claims = this.claims;
    sink.holdUntilHeader();
    let steps = 0;
    let next = 0;
    /** The worker is done with (the scan is written, or was not shared): it ends on its own. */
    let finished = false;
    try {
      const most = this.opts.mainSteps ?? Infinity;
      const share: RootStepShare = {
        withRoot: true,
        claim: (n) => {
          steps = n;
          if (next >= n || next >= most) return undefined;
          if (
            next < MAX_SHARED_STEPS &&
            Atomics.compareExchange(claims, next, CLAIM_FREE, CLAIM_MAIN) !== CLAIM_FREE
          )
            return undefined;
          return next++;
        },
      };
      await scanSharedTo(this.opened.image, this.scan, share, this.file);
      const shared = next < steps;
      for (let s = next; s < steps; s++) await this.writeStep(s);
      if (this.header === undefined) {
        // As the one-thread scan: its count is the records written. When the worker walked a
        // part, its count must have passed too: it is what checks the tree across the parts.
        if (shared) await this.count();
        const header = scanHeader(this.opened.image, this.scan, this.written);
        this.header = header;
        const p = sink.header(header);
        if (p) await p;
      } else if (this.written !== this.header.file_count)
        throw new ErofsError(
          'ECORRUPT',
          `the tree changed between passes: ${this.header.file_count} paths, then ${this.written}`,
        );
      finished = true;
      return this.header;
    } catch (e) {
      // The worker's count failed or it ended: nothing of it is running.
      if (e instanceof NotShared) finished = true;
      throw e;
    } finally {
      if (splitChannel.hasSubscribers)
        splitChannel.publish({
          path: this.path,
          steps,
          mainSteps: next,
          ...this.done,
        } satisfies SplitScanDone);
      await this.endWorker(finished);
      if (this.spillFd !== undefined) closeSync(this.spillFd);
    }
  }

  /**
   * End the worker (docs/development.md#how-worker-threads-end). After a scan written whole,
   * it has no step left to claim, or is still counting (this thread took every step): told to
   * stop (S_STOP), it ends on its own and this thread awaits its exit. On an error it may be
   * walking a step: it is terminated, and its end awaited.
   */
  private async endWorker(finished: boolean): Promise<void> {
    if (finished) {
      Atomics.store(this.state, S_STOP, 1);
      await awaitWorkerEnd(this.worker);
    } else await this.worker.terminate();
  }

  /**
   * Root step `s`, after every earlier one: the worker's records of it as they come, then,
   * if it did not finish them, the rest walked here.
   */
  private async writeStep(s: number): Promise<void> {
    let sent = 0;
    for (;;) {
      const got = this.steps.get(s);
      if (got && got.pieces.length) {
        const piece = got.pieces.shift()!;
        sent += piece.records;
        await this.writePiece(piece);
        continue;
      }
      if (got?.done) return void this.done.workerSteps++;
      if (got?.failed || this.gone || s >= MAX_SHARED_STEPS) break;
      // Free: the worker is still to take it (only when this thread stopped at opts.mainSteps).
      if (Atomics.load(this.claims, s) === CLAIM_MAIN) break;
      await this.changed();
    }
    // Not (all) written by the worker: walk it here, past the records it sent.
    this.done.walkedAfter++;
    if (s < MAX_SHARED_STEPS) Atomics.compareExchange(this.claims, s, CLAIM_FREE, CLAIM_MAIN);
    let skip = sent;
    let taken = false;
    const share: RootStepShare = {
      withRoot: false,
      claim: () => (taken ? undefined : ((taken = true), s)),
    };
    await scanSharedTo(this.opened.image, this.scan, share, (f) => (skip > 0 ? void skip-- : this.file(f)));
  }

  private async writePiece(piece: SplitPiece): Promise<void> {
    let bytes = piece.bytes;
    if (!bytes) {
      const { fd, at, length } = piece.spill!;
      this.done.spilledBytes += length;
      bytes = Buffer.allocUnsafe(length);
      for (let done = 0; done < length;) {
        const n = readSync(fd, bytes, done, length - done, at + done);
        if (n === 0) throw new ErofsError('EIO', "short read of the scan worker's temporary file");
        done += n;
      }
    } else Atomics.sub(this.state, S_HELD, bytes.length);
    this.written += piece.records;
    const p = this.after(this.sink.bytes(bytes));
    if (p) await p;
  }
}
