/**
 * A DigestPool announces each thread's OS id on DIGEST_THREAD_CHANNEL as the thread reports its
 * start (Linux), so a caller that bounds a scan by CPU time can count the digest threads' time
 * (the server's worker pool, docs/server.md#time-limits).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DIGEST_THREAD_CHANNEL,
  DigestPool,
  digestWorkerScript,
  type DigestThreadAnnounce,
} from '../../src/node.js';

const IMAGE = join(import.meta.dirname, '../../../../testdata/erofs/app.fp.lz4hc.img');

describe.runIf(process.platform === 'linux')('DIGEST_THREAD_CHANNEL', () => {
  it("announces every digest thread of a pool, each a live thread of this process that is not the scan's", async () => {
    const own = Number.parseInt(readFileSync('/proc/thread-self/stat', 'latin1'), 10);
    const seen: { tid: number; alive: boolean }[] = [];
    const listener = (m: unknown): void => {
      const { tid } = m as DigestThreadAnnounce;
      seen.push({ tid, alive: existsSync(`/proc/self/task/${tid}/stat`) });
    };
    subscribe(DIGEST_THREAD_CHANNEL, listener);
    const pool = new DigestPool(digestWorkerScript()!, { path: IMAGE, devices: [], limits: undefined }, 3);
    try {
      expect(await pool.threadsStarted()).toHaveLength(3);
    } finally {
      await pool.close();
      unsubscribe(DIGEST_THREAD_CHANNEL, listener);
    }
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.tid)).size).toBe(3);
    for (const s of seen) {
      expect(s.alive).toBe(true);
      expect(s.tid).not.toBe(own);
    }
  }, 60_000);
});
