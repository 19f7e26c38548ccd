/**
 * HTTP as a hostile or careless client sends it: bytes written on a plain socket (truncated
 * bodies, trickles, aborts, headers that never end), and the answer parsed by hand. Loopback only.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export {
  healthy,
  httpRequest,
  parseResponse,
  rawRequest,
  type RawOptions,
  type RawResponse,
  type RawResult,
} from './http-fuzz-lib.mjs';

/** Every file under `dir` (relative paths), for "nothing new in the data folder" checks. */
export function filesUnder(dir: string, rel = ''): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(path.join(dir, rel));
  } catch {
    return out;
  }
  for (const n of names) {
    const p = path.join(rel, n);
    if (statSync(path.join(dir, p)).isDirectory()) out.push(...filesUnder(dir, p));
    else out.push(p);
  }
  return out.sort();
}

/** Blob and temp files of a data folder (what a refused request must not leave). */
export function storedFiles(dataDir: string): string[] {
  return [
    ...filesUnder(path.join(dataDir, 'blobs')).map((f) => `blobs/${f}`),
    ...filesUnder(path.join(dataDir, 'tmp')).map((f) => `tmp/${f}`),
  ];
}

/** Poll `cond` until it holds (or fail after `ms`): for effects that follow a closed socket. */
export async function eventually(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`still not true after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
