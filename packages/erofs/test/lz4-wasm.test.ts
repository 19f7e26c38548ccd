/**
 * The WebAssembly LZ4 decoder (src/decompress/lz4-wasm.ts, wasm/lz4.wat) against the
 * JavaScript one (src/decompress/lz4.ts): random and mutated blocks give the same bytes or the
 * same refusal; results never reach past `outLen`; blocks beyond the instance's memory bound
 * fall back; and the committed bytes are what the source assembles to.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CompressedDataError } from '../src/compressed/errors.js';
import { ALG_LZ4 } from '../src/compressed/context.js';
import {
  decompressPcluster,
  lz4Decompress,
  lz4DecompressWasm,
  LZ4_WASM_MAX_MEMORY,
  setLz4Decoder,
} from '../src/decompress/index.js';
import {
  LZ4_WASM_INPUT_BYTES,
  lz4DecodeWasmRaw,
  lz4DecompressWasmBorrowed,
  lz4WasmInput,
  lz4WasmInputHolds,
} from '../src/decompress/lz4-wasm.js';
import { LZ4_WASM_BASE64 } from '../src/decompress/lz4-wasm-bytes.js';
import { randomBlock } from './lz4-decoders.js';
import { seededRandom } from './seeded-random.js';
// @ts-expect-error: a plain .mjs build script without declarations
import { WASM_MODULES, wasmModuleText } from '../scripts/build-wasm.mjs';

const fixtures = join(import.meta.dirname, 'decompress-fixtures');

/** The decoder's error code (wasm/lz4.wat) for each refusal the JavaScript decoder words. */
const CODE_OF_MESSAGE: readonly [RegExp, number][] = [
  [/truncated literal length/, -1],
  [/literal run of \d+ bytes past end of input/, -2],
  [/literal run of \d+ bytes overflows output/, -3],
  [/truncated match offset/, -4],
  [/match offset \d+ outside the/, -5],
  [/lz4_max_distance window/, -6],
  [/truncated match length/, -7],
  [/match of \d+ bytes overflows output/, -8],
  [/block decoded to \d+ bytes/, -9],
];

type Outcome = { bytes: Buffer } | { code: number };

function viaJs(src: Uint8Array, outLen: number, partial: boolean, maxDistance?: number): Outcome {
  try {
    return { bytes: Buffer.from(lz4Decompress(src, outLen, partial, maxDistance)) };
  } catch (e) {
    expect(e).toBeInstanceOf(CompressedDataError);
    const msg = (e as Error).message;
    const hit = CODE_OF_MESSAGE.find(([re]) => re.test(msg));
    if (!hit) throw new Error(`unmapped JS refusal: ${msg}`);
    return { code: hit[1] };
  }
}

function viaWasm(src: Uint8Array, outLen: number, partial: boolean, maxDistance?: number): Outcome {
  const r = lz4DecodeWasmRaw(src, outLen, partial, maxDistance);
  if (r === null) throw new Error('the WebAssembly decoder did not run');
  return typeof r === 'number' ? { code: r } : { bytes: Buffer.from(r) };
}

/** Both decoders on one input: the same outcome, and lz4DecompressWasm throws the JS error. */
function expectSame(
  src: Uint8Array,
  outLen: number,
  partial: boolean,
  maxDistance?: number,
  what = '',
): Outcome {
  const js = viaJs(src, outLen, partial, maxDistance);
  const wasm = viaWasm(src, outLen, partial, maxDistance);
  if ('code' in js) {
    if (!('code' in wasm) || wasm.code !== js.code)
      throw new Error(
        `${what}: JS refuses with ${js.code}, WebAssembly gives ${'code' in wasm ? wasm.code : 'bytes'}`,
      );
    let jsMsg = '';
    try {
      lz4Decompress(src, outLen, partial, maxDistance);
    } catch (e) {
      jsMsg = (e as Error).message;
    }
    expect(() => lz4DecompressWasm(src, outLen, partial, maxDistance)).toThrow(jsMsg);
  } else if (!('bytes' in wasm) || !wasm.bytes.equals(js.bytes)) {
    throw new Error(
      `${what}: JS decodes, WebAssembly ${'code' in wasm ? `refuses (${wasm.code})` : 'differs'}`,
    );
  }
  return js;
}

