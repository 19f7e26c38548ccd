/** Writing large outputs in chunks, respecting back-pressure of real streams. */
import type { Out } from './io.js';

const CHUNK = 64 * 1024;

/** Write one chunk, waiting for 'drain' when the stream asks for it. */
export async function put(out: Out, s: string): Promise<void> {
  const ok = out.write(s);
  const stream = out as Out & { once?: (ev: string, f: () => void) => unknown; writableNeedDrain?: boolean };
  if (ok === false && typeof stream.once === 'function') {
    await new Promise<void>((resolve) => {
      stream.once!('drain', resolve);
      stream.once!('close', resolve);
      stream.once!('error', resolve);
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
