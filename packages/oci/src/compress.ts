/**
 * Input kind from the first bytes (never the file name) and streaming decompression of
 * layers: gzip via fflate, zstd via fzstd (both pure JS, Node and browser). Nothing is
 * held beyond one input chunk's output.
 */
import { Gunzip } from 'fflate';
import { Decompress } from 'fzstd';
import { OciError } from './errors.js';
import { BLOCK } from './tar.js';

export type Compression = 'gzip' | 'zstd' | 'none';

/** gzip 1f 8b; zstd frame 28 b5 2f fd (RFC 8878 section 3.1.1). */
export function compressionOf(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** Whether a 512-byte block is a tar header: its checksum field matches (ustar or v7). */
export function looksLikeTar(head: Uint8Array): boolean {
  if (head.length < BLOCK) return false;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : head[i]!;
  // The checksum field ends in NULs and/or spaces (trimmed by hand: no regex over input).
  let end = 156;
  while (end > 148 && (head[end - 1] === 0 || head[end - 1] === 0x20)) end--;
  const field = new TextDecoder('latin1').decode(head.subarray(148, end)).trim();
  return /^[0-7]+$/.test(field) && parseInt(field, 8) === sum;
}

type Pushable = {
  push(chunk: Uint8Array, final?: boolean): unknown;
  ondata: (data: Uint8Array, final: boolean) => void;
};

/** Decompress a stream (identity for "none"). Truncated or corrupt input -> OciError. */
export async function* decompress(
  kind: Compression,
  input: AsyncIterable<Uint8Array>,
  what: string,
): AsyncGenerator<Uint8Array> {
  if (kind === 'none') {
    yield* input;
    return;
  }
  let out: Uint8Array[] = [];
  let ended = false;
  const d = (kind === 'gzip' ? new Gunzip() : new Decompress()) as unknown as Pushable;
  // fzstd's chunks may alias its window, which later pushes overwrite: keep copies.
  d.ondata =
    kind === 'zstd'
      ? (c, fin) => {
          out.push(c.slice());
          if (fin) ended = true;
        }
      : (c, fin) => {
          out.push(c);
          if (fin) ended = true;
        };
  const push = (c: Uint8Array, final: boolean) => {
    try {
      d.push(c, final);
    } catch (e) {
      throw new OciError(
        final ? 'ETRUNCATED' : 'EFORMAT',
        `${kind} stream is ${final ? 'truncated' : 'corrupt'}: ${(e as Error).message}`,
        { member: what, cause: e },
      );
    }
  };
  for await (const c of input) {
    push(c, false);
    const ready = out;
    out = [];
    yield* ready;
  }
  push(new Uint8Array(0), true);
  yield* out;
  if (kind === 'zstd' && !ended)
    throw new OciError('ETRUNCATED', 'zstd stream is truncated', { member: what });
}