describe('WebAssembly and JavaScript LZ4 decoders agree', () => {
  it('random valid blocks, whole and partial, with windows: the same bytes', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const { block, out } = randomBlock(seed);
      expect(expectSame(block, out.length, false, undefined, `seed ${seed}`)).toHaveProperty('bytes');
      const n = 1 + ((seed * 7919) % out.length);
      expectSame(block, n, true, undefined, `seed ${seed} partial ${n}`);
      // a window narrower than some match offsets: both refuse the same way, or both decode
      expectSame(block, out.length, false, 1 + (seed % 40), `seed ${seed} window`);
    }
  });

  it('mutated and truncated blocks: the same bytes or the same refusal', () => {
    const bases: Uint8Array[] = ['runs.lz4frame', 'runs-hc.lz4frame', 'sample.lz4frame'].map((name) => {
      const f = new Uint8Array(readFileSync(join(fixtures, name)));
      const size = new DataView(f.buffer, f.byteOffset).getUint32(15, true);
      return f.subarray(19, 19 + size);
    });
    for (let seed = 1; seed <= 400; seed++) bases.push(randomBlock(1000 + seed).block);
    const r = seededRandom(77);
    const outcomes = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const base = bases[i % bases.length]!;
      const b = base.slice(0, 1 + Math.floor(r() * base.length));
      const flips = Math.floor(r() * 4);
      for (let k = 0; k < flips; k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      const outLen = Math.floor(r() * 3 * base.length);
      const o = expectSame(
        b,
        outLen,
        r() < 0.5,
        r() < 0.2 ? 1 + Math.floor(r() * 1000) : undefined,
        `case ${i}`,
      );
      outcomes.add('code' in o ? String(o.code) : 'bytes');
    }
    // the cases reach decoded output and most of the refusals, not one path only
    expect(outcomes.has('bytes')).toBe(true);
    expect(outcomes.size).toBeGreaterThanOrEqual(7);
  });

  it('random bytes: refused alike, never a crash', () => {
    const r = seededRandom(99);
    for (let i = 0; i < 2000; i++) {
      const b = Uint8Array.from({ length: 1 + Math.floor(r() * 300) }, () => Math.floor(r() * 256));
      expectSame(b, Math.floor(r() * 5000), r() < 0.5, undefined, `random ${i}`);
    }
  });
});

describe('the WebAssembly decoder writes only what it returns', () => {
  it('a caller buffer beyond outLen keeps its bytes, whole and partial', () => {
    const { block, out } = randomBlock(3);
    const into = new Uint8Array(out.length + 200).fill(0xa5);
    const got = lz4DecompressWasm(block, out.length, false, undefined, into);
    expect(got.buffer).toBe(into.buffer);
    expect(Buffer.from(got).equals(out)).toBe(true);
    expect(into.subarray(out.length).every((x) => x === 0xa5)).toBe(true);
    into.fill(0xa5);
    const part = lz4DecompressWasm(block, 10, true, undefined, into);
    expect(Buffer.from(part).equals(out.subarray(0, 10))).toBe(true);
    expect(into.subarray(10).every((x) => x === 0xa5)).toBe(true);
  });

  it('a block needing more than LZ4_WASM_MAX_MEMORY is decoded by the JavaScript decoder', () => {
    // one literal 'A', a match of period 1 up to 5 bytes before the end, then 5 literals 'B':
    // 15 MiB of output is more than the instance's memory may grow to
    const outLen = 15 << 20;
    expect(outLen).toBeGreaterThan(LZ4_WASM_MAX_MEMORY);
    const stream = [0x1f, 0x41, 0x01, 0x00];
    let rest = outLen - 1 - 4 - 15 - 5;
    for (; rest >= 255; rest -= 255) stream.push(255);
    stream.push(rest, 0x50, 0x42, 0x42, 0x42, 0x42, 0x42);
    const src = Uint8Array.from(stream);
    expect(lz4DecodeWasmRaw(src, outLen, false)).toBeNull();
    const got = lz4DecompressWasm(src, outLen, false);
    expect(got.length).toBe(outLen);
    expect(got[0]).toBe(0x41);
    expect(got[outLen - 6]).toBe(0x41);
    expect(Buffer.from(got.subarray(outLen - 5)).toString()).toBe('BBBBB');
  });
});

