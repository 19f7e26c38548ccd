/**
 * A content digest thread (digest-pool.ts): opens the image file itself (named by its workerData,
 * or by its first message when started ahead of its pool), then for each batch
 * of nids hashes every file's full content, as the scan's own thread would
 * (ErofsImage.forEachDataPiece, the same reader and checks), and answers the digests or the
 * reader's errors in the batch's order.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { getLz4Decoder, setLz4Decoder } from '../decompress/index.js';
import { ErofsError } from '../errors.js';
import type { ErofsImage } from '../image.js';
import {
  CLAIM_DONE,
  CLAIM_FAILED,
  CLAIM_FREE,
  CLAIM_THREAD,
  claimsBytes,
  DIGEST_CACHE_BYTES,
  type DigestEndMessage,
  type DigestInitMessage,
  type DigestRequest,
  type DigestResponse,
  type DigestResult,
  type DigestStartedMessage,
  type DigestWorkerData,
} from './digest-pool.js';
import { openImageFile, type OpenedImageFile, type OpenImageFileOptions } from './image-file.js';

const port = parentPort!;

/** This thread's id in the OS: field 1 of /proc/thread-self/stat (Linux), else undefined. */
function ownThreadId(): number | undefined {
  try {
    const tid = Number.parseInt(readFileSync('/proc/thread-self/stat', 'latin1'), 10);
    return Number.isSafeInteger(tid) ? tid : undefined;
  } catch {
    return undefined;
  }
}
/** The image, once the thread has it (from workerData, or the first message when started ahead). */
let opened: Promise<OpenedImageFile> | undefined;

/** Take the image and the starting thread's settings (DigestWorkerData) and say so. */
function begin(data: DigestWorkerData): void {
  // The starting thread's LZ4 decoder, applied once as the thread starts (docs/reader.md#lz4-decoders).
  if (data.lz4Decoder) setLz4Decoder(data.lz4Decoder);
  const started: DigestStartedMessage = { started: { lz4Decoder: getLz4Decoder() } };
  const tid = ownThreadId();
  if (tid !== undefined) started.tid = tid;
  port.postMessage(started);
  // A small block cache: this thread reads one inode and the inline tail per file, never a
  // directory walk, and every thread's cache is memory the scan's RSS budget pays for.
  const options: OpenImageFileOptions = {
    devices: data.devices,
    cache: { blockSize: 4096, maxBytes: DIGEST_CACHE_BYTES },
  };
  if (data.limits) options.limits = data.limits;
  opened = openImageFile(data.path, options);
  // An image that cannot be opened fails every file asked for; never an unhandled rejection.
  opened.catch(() => undefined);
}

function resultOf(e: unknown): DigestResult {
  if (e instanceof ErofsError) {
    const r: DigestResult = { code: e.code, detail: e.detail, message: e.message };
    if (e.nid !== undefined) r.nid = e.nid;
    if (e.offset !== undefined) r.offset = e.offset;
    return r;
  }
  const message = e instanceof Error ? e.message : String(e);
  return { code: 'Error', detail: message, message };
}

/** Hash inode `nid`'s whole content into `out` (32 bytes). */
async function digestInto(image: ErofsImage, nid: number, scratch: Uint8Array, out: Buffer): Promise<void> {
  const ino = image.inodeNow(nid) ?? (await image.inode(nid));
  const h = createHash('sha256');
  await image.forEachDataPiece(ino, scratch, (piece) => {
    h.update(piece);
  });
  h.digest().copy(out);
}

let scratch: Uint8Array | undefined;
async function run(m: DigestRequest): Promise<void> {
  const n = m.nids.length;
  const claims = new Int32Array(m.shared, 0, n);
  const digests = Buffer.from(m.shared, claimsBytes(n), 32 * n);
  const results: DigestResult[] = new Array<DigestResult>(n).fill(null);
  let image: ErofsImage | undefined;
  let openError: DigestResult = null;
  try {
    image = (await opened!).image;
  } catch (e) {
    openError = resultOf(e);
  }
  for (let i = 0; i < n; i++) {
    // Taken back by the scan's thread (DigestPool.takeBack): it hashes this one itself.
    if (Atomics.compareExchange(claims, i, CLAIM_FREE, CLAIM_THREAD) !== CLAIM_FREE) continue;
    if (!image) {
      results[i] = openError;
      Atomics.store(claims, i, CLAIM_FAILED);
      continue;
    }
    scratch ??= new Uint8Array(image.limits.streamChunkSize);
    try {
      await digestInto(image, m.nids[i]!, scratch, digests.subarray(32 * i, 32 * i + 32));
      // The digest is written before the word says so: the scan's thread reads it after.
      Atomics.store(claims, i, CLAIM_DONE);
    } catch (e) {
      results[i] = resultOf(e);
      Atomics.store(claims, i, CLAIM_FAILED);
    }
  }
  port.postMessage({ batch: m.batch, results } satisfies DigestResponse);
}

/** The end (DigestEndMessage): the image closed, then the port; the thread's loop is then empty and it ends on its own. */
async function end(): Promise<void> {
  const o = opened;
  opened = undefined;
  try {
    await (await o)?.close();
  } catch {
    // not opened (its error was every file's), or already gone
  }
  port.close();
}

// One batch at a time: the files of a batch share one read buffer. A thread started ahead of
// its pool (prestartDigestThreads: no workerData) is given its image by the first message.
let chain = Promise.resolve();
if (workerData) begin(workerData as DigestWorkerData);
port.on('message', (m: DigestRequest | DigestInitMessage | DigestEndMessage) => {
  if ('init' in m) begin(m.init);
  else if ('end' in m) chain = chain.then(end);
  else chain = chain.then(() => run(m));
});
