/**
 * Scan an EROFS image held in a Blob (packages/erofs over blobSource) into its manifest as
 * NDJSON: what "scan in this browser" uploads instead of the image. The scan worker runs it off
 * the main thread; the start slice's tests run it in Node.
 *
 * The manifest comes out as a Blob, written path by path without a record object or a string
 * per path (scanManifestTo with a ManifestFieldSink, encodeRecord: the CLI's streamed scan,
 * docs/manifest.md#scanning-at-scale): each CHUNK_BYTES of NDJSON become a Blob of their own,
 * which the browser keeps in its blob store (the browser process, which may page blobs to
 * disk; not the tab's heap), and the manifest is the Blob of those parts, posted as the request
 * body. A hashed scan of the 1M-inode image (354 MiB of NDJSON) so holds one part and one
 * directory per level in the tab (peak renderer RSS ~320 MB), where the whole manifest as
 * record objects took 2.75 GB in the CLI and the text one more string of its size
 * (docs/benchmarks.md#web-scan-a-million-files-scanned-in-a-tab).
 */
import { createSHA256, type IHasher } from 'hash-wasm';
import {
  blobSource,
  encodeRecord,
  openImage,
  recordBound,
  scanManifestTo,
  type Hasher,
  type HasherFactory,
  type ManifestFieldSink,
  type ManifestHeader,
  type RecordFields,
} from '@sharemap/erofs';

/** NDJSON bytes gathered before they become one Blob part (see above). */
export const CHUNK_BYTES = 4 * 1024 * 1024;

export interface ScanToNdjsonOptions {
  /** Blob part size (tests use tiny ones to cross part boundaries); default CHUNK_BYTES. */
  chunkBytes?: number;
}

/**
 * SHA-256 hashers from a pool of hash-wasm instances, each reset (`init`) for the next file
 * once its digest is taken. The reader's default (wasmSha256) instantiates the WebAssembly
 * module once per file: on the 1M-inode image of tiny files that was most of the browser
 * scan's time (docs/benchmarks.md#web-scan-a-million-files-scanned-in-a-tab). A scan hashes one
 * file at a time, so the pool holds one instance; it grows only if hashes overlap.
 */
export function pooledSha256(): HasherFactory {
  const free: IHasher[] = [];
  return async (): Promise<Hasher> => {
    const h = free.pop() ?? (await createSHA256());
    h.init();
    return {
      update: (d) => void h.update(d),
      digestHex: () => {
        const hex = h.digest('hex');
        free.push(h);
        return hex;
      },
    };
  };
}

/** A ManifestFieldSink writing the manifest's NDJSON bytes into Blob parts of `chunkBytes`. */
export class NdjsonBlobSink implements ManifestFieldSink {
  private readonly parts: Blob[] = [];
  private buf: Uint8Array<ArrayBuffer>;
  private used = 0;
  files = 0;
  constructor(private readonly chunkBytes: number = CHUNK_BYTES) {
    this.buf = new Uint8Array(chunkBytes);
  }
  header(h: ManifestHeader): void {
    const bytes = new TextEncoder().encode(JSON.stringify(h) + '\n');
    this.room(bytes.length);
    this.buf.set(bytes, this.used);
    this.used += bytes.length;
  }
  file(f: RecordFields): void {
    this.room(recordBound(f) + 1);
    this.used = encodeRecord(f, this.buf, this.used);
    this.buf[this.used++] = 0x0a;
    this.files++;
  }
  /** The whole NDJSON (call once, after the scan). */
  end(): Blob {
    this.seal();
    return new Blob(this.parts, { type: 'application/x-ndjson' });
  }
  /** Make room for `n` more bytes: seal what is written and go on in a new buffer. */
  private room(n: number): void {
    if (this.used + n <= this.buf.length) return;
    this.seal();
    if (n > this.buf.length) this.buf = new Uint8Array(n);
  }
  private seal(): void {
    // The Blob takes a copy of the bytes (File API, "Blob constructor"): the buffer is reused.
    if (this.used) this.parts.push(new Blob([this.buf.subarray(0, this.used)]));
    this.used = 0;
  }
}

export async function scanToNdjson(
  image: Blob,
  name: string,
  devices: Blob[],
  onProgress: (files: number, bytesHashed: number) => void,
  opts: ScanToNdjsonOptions = {},
): Promise<{ ndjson: Blob; files: number }> {
  const img = await openImage(blobSource(image), { devices: devices.map((d) => blobSource(d)) });
  const sink = new NdjsonBlobSink(opts.chunkBytes);
  await scanManifestTo(
    img,
    {
      imageName: name,
      imageSize: image.size,
      hash: true,
      hasher: pooledSha256(),
      onProgress: (p) => onProgress(p.files, p.bytesHashed),
    },
    sink,
  );
  return { ndjson: sink.end(), files: sink.files };
}
