/**
 * Node entry (`@sharemap/erofs/node`): file-backed byte sources, node:crypto hashing and
 * one-call helpers. With the modules under src/node/, the only ones of the package that import
 * Node built-ins.
 */
import { createHash, hash as cryptoHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { ErofsError } from './errors.js';
import type { Hasher, HasherFactory } from './hash.js';
import { scanManifestTo, type ManifestFieldSink, type ManifestSink, type ScanOptions } from './manifest.js';
import type { Manifest, ManifestHeader } from './manifest-types.js';
import { DigestPool, digestWorkerScript, releaseSpareDigestThreads } from './node/digest-pool.js';
import { getLz4Decoder, setLz4Decoder, type Lz4DecoderKind } from './decompress/index.js';
import { openImageFile, type OpenImageFileOptions } from './node/image-file.js';

export * from './index.js';
export {
  DigestPool,
  defaultDigestThreads,
  DIGEST_POOL_CHANNEL,
  DIGEST_THREAD_CHANNEL,
  digestWorkerScript,
  MAX_DIGEST_THREADS,
  prestartDigestThreads,
  releaseSpareDigestThreads,
  spareDigestThreads,
  type DigestPoolStart,
  type DigestThreadAnnounce,
  type DigestThreadStart,
} from './node/digest-pool.js';

export {
  nodeFileSource,
  openImageFile,
  type NodeFileSource,
  type OpenedImageFile,
  type OpenImageFileOptions,
} from './node/image-file.js';

export {
  manifestForTransfer,
  manifestFromTransfer,
  ManifestStringsHandover,
  TransferStringsWriter,
  type HandedStrings,
  type TransferredManifest,
  type TransferredStrings,
} from './node/columns-transfer.js';

/** Environment variable choosing the LZ4 decoder: `js` or `wasm` (docs/reader.md#lz4-decoders). */
export const LZ4_DECODER_ENV = 'SHAREMAP_LZ4_DECODER';

/**
 * The LZ4 decoder SHAREMAP_LZ4_DECODER names: undefined when it is unset or empty (the
 * WebAssembly default stays); a value other than `js` or `wasm` is refused by name (EINVAL).
 */
export function parseLz4DecoderEnv(env: NodeJS.ProcessEnv = process.env): Lz4DecoderKind | undefined {
  const v = env[LZ4_DECODER_ENV];
  if (v === undefined || v === '') return undefined;
  if (v !== 'js' && v !== 'wasm') {
    throw new ErofsError(
      'EINVAL',
      `${LZ4_DECODER_ENV} must be "js" or "wasm", not ${JSON.stringify(v.slice(0, 40))}`,
    );
  }
  return v;
}

/**
 * Apply SHAREMAP_LZ4_DECODER to the calling thread and return the decoder it now uses. A
 * process setting, read once where the process starts (the CLI's entry; the server's start
 * reads it into its configuration), never per image: threads started later are handed the
 * choice of the thread that starts them (the digest threads: DigestWorkerData.lz4Decoder;
 * the server's workers: its configuration), so a process uses one decoder
 * (docs/reader.md#lz4-decoders). Throws EINVAL for a bad value, naming the variable.
 */
export function lz4DecoderFromEnv(env: NodeJS.ProcessEnv = process.env): Lz4DecoderKind {
  const kind = parseLz4DecoderEnv(env);
  if (kind !== undefined) setLz4Decoder(kind);
  return getLz4Decoder();
}

/** SHA-256 via node:crypto (native, fastest in Node). */
export const nodeSha256: HasherFactory = (): Hasher => {
  const h = createHash('sha256');
  return {
    update: (d) => {
      h.update(d);
    },
    digestHex: () => h.digest('hex'),
  };
};

/**
 * SHA-256 of a whole buffer in one call (ScanOptions.hashNow): node:crypto's one-shot hash
 * makes no Hash object, which a walk hashing tens of thousands of one-block files paid for in
 * garbage collection. Node releases without crypto.hash (before 20.12) use createHash.
 */
export const nodeSha256Now: (data: Uint8Array) => string =
  typeof cryptoHash === 'function'
    ? (data) => cryptoHash('sha256', data, 'hex')
    : (data) => createHash('sha256').update(data).digest('hex');

export interface ScanImageFileOptions extends OpenImageFileOptions {
  hash?: boolean;
  /** Also hash the image file itself (adds image.sha256 to the manifest). */
  imageSha256?: boolean;
  onProgress?: ScanOptions['onProgress'];
  /**
   * With `hash`: worker threads that read and hash file content while this thread walks
   * (docs/reader.md#content-digests-on-worker-threads); 0 or unset hashes in this thread (the
   * server's scans, already on worker threads of their own). `sharemap scan` passes
   * `--threads` (default defaultDigestThreads()).
   */
  threads?: number;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  const fh = await open(path, 'r');
  try {
    for await (const chunk of fh.createReadStream({ highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  } finally {
    await fh.close().catch(() => undefined);
  }
  return h.digest('hex');
}

/** Scan an image file into a manifest (`sharemap scan`). */
export async function scanImageFile(path: string, opts: ScanImageFileOptions = {}): Promise<Manifest> {
  const files: Manifest['files'] = [];
  const header = await scanImageFileTo(path, opts, {
    header: () => undefined,
    record: (rec) => {
      files.push(rec);
    },
  });
  return { ...header, files };
}

/** Scan an image file into `sink`, record by record, holding none (`sharemap scan --ndjson`). */
export async function scanImageFileTo(
  path: string,
  opts: ScanImageFileOptions,
  sink: ManifestSink | ManifestFieldSink,
): Promise<ManifestHeader> {
  const { hash, imageSha256, onProgress, threads, ...openOpts } = opts;
  const opened = await openImageFile(path, openOpts);
  let pool: DigestPool | undefined;
  try {
    const scan: ScanOptions = {
      imageName: basename(path),
      imageSize: opened.size, // fstat of the open file: the size of exactly what is scanned
      hash: !!hash,
      hasher: nodeSha256,
      hashNow: nodeSha256Now,
    };
    if (onProgress) scan.onProgress = onProgress;
    if (imageSha256) scan.imageSha256 = await sha256File(path);
    const script = hash && threads && threads > 0 ? digestWorkerScript() : undefined;
    if (script) {
      pool = new DigestPool(
        script,
        // The digest threads decode with this thread's LZ4 decoder (docs/reader.md#lz4-decoders).
        { path, devices: openOpts.devices ?? [], limits: openOpts.limits, lz4Decoder: getLz4Decoder() },
        threads!,
      );
      scan.digester = pool;
    }
    return await scanManifestTo(opened.image, scan, sink);
  } finally {
    await pool?.close();
    // Threads started ahead (prestartDigestThreads) that this scan did not take.
    await releaseSpareDigestThreads();
    await opened.close();
  }
}
