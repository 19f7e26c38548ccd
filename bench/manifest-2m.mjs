// The big manifest of the server-2m benchmark, generated record by record (never whole): the
// header and records of a real scan (base-v1.fp.img) as templates, with as many records as asked.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { manifestHeader } from '../packages/erofs/dist/index.js';
import { scanImageFile } from '../packages/erofs/dist/node.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Directories below /usr/lib holding the files. */
const DIRS = 1000;
/** One file in DUP_EVERY has the content of an earlier file (same fingerprint and digest). */
const DUP_EVERY = 4;

/** Deterministic PRNG (mulberry32). */
function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The manifest's NDJSON lines: the header and records of a real scan (base-v1.fp.img) as
 * templates, then /, /usr, /usr/lib, DIRS package folders and their files, depth first.
 * `seed` draws which earlier file each copy copies: manifests of other seeds are another
 * version of the image (the same paths, three files in four with the same content).
 */
export async function* manifestLines(n, seed = 42) {
  const base = await scanImageFile(path.join(root, 'testdata/erofs/base-v1.fp.img'), { hash: true });
  const dirT = base.files.find((f) => f.path === '/');
  const fileT = base.files.find((f) => f.type === 'file' && f.size > 0 && f.sha256);
  const header = { ...manifestHeader(base), image: { name: 'big.img', size: 64 * 1024 ** 3 }, file_count: n };
  yield JSON.stringify(header) + '\n';
  let nid = 36;
  const dir = (p) => JSON.stringify({ ...dirT, path: p, nid: (nid += 2), nlink: 2 }) + '\n';
  yield dir('/');
  yield dir('/usr');
  yield dir('/usr/lib');
  const files = n - 3 - DIRS;
  const rand = prng(seed);
  let k = 0;
  for (let d = 0; d < DIRS; d++) {
    const folder = `/usr/lib/pkg${String(d).padStart(4, '0')}`;
    yield dir(folder);
    const end = Math.floor(((d + 1) * files) / DIRS);
    let batch = '';
    for (; k < end; k++) {
      const content = k % DUP_EVERY === DUP_EVERY - 1 ? Math.floor(rand() * k) : k;
      const sha = createHash('sha256').update(String(content)).digest('hex'); // as random as real ones
      const size = 1 + ((content * 2654435761) % 400_000);
      batch +=
        JSON.stringify({
          ...fileT,
          path: `${folder}/lib${String(k).padStart(7, '0')}.so.1`,
          nid: (nid += 2),
          size,
          fingerprint: '7368613235363a' + sha,
          sha256: sha,
        }) + '\n';
      if (batch.length > 1 << 20) {
        yield batch;
        batch = '';
      }
    }
    if (batch) yield batch;
  }
}
