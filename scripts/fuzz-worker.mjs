// Worker thread of `pnpm fuzz` (scripts/fuzz.mjs): runs one mutated case at a time against
// the built reader (packages/erofs/dist) and reports its outcome. The parent enforces the
// per-case time limit and the memory cap by terminating this thread.
import { parentPort } from 'node:worker_threads';
import * as api from '../packages/erofs/dist/node.js';
import { applyOps, exerciseImage } from '../packages/erofs/test/fuzz-lib.mjs';

/** Clean images by name: { bytes, devices, paths }. */
const images = new Map();

function errorInfo(e) {
  const chain = [];
  for (let c = e, d = 0; c !== undefined && d < 8; c = c?.cause, d++) {
    chain.push(
      c instanceof Error
        ? {
            name: c.name,
            code: c.code,
            message: c.message,
            stack: c.stack?.split('\n').slice(0, 8).join('\n'),
          }
        : { name: typeof c, message: String(c) },
    );
  }
  return chain;
}

parentPort.on('message', async (m) => {
  if (m.type === 'image') {
    images.set(m.name, {
      bytes: new Uint8Array(m.bytes),
      devices: m.devices.map((d) => new Uint8Array(d)),
      paths: m.paths,
    });
    return;
  }
  if (m.type !== 'case') return;
  const im = images.get(m.name);
  const started = performance.now();
  try {
    const bytes = m.ops ? applyOps(im.bytes, m.ops) : im.bytes;
    // Odd cases read through the asynchronous path (as a browser does), even ones synchronously.
    const r = await exerciseImage(api, bytes, {
      devices: im.devices,
      paths: im.paths,
      asyncOnly: m.id % 2 === 1,
    });
    parentPort.postMessage({
      type: 'result',
      id: m.id,
      scan: r.scan,
      codes: Object.fromEntries(r.codes),
      ms: performance.now() - started,
    });
  } catch (e) {
    parentPort.postMessage({
      type: 'finding',
      id: m.id,
      error: errorInfo(e),
      ms: performance.now() - started,
    });
  }
});
parentPort.postMessage({ type: 'ready' });
