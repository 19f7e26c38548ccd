/** Writing large outputs in chunks, respecting back-pressure of real streams. */
import type { Out } from './io.js';

const CHUNK = 64 * 1024;

/** Write one chunk, waiting for 'drain' when the stream asks for it. */
export async function put(out: Out, chunk: string | Uint8Array): Promise<void> {
  const ok = out.write(chunk);
  const s = out as Out & {
    once?: (ev: string, f: () => void) => unknown;
    off?: (ev: string, f: () => void) => unknown;
  };
  if (ok === false && s.once && s.off) {
    const { once, off } = { once: s.once.bind(s), off: s.off.bind(s) };
    await new Promise<void>((resolve) => {
      // Whichever comes first; the other two listeners go, or every wait would leave two behind.
      const done = () => {
        off('drain', done);
        off('close', done);
        off('error', done);
        resolve();
      };
      once('drain', done);
      once('close', done);
      once('error', done);
    });
  }
}

export async function writeLines(out: Out, lines: Iterable<string>): Promise<void> {
  let buf = '';
  for (const l of lines) {
    buf += l;
    if (buf.length >= CHUNK) {
      await put(out, buf);
      buf = '';
    }
  }
  if (buf) await put(out, buf);
}

/**
 * Write ready-made pieces (UTF-8 bytes of about 256 KiB, output/render.ts resultJsonChunks) one by
 * one. With `giveBack` (the pieces' PiecePool), a piece the stream no longer holds once its write
 * returns is given back to be filled again: a stream whose `writableLength` is 0 after the write
 * has handed every byte to the system (stdout to a file or a pipe on Linux writes synchronously),
 * so no chunk of it is queued; a piece still queued (a slow pipe), or written to a stream that
 * says nothing (a test's BufferOut), is left to the garbage collector. A 319 MB report's ~1,200
 * pieces then reuse a few buffers instead of being allocated (and zeroed) one by one
 * (docs/benchmarks.md#analyze-post-the-report-after-the-analysis-2026-12-07).
 */
export async function writePieces(
  out: Out,
  pieces: Iterable<Uint8Array>,
  giveBack?: (piece: Uint8Array) => void,
): Promise<void> {
  const held = out as Out & { writableLength?: unknown };
  for (const p of pieces) {
    await put(out, p);
    if (giveBack !== undefined && held.writableLength === 0) giveBack(p);
  }
}