describe("the instance's memory", () => {
  it('is LZ4_WASM_MAX_MEMORY from the start, as the module declares it', () => {
    // The part of the WebAssembly API used here: the tests compile without the DOM library,
    // which is where TypeScript declares it (as src/decompress/lz4-wasm.ts does).
    const api = (
      globalThis as unknown as {
        WebAssembly: {
          Module: new (bytes: Uint8Array) => object;
          Instance: new (module: object) => {
            exports: { memory: { buffer: ArrayBuffer; grow(pages: number): number } };
          };
        };
      }
    ).WebAssembly;
    const { memory } = new api.Instance(new api.Module(Buffer.from(LZ4_WASM_BASE64, 'base64'))).exports;
    expect(memory.buffer.byteLength).toBe(LZ4_WASM_MAX_MEMORY);
    // 224 pages as the maximum too: growing it by one page is refused
    expect(() => memory.grow(1)).toThrow(RangeError);
  });

  it('is never grown, so no view of it is detached (a detach costs V8 its optimized code)', () => {
    const region = lz4WasmInput(16)!;
    const before = region.buffer;
    // the largest block that fits, decoded from outside the input region: 1 MiB of input room,
    // 12 MiB of output (one literal, a period-1 match to 5 bytes before the end, 5 literals)
    const outLen = 12 << 20;
    const stream = [0x1f, 0x41, 0x01, 0x00];
    let rest = outLen - 1 - 4 - 15 - 5;
    for (; rest >= 255; rest -= 255) stream.push(255);
    stream.push(rest, 0x50, 0x42, 0x42, 0x42, 0x42, 0x42);
    const got = lz4DecodeWasmRaw(Uint8Array.from(stream), outLen, false);
    expect(got).toBeInstanceOf(Uint8Array);
    expect((got as Uint8Array).buffer).toBe(before);
    expect(before.byteLength).toBe(LZ4_WASM_MAX_MEMORY);
    expect(region.length).toBe(16);
  });
});

describe('the borrowing decoder (forEachPiece, `scan --hash`)', () => {
  it('returns the bytes of lz4Decompress as a view of the instance memory, not of `into`', () => {
    const into = new Uint8Array(1 << 16).fill(0xa5);
    for (let seed = 1; seed <= 50; seed++) {
      const { block, out } = randomBlock(seed);
      const got = lz4DecompressWasmBorrowed(block, out.length, false, undefined, into);
      expect(Buffer.from(got).equals(Buffer.from(lz4Decompress(block, out.length, false)))).toBe(true);
      expect(got.buffer).not.toBe(into.buffer);
      const n = 1 + ((seed * 7919) % out.length);
      const part = lz4DecompressWasmBorrowed(block, n, true, undefined, into);
      expect(Buffer.from(part).equals(out.subarray(0, n))).toBe(true);
    }
    // nothing was written into the caller's buffer
    expect(into.every((x) => x === 0xa5)).toBe(true);
  });

  it('refuses a corrupt block with the JavaScript decoder`s error', () => {
    const { block, out } = randomBlock(5);
    const cut = block.subarray(0, block.length - 3);
    let jsMsg = '';
    try {
      lz4Decompress(cut, out.length, false);
    } catch (e) {
      jsMsg = (e as Error).message;
    }
    expect(jsMsg).not.toBe('');
    expect(() => lz4DecompressWasmBorrowed(cut, out.length, false)).toThrow(jsMsg);
  });

  it('decompressPcluster with `borrow`: the instance memory with wasm, `into` with the JavaScript decoder', () => {
    const { block, out } = randomBlock(9);
    const opts = { partial: false, maxOutput: 1 << 20, into: new Uint8Array(out.length) };
    try {
      setLz4Decoder('js');
      const js = decompressPcluster(ALG_LZ4, block, out.length, { ...opts, borrow: true });
      expect(js.buffer).toBe(opts.into.buffer);
      expect(Buffer.from(js).equals(out)).toBe(true);
    } finally {
      setLz4Decoder('wasm');
    }
    const wasm = decompressPcluster(ALG_LZ4, block, out.length, { ...opts, borrow: true });
    expect(wasm.buffer).not.toBe(opts.into.buffer);
    expect(Buffer.from(wasm).equals(out)).toBe(true);
    const copied = decompressPcluster(ALG_LZ4, block, out.length, opts);
    expect(copied.buffer).toBe(opts.into.buffer);
  });
});

