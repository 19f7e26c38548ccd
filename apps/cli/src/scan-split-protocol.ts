import type { Lz4DecoderKind } from '@sharemap/erofs';

/**
 * What the two threads of a shared metadata scan (scan-split.ts, scan-split-worker.ts) tell
 * each other: the worker's start data, the shared words and its messages. Apart from both so
 * that the worker loads neither the other's imports nor the thread machinery.
 */

/** The root steps two threads can divide (one claim byte each); later steps stay with the main thread. */
export const MAX_SHARED_STEPS = 1 << 16;
/** A root step no thread has taken (claim byte). */
export const CLAIM_FREE = 0;
/** ...taken by the main thread (claims from the first step up). */
export const CLAIM_MAIN = 1;
/** ...taken by the worker (claims from the last step down). */
export const CLAIM_WORKER = 2;

/** Int32 words of SplitWorkerData.state. */
export const S_COUNT_STATE = 0;
/** The image's path count (countPaths, the header's file_count) once S_COUNT_STATE is COUNT_READY. */
export const S_COUNT = 1;
/** Bytes of the worker's output in messages the main thread has not written yet. */
export const S_HELD = 2;
/**
 * Set (1) by the main thread once it needs nothing more from the worker (its scan is written):
 * a worker still counting stops, one between steps claims no more, and it ends on its own
 * (docs/development.md#how-worker-threads-end).
 */
export const S_STOP = 3;
export const STATE_WORDS = 4;

export const COUNT_PENDING = 0;
export const COUNT_READY = 1;
export const COUNT_FAILED = 2;

/** What the worker is started with (structured-clonable). */
export interface SplitWorkerData {
  path: string;
  devices: string[];
  /** The form of the records: NDJSON lines, or the JSON form's `,`-led array elements. */
  form: 'ndjson' | 'json';
  /** One claim byte per root step (MAX_SHARED_STEPS). */
  claims: SharedArrayBuffer;
  /** STATE_WORDS Int32 words (S_*). */
  state: SharedArrayBuffer;
  /** The most bytes of output the worker keeps in messages; beyond, it writes them to a temporary file. */
  heldBytes: number;
  /**
   * `scan --hash`: the worker also hashes the regular files of its steps (small ones at once,
   * larger ones piece by piece, as a one-thread scan without digest threads does).
   */
  hash?: boolean;
  /** With `hash`: the starting thread's LZ4 decoder, applied as the worker begins (docs/reader.md#lz4-decoders). */
  lz4Decoder?: Lz4DecoderKind;
}

/** The first message to a worker started ahead (scan-split-start.ts), which has no workerData. */
export interface SplitInitMessage {
  init: SplitWorkerData;
}

/** The message to a worker started ahead that no scan took: it ends without starting. */
export interface SplitEndMessage {
  end: true;
}

/** Records of one root step the worker encoded: bytes in the message, or a range of its spill file. */
export interface SplitPiece {
  step: number;
  /** Records in this piece. */
  records: number;
  bytes?: Uint8Array;
  /** Where in the spill file (a file descriptor of this process) the piece lies. */
  spill?: { fd: number; at: number; length: number };
}

export type SplitMessage =
  | SplitPiece
  /** Root step `step` has all its records sent. */
  | { step: number; done: true }
  /**
   * The worker stopped in root step `step` (-1: before any) on an error: the records it sent
   * of that step are right, the main thread walks the rest of it (and gives the error).
   */
  | { step: number; failed: true }
  /** The count is in S_COUNT (or S_COUNT_STATE says it failed). */
  | { counted: true }
  /** The worker has claimed and sent its last step. */
  | { end: true };
