/**
 * Whether a command-line input is an OCI archive, an OCI layout or a tar (archives.ts reads
 * them): its own module, which loads only the OCI package's compression sniffing, so that
 * `sharemap scan IMAGE` asks without loading the OCI reader (an archive's scan loads 16 modules
 * of @sharemap/oci, an image's 4: the 12 others and apps/cli's archives.js were compiled for
 * nothing, docs/benchmarks.md#verify-plain2-a-scans-start-up-and-its-threads-2026-12-07).
 */
import { open, stat } from 'node:fs/promises';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { compressionOf, looksLikeTar } from '@sharemap/oci/compress';

/** Whether `path` is an image archive, an OCI layout directory or a tar (from its bytes). */
export async function isArchive(path: string): Promise<boolean> {
  let st;
  try {
    st = await stat(path);
  } catch {
    return false;
  }
  if (st.isDirectory()) return true;
  // Not a regular file (a FIFO, a socket, a device): no archive, and open() of a FIFO without
  // a writer would never return; the image reader refuses it with a message (nodeFileSource).
  if (!st.isFile()) return false;
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(ARCHIVE_HEAD_BYTES);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return isArchiveHead(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/** The first bytes of a file isArchiveHead looks at. */
export const ARCHIVE_HEAD_BYTES = 64 * 1024;

/** Whether a regular file starting with `head` (its first ARCHIVE_HEAD_BYTES bytes) is an archive (isArchive). */
export function isArchiveHead(head: Uint8Array): boolean {
  const c = compressionOf(head);
  if (c === 'zstd') return true;
  if (c === 'gzip') {
    // A gzip manifest or a gzip tar: look at the first decompressed block.
    try {
      return looksLikeTar(gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).subarray(0, 512));
    } catch {
      return false;
    }
  }
  return looksLikeTar(head);
}