describe('the input region (lz4WasmInput): streams decoded where they were read', () => {
  it('blocks read back to back into the region decode from their subarrays, as copied ones do', () => {
    const blocks = [1, 2, 3, 4].map((seed) => randomBlock(100 + seed));
    const n = blocks.reduce((k, b) => k + b.block.length, 0);
    const region = lz4WasmInput(n)!;
    expect(region.length).toBe(n);
    let at = 0;
    for (const b of blocks) {
      region.set(b.block, at);
      at += b.block.length;
    }
    at = 0;
    for (const b of blocks) {
      const got = lz4DecodeWasmRaw(region.subarray(at, at + b.block.length), b.out.length, false);
      expect(got).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(got as Uint8Array).equals(b.out)).toBe(true);
      // the output lies past the region: the blocks after this one are still there
      expect(lz4WasmInputHolds(region)).toBe(true);
      expect(Buffer.from(region.subarray(at, at + b.block.length)).equals(b.block)).toBe(true);
      at += b.block.length;
    }
    // a corrupt block in the region is refused with the decoder's code, as a copied one is
    const cut = region.subarray(0, blocks[0]!.block.length - 2);
    expect(lz4DecodeWasmRaw(cut, blocks[0]!.out.length, false)).toBe(
      lz4DecodeWasmRaw(blocks[0]!.block.slice(0, -2), blocks[0]!.out.length, false),
    );
  });

  it('a decode of a stream from elsewhere overwrites the region, and says so', () => {
    const { block, out } = randomBlock(7);
    const region = lz4WasmInput(block.length)!;
    region.set(block);
    expect(lz4WasmInputHolds(region)).toBe(true);
    expect(Buffer.from(lz4DecompressWasmBorrowed(block.slice(), out.length, false)).equals(out)).toBe(true);
    expect(lz4WasmInputHolds(region)).toBe(false);
    // a new region view holds again
    const again = lz4WasmInput(16)!;
    expect(lz4WasmInputHolds(again)).toBe(true);
    expect(lz4WasmInputHolds(region)).toBe(false);
  });

  it('no region larger than LZ4_WASM_INPUT_BYTES', () => {
    expect(lz4WasmInput(LZ4_WASM_INPUT_BYTES)!.length).toBe(LZ4_WASM_INPUT_BYTES);
    expect(lz4WasmInput(LZ4_WASM_INPUT_BYTES + 1)).toBeNull();
  });
});

describe('the committed WebAssembly bytes', () => {
  it('are what wasm/lz4.wat assembles to (node scripts/build-wasm.mjs)', async () => {
    const { wat, bytes } = WASM_MODULES.lz4;
    const rebuilt: string = await wasmModuleText('lz4', readFileSync(wat, 'utf8'));
    expect(readFileSync(bytes, 'utf8')).toBe(rebuilt);
  });
});
