/**
 * A thread that reads manifest files for `sharemap analyze` (manifest-threads.ts): each
 * request names one file; the answer is its manifest as transferable columns
 * (`@sharemap/erofs/node` manifestForTransfer), or the error reading it gave, as the main
 * thread would have thrown it (the same one line and exit code).
 */
import { parentPort } from 'node:worker_threads';
import { manifestForTransfer, ManifestStringsHandover } from '@sharemap/erofs/node';
import { CliError } from './errors.js';
import { readManifestFile } from './manifest-file.js';
import type { ManifestReadReply, ManifestReadRequest } from './manifest-threads.js';

const port = parentPort!;
port.on('message', (req: ManifestReadRequest) => {
  void answer(req);
});

async function answer(req: ManifestReadRequest): Promise<void> {
  await read(req);
  // The thread's last file (ManifestReadRequest.last): it ends now. What it posted is still
  // delivered (a worker's messages reach the main thread before its 'exit' event).
  if (req.last) process.exit(0);
}

/** Reads one file and posts the answer. */
async function read({ id, path }: ManifestReadRequest): Promise<void> {
  let reply: ManifestReadReply;
  try {
    // No StringTable here: the main thread interns the strings into its own (manifestFromTransfer).
    // A Parquet file's strings go straight into the handover's blobs as they are read, never
    // held as strings here (docs/cli.md#manifest-threads).
    const handover = new ManifestStringsHandover();
    const manifest = await readManifestFile(path, undefined, { handOver: handover });
    const { message, transfer } = handover.used
      ? manifestForTransfer(manifest, handover.strings())
      : manifestForTransfer(manifest);
    port.postMessage({ id, manifest: message } satisfies ManifestReadReply, transfer);
    return;
  } catch (e) {
    reply =
      e instanceof CliError
        ? { id, error: { message: e.message, exitCode: e.exitCode } }
        : { id, error: { message: (e as Error)?.message ?? String(e) } };
  }
  port.postMessage(reply);
}
