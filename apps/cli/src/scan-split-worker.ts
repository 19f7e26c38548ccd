/**
 * The second thread of a shared metadata scan (scan-split.ts, docs/cli.md#metadata-scan-on-two-threads):
 * opens the image itself, counts its paths for the header (countPaths), then walks root steps
 * from the last one down, as long as the main thread (which takes them from the first one up)
 * has not taken them, and encodes their records as the main thread would (encodeRecord). The
 * bytes go to the main thread by step, in transferred buffers while it holds fewer than
 * SplitWorkerData.heldBytes of them unwritten, else through a temporary file. Under `scan
 * --hash` (SplitWorkerData.hash) it hashes the regular files of its steps too.
 */
import { mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import {
  countPaths,
  encodeRecord,
  recordBound,
  scanSharedTo,
  setLz4Decoder,
  type RecordFields,
  type ScanOptions,
} from '@sharemap/erofs';
import { nodeSha256, nodeSha256Now, openImageFile } from '@sharemap/erofs/node';
import {
  CLAIM_FREE,
  CLAIM_WORKER,
  COUNT_FAILED,
  COUNT_READY,
  MAX_SHARED_STEPS,
  S_COUNT,
  S_COUNT_STATE,
  S_HELD,
  S_STOP,
  type SplitEndMessage,
  type SplitInitMessage,
  type SplitMessage,
  type SplitWorkerData,
} from './scan-split-protocol.js';

/** Output buffer: as the main thread's (scan.ts SINK_BYTES). */
const CHUNK_BYTES = 1024 * 1024;

const port = parentPort!;
// Set by begin(): from workerData, or the first message of a worker started ahead.
let data: SplitWorkerData;
let claims: Uint8Array;
let state: Int32Array;
let json = false;
const post = (m: SplitMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

let buf = new Uint8Array(CHUNK_BYTES);
let used = 0;
let records = 0;
/** The root step being walked, -1 before the first. */
let step = -1;
let spill: { fd: number; at: number } | undefined;

/** Send the records encoded since the last piece. */
function ship(): void {
  if (used === 0) return;
  const n = used;
  if (Atomics.load(state, S_HELD) + n <= data.heldBytes) {
    Atomics.add(state, S_HELD, n);
    // A buffer mostly full goes as it is; a short piece (a step's end) as a copy, the buffer kept.
    const bytes = n >= buf.length >> 1 ? buf.subarray(0, n) : buf.slice(0, n);
    if (bytes.buffer === buf.buffer) buf = new Uint8Array(CHUNK_BYTES);
    post({ step, records, bytes }, [bytes.buffer as ArrayBuffer]);
  } else {
    spill ??= openSpill();
    for (let done = 0; done < n;) done += writeSync(spill.fd, buf, done, n - done, spill.at + done);
    post({ step, records, spill: { fd: spill.fd, at: spill.at, length: n } });
    spill.at += n;
  }
  used = 0;
  records = 0;
}

/** A temporary file of this process, unlinked at once: it goes when the main thread closes it. */
function openSpill(): { fd: number; at: number } {
  const dir = mkdtempSync(join(tmpdir(), 'sharemap-scan-'));
  try {
    return { fd: openSync(join(dir, 'records'), 'w+', 0o600), at: 0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function file(f: RecordFields): void {
  const need = recordBound(f) + 1;
  if (used + need > buf.length) {
    ship();
    if (need > buf.length) buf = new Uint8Array(need);
  }
  if (json) buf[used++] = 0x2c;
  used = encodeRecord(f, buf, used);
  if (!json) buf[used++] = 0x0a;
  records++;
}

/** The next root step down, unless the main thread has it; the previous one's end sent first. */
function claim(steps: number): number | undefined {
  const from = step < 0 ? Math.min(steps, MAX_SHARED_STEPS) : step;
  if (step >= 0) {
    ship();
    post({ step, done: true });
  }
  const i = from - 1;
  if (
    i < 0 ||
    Atomics.load(state, S_STOP) !== 0 ||
    Atomics.compareExchange(claims, i, CLAIM_FREE, CLAIM_WORKER) !== CLAIM_FREE
  ) {
    step = -1;
    return undefined;
  }
  step = i;
  return i;
}

async function begin(d: SplitWorkerData): Promise<void> {
  data = d;
  claims = new Uint8Array(d.claims);
  state = new Int32Array(d.state);
  json = d.form === 'json';
  // `scan --hash`: this thread hashes the files of its steps itself, with the main thread's decoder.
  if (d.hash && d.lz4Decoder) setLz4Decoder(d.lz4Decoder);
  const scan: ScanOptions = d.hash
    ? { imageName: '', imageSize: 0, hash: true, hasher: nodeSha256, hashNow: nodeSha256Now }
    : { imageName: '', imageSize: 0 };
  let opened;
  let image;
  try {
    opened = await openImageFile(data.path, { devices: data.devices });
    image = opened.image;
    Atomics.store(
      state,
      S_COUNT,
      await countPaths(image, { stopped: () => Atomics.load(state, S_STOP) !== 0 }),
    );
    Atomics.store(state, S_COUNT_STATE, COUNT_READY);
  } catch {
    // The main thread scans alone (its own scan names the problem).
    Atomics.store(state, S_COUNT_STATE, COUNT_FAILED);
    post({ counted: true });
    await opened?.close();
    return;
  }
  post({ counted: true });
  try {
    await scanSharedTo(image, scan, { withRoot: false, claim }, file);
    post({ end: true });
  } catch {
    // The records sent are right; the main thread walks the rest of this step and gives its error.
    ship();
    post({ step, failed: true });
  } finally {
    // Not tracked for this thread (trackUnmanagedFds: false, for the spill file): closed here.
    await opened.close();
  }
}

// The thread ends on its own once begin() has returned: nothing then keeps its event loop
// (the port has no listener left, the image is closed); the main thread awaits its 'exit'
// (docs/development.md#how-worker-threads-end). A worker started ahead that no scan takes is
// sent SplitEndMessage and ends at once.
if (workerData) void begin(workerData as SplitWorkerData);
else
  port.once('message', (m: SplitInitMessage | SplitEndMessage) => {
    if ('init' in m) void begin(m.init);
  });
