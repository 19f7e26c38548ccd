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

/** Write ready-made pieces (UTF-8 bytes of about 256 KiB, output/render.ts resultJsonChunks) one by one. */
export async function writePieces(out: Out, pieces: Iterable<Uint8Array>): Promise<void> {
  for (const p of pieces) await put(out, p);
}
