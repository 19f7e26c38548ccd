/**
 * SHAREMAP_LZ4_DECODER is a process setting (docs/reader.md#lz4-decoders): read where a process
 * starts (lz4DecoderFromEnv), never when an image is opened; digest threads start with the LZ4
 * decoder of the thread that starts them, and a pool announces its threads on
 * DIGEST_POOL_CHANNEL (docs/reader.md#content-digests-on-worker-threads).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getLz4Decoder, setLz4Decoder } from '../../src/decompress/index.js';
import {
  DIGEST_POOL_CHANNEL,
  DigestPool,
  digestWorkerScript,
  type DigestPoolStart,
} from '../../src/node/digest-pool.js';
import {
  LZ4_DECODER_ENV,
  lz4DecoderFromEnv,
  openImageFile,
  parseLz4DecoderEnv,
  scanImageFile,
} from '../../src/node.js';

const FIX = join(import.meta.dirname, '../../../../testdata/erofs');
const LZ4_IMAGE = join(FIX, 'app.fp.lz4hc.img');

afterEach(() => setLz4Decoder('wasm'));

/** The messages published on DIGEST_POOL_CHANNEL while `fn` runs. */
async function poolStarts(fn: () => Promise<unknown>): Promise<DigestPoolStart[]> {
  const seen: DigestPoolStart[] = [];
  const listener = (m: unknown): void => {
    seen.push(m as DigestPoolStart);
  };
  subscribe(DIGEST_POOL_CHANNEL, listener);
  try {
    await fn();
  } finally {
    unsubscribe(DIGEST_POOL_CHANNEL, listener);
  }
  return seen;
}

describe('SHAREMAP_LZ4_DECODER at a process start', () => {
  it('parseLz4DecoderEnv: unset and empty choose nothing, js and wasm are taken, anything else is refused by name', () => {
    expect(LZ4_DECODER_ENV).toBe('SHAREMAP_LZ4_DECODER');
    expect(parseLz4DecoderEnv({})).toBeUndefined();
    expect(parseLz4DecoderEnv({ SHAREMAP_LZ4_DECODER: '' })).toBeUndefined();
    expect(parseLz4DecoderEnv({ SHAREMAP_LZ4_DECODER: 'js' })).toBe('js');
    expect(parseLz4DecoderEnv({ SHAREMAP_LZ4_DECODER: 'wasm' })).toBe('wasm');
    expect(() => parseLz4DecoderEnv({ SHAREMAP_LZ4_DECODER: 'JS' })).toThrow(
      'EINVAL: SHAREMAP_LZ4_DECODER must be "js" or "wasm", not "JS"',
    );
  });

  it('lz4DecoderFromEnv applies the choice to this thread and returns it; a bad value leaves it alone', () => {
    expect(lz4DecoderFromEnv({ SHAREMAP_LZ4_DECODER: 'js' })).toBe('js');
    expect(getLz4Decoder()).toBe('js');
    expect(lz4DecoderFromEnv({})).toBe('js'); // unset: what the thread uses stays
    expect(() => lz4DecoderFromEnv({ SHAREMAP_LZ4_DECODER: 'fast' })).toThrow(/not "fast"/);
    expect(getLz4Decoder()).toBe('js');
    expect(lz4DecoderFromEnv({ SHAREMAP_LZ4_DECODER: 'wasm' })).toBe('wasm');
  });

  it('openImageFile reads no environment: a bad value set after the start does not fail an open or change the decoder', async () => {
    const before = process.env[LZ4_DECODER_ENV];
    process.env[LZ4_DECODER_ENV] = 'js';
    try {
      setLz4Decoder('wasm');
      const opened = await openImageFile(LZ4_IMAGE);
      await opened.close();
      expect(getLz4Decoder()).toBe('wasm');
      process.env[LZ4_DECODER_ENV] = 'fast';
      const again = await openImageFile(LZ4_IMAGE);
      await again.close();
    } finally {
      if (before === undefined) delete process.env[LZ4_DECODER_ENV];
      else process.env[LZ4_DECODER_ENV] = before;
    }
  });
});

describe.skipIf(!digestWorkerScript())("digest threads start with the starting thread's decoder", () => {
  it.each([['js'], ['wasm'], [undefined]] as const)(
    'a pool handed %s: every thread reports it (unset: wasm), and the pool announces its threads',
    async (kind) => {
      let pool: DigestPool | undefined;
      const starts = await poolStarts(() => {
        pool = new DigestPool(
          digestWorkerScript()!,
          { path: LZ4_IMAGE, devices: [], limits: undefined, ...(kind ? { lz4Decoder: kind } : {}) },
          3,
        );
        return Promise.resolve();
      });
      try {
        expect(starts).toEqual([{ path: LZ4_IMAGE, threads: 3, lz4Decoder: kind }]);
        expect(await pool!.threadsStarted()).toEqual([
          { lz4Decoder: kind ?? 'wasm' },
          { lz4Decoder: kind ?? 'wasm' },
          { lz4Decoder: kind ?? 'wasm' },
        ]);
      } finally {
        await pool!.close();
      }
    },
    120_000,
  );

  it("scanImageFile hands its threads this thread's decoder and starts exactly `threads` of them", async () => {
    setLz4Decoder('js');
    const three = await poolStarts(() => scanImageFile(LZ4_IMAGE, { hash: true, threads: 3 }));
    expect(three).toEqual([{ path: LZ4_IMAGE, threads: 3, lz4Decoder: 'js' }]);
    setLz4Decoder('wasm');
    const one = await poolStarts(() => scanImageFile(LZ4_IMAGE, { hash: true, threads: 1 }));
    expect(one).toEqual([{ path: LZ4_IMAGE, threads: 1, lz4Decoder: 'wasm' }]);
    // no digest threads: in-thread hashing, or no hashing at all
    expect(await poolStarts(() => scanImageFile(LZ4_IMAGE, { hash: true, threads: 0 }))).toEqual([]);
    expect(await poolStarts(() => scanImageFile(LZ4_IMAGE, { threads: 2 }))).toEqual([]);
  }, 120_000);
});
