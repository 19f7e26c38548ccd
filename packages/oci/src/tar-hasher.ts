/**
 * A hasher for a whole tar stream and its regular files' data at once: the stream's sha256 (a
 * layer's diff id) and each file's (its fingerprint), from one pass over the bytes. In Node,
 * `workerTarHasher` of `@sharemap/oci/node` computes both on a worker thread, so the thread
 * reading the tar only parses headers (docs/benchmarks.md#oci-predicting-from-a-docker-save-archive).
 * Without one (the browser), readLayer hashes each file on its own thread with a HasherFactory;
 * both give the same digests.
 */

/**
 * Largest chunk `TarHasher.update` takes; larger chunks are split first (`tarHashChunks`). A
 * hasher may hold the last chunk back until the next `update` (see `file`), so this bounds
 * what is held.
 */
export const TAR_HASH_CHUNK_BYTES = 4 << 20;

export interface TarHasher {
  /** The next bytes of the tar stream, in order, at most TAR_HASH_CHUNK_BYTES. The chunk must
   * stay unchanged until the next `update` or `finish` (the hasher may read it then). */
  update(chunk: Uint8Array): void;
  /**
   * A regular file's data is stream bytes [offset, offset + length). Files are numbered in call
   * order; spans come in stream order and do not overlap. A span must be declared before
   * `update` is given any byte after the chunk that holds `offset` (a tar reader declares it
   * when it parses the member's header, which precedes the data).
   */
  file(offset: number, length: number): void;
  /** After the last `update`: the stream's hex sha256 and each declared file's, in order. */
  finish(): Promise<{ digest: string; files: string[] }>;
  /** Give up (the read failed): frees what the hasher holds; no `finish` follows. */
  abort(): void;
}

export type TarHasherFactory = () => Promise<TarHasher>;

/** `src` with every chunk cut to at most `max` bytes (views, no copy). */
export async function* tarHashChunks(
  src: AsyncIterable<Uint8Array>,
  max = TAR_HASH_CHUNK_BYTES,
): AsyncGenerator<Uint8Array> {
  for await (const c of src) {
    if (c.length <= max) yield c;
    else for (let p = 0; p < c.length; p += max) yield c.subarray(p, p + max);
  }
}
