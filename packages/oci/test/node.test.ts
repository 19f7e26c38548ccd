/**
 * workerSha256 (the Node entry): the digest computed on the worker thread equals node:crypto's
 * over the same bytes, whatever the chunking: chunks that straddle ring slots, a chunk larger
 * than the whole ring, enough bytes to wrap the ring (so `update` waits for the worker), two
 * hashers in use at once, and no bytes at all.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  threadCount,
  threadCountBackTo,
  watchWorkers,
  type WorkerWatch,
} from '../../erofs/test/node/thread-watch.js';
import {
  DIGEST_SLOT_BYTES,
  DIGEST_SLOTS,
  digestWorkerThreadId,
  releaseDigestWorker,
  workerSha256,
} from '../src/node.js';
import { noise } from './helpers.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('workerSha256', () => {
  it('equals node:crypto over chunks that straddle slots, exceed the ring and wrap it', async () => {
    const data = noise(DIGEST_SLOT_BYTES * (2 * DIGEST_SLOTS + 1) + 12_345, 7);
    const cuts = [
      1,
      DIGEST_SLOT_BYTES + 7,
      (DIGEST_SLOTS + 1) * DIGEST_SLOT_BYTES,
      511,
      DIGEST_SLOT_BYTES - 3,
    ];
    const h = await workerSha256();
    let p = 0;
    for (let i = 0; p < data.length; i++) {
      const n = Math.min(cuts[i % cuts.length]!, data.length - p);
      h.update(data.subarray(p, p + n));
      p += n;
    }
    expect(h.digestHex()).toBe(sha256(data));
  }, 120_000);

  it('keeps two hashers in use at once apart, and hashes nothing to the empty digest', async () => {
    const a = noise(3 * DIGEST_SLOT_BYTES + 1, 1);
    const b = noise(2 * DIGEST_SLOT_BYTES + 99, 2);
    const ha = await workerSha256();
    const hb = await workerSha256();
    const empty = await workerSha256();
    for (let p = 0; p < Math.max(a.length, b.length); p += 1 << 20) {
      if (p < a.length) ha.update(a.subarray(p, p + (1 << 20)));
      if (p < b.length) hb.update(b.subarray(p, p + (1 << 20)));
    }
    expect(hb.digestHex()).toBe(sha256(b));
    expect(ha.digestHex()).toBe(sha256(a));
    expect(empty.digestHex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(() => ha.digestHex()).toThrow(/after its digest/);
  }, 120_000);
});

// docs/development.md#how-worker-threads-end: released, the worker ends on its own (exit 0, no
// terminate()); a process whose loop empties releases it, so Node's exit does not stop it.
describe('the digest worker ends on its own', () => {
  let watch: WorkerWatch | undefined;
  afterEach(() => {
    watch?.restore();
    watch = undefined;
  });
  const hashOnce = async (): Promise<void> => {
    const h = await workerSha256();
    h.update(noise(DIGEST_SLOT_BYTES + 5, 3));
    expect(h.digestHex()).toMatch(/^[0-9a-f]{64}$/);
  };

  it('when released: exit 0, no terminate, its thread gone; the next use starts another', async () => {
    await hashOnce();
    await releaseDigestWorker();
    const before = threadCount();
    watch = watchWorkers();
    await hashOnce();
    expect(digestWorkerThreadId()).toBeDefined();
    await releaseDigestWorker();
    expect(digestWorkerThreadId()).toBeUndefined();
    expect(watch.terminated()).toBe(0);
    expect(watch.exits).toStrictEqual([0]);
    expect(await threadCountBackTo(before)).toBe(before);
  }, 60_000);

  it('as the process ends with nothing left to do', () => {
    const entry = fileURLToPath(new URL('../dist/node.js', import.meta.url));
    const script = [
      "import { Worker } from 'node:worker_threads';",
      'const terminate = Worker.prototype.terminate;',
      "Worker.prototype.terminate = function () { console.log('terminate'); return terminate.call(this); };",
      `const { workerSha256 } = await import(${JSON.stringify(entry)});`,
      'const h = await workerSha256();',
      'h.update(new Uint8Array(10)); h.digestHex();',
      'const emit = Worker.prototype.emit;',
      "Worker.prototype.emit = function (e, ...a) { if (e === 'exit') console.log('exit ' + a[0]); return emit.call(this, e, ...a); };",
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('exit 0\n');
    expect(r.status).toBe(0);
  }, 60_000);
});
