// MicroLZMA decoder (docs/format.md#compressed-streams, algorithm 1): a raw LZMA1 stream whose first byte is the
// bitwise NOT of the properties byte (lc + lp*9 + pb*45), no header, optional end marker, known
// compressed and uncompressed sizes. Mirrors xz-embedded's xz_dec_microlzma_run() as used by
// the kernel's z_erofs_lzma_decompress(); the decoder structure follows the public-domain
// LZMA specification (LzmaSpec.cpp). Each pcluster is an independent stream, so the output
// buffer itself is the dictionary.

import { CompressedDataError } from '../compressed/errors.js';

const NUM_STATES = 12;
const POS_BITS_MAX = 4;
const NUM_LEN_TO_POS_STATES = 4;
const END_POS_MODEL_INDEX = 14;
const NUM_FULL_DISTANCES = 1 << (END_POS_MODEL_INDEX >>> 1);
const NUM_ALIGN_BITS = 4;
const MATCH_MIN_LEN = 2;
const PROB_INIT = 1024; // kBitModelTotal / 2
/** Largest lc + lp the decoder accepts (xz-embedded limits lc + lp to 4). */
const MAX_LC_LP = 4;

// Offsets of the probability groups in one Uint16Array.
const IS_MATCH = 0;
const IS_REP = IS_MATCH + (NUM_STATES << POS_BITS_MAX);
const IS_REP_G0 = IS_REP + NUM_STATES;
const IS_REP_G1 = IS_REP_G0 + NUM_STATES;
const IS_REP_G2 = IS_REP_G1 + NUM_STATES;
const IS_REP0_LONG = IS_REP_G2 + NUM_STATES;
const POS_SLOT = IS_REP0_LONG + (NUM_STATES << POS_BITS_MAX);
const SPEC_POS = POS_SLOT + (NUM_LEN_TO_POS_STATES << 6);
const ALIGN = SPEC_POS + 1 + NUM_FULL_DISTANCES - END_POS_MODEL_INDEX;
// length decoder: choice, choice2, low[16][8], mid[16][8], high[256]
const LEN_CHOICE = 0;
const LEN_CHOICE2 = 1;
const LEN_LOW = 2;
const LEN_MID = LEN_LOW + (16 << 3);
const LEN_HIGH = LEN_MID + (16 << 3);
const LEN_SIZE = LEN_HIGH + 256;
const LEN_CODER = ALIGN + (1 << NUM_ALIGN_BITS);
const REP_LEN_CODER = LEN_CODER + LEN_SIZE;
const LITERAL = REP_LEN_CODER + LEN_SIZE;

function corrupt(what: string): never {
  throw new CompressedDataError('ECORRUPT', `lzma: ${what}`);
}

/**
 * Decode a MicroLZMA stream into exactly `outLen` bytes. Besides the probability tables
 * (at most 0x300 << 4 entries, lc + lp <= 4) the output buffer is the only allocation.
 * @param partial the stream may describe more than `outLen` bytes (stop early); otherwise the
 *   stream must yield exactly `outLen` bytes (an end marker earlier, or more stream after
 *   them, is corruption).
 */
export function lzmaDecompress(
  src: Uint8Array,
  outLen: number,
  partial: boolean,
  dictSize = Number.MAX_SAFE_INTEGER,
): Uint8Array {
  if (src.length < 5) corrupt(`stream of ${src.length} bytes is too short`);
  let props = ~src[0]! & 0xff;
  if (props >= 9 * 5 * 5) corrupt(`invalid properties byte 0x${props.toString(16)}`);
  const lc = props % 9;
  props = (props / 9) | 0;
  const lp = props % 5;
  const pb = (props / 5) | 0;
  if (lc + lp > MAX_LC_LP) corrupt(`unsupported lc ${lc} + lp ${lp}`);
  if (pb > POS_BITS_MAX) corrupt(`invalid pb ${pb}`);

  const probs = new Uint16Array(LITERAL + (0x300 << (lc + lp))).fill(PROB_INIT);
  const out = new Uint8Array(outLen);
  const inLen = src.length;

  // Range decoder (byte 0 stands in for the always-zero first byte of LZMA1).
  let ip = 5;
  let range = 0xffffffff;
  let code = ((src[1]! << 24) | (src[2]! << 16) | (src[3]! << 8) | src[4]!) >>> 0;
  if (code === range) corrupt('invalid range coder start');

  const nextByte = (): number => {
    if (ip >= inLen) corrupt(`input exhausted after ${inLen} bytes`);
    return src[ip++]!;
  };
  const bit = (i: number): number => {
    const p = probs[i]!;
    const bound = (range >>> 11) * p;
    let b: number;
    if (code < bound) {
      range = bound;
      probs[i] = p + ((2048 - p) >>> 5);
      b = 0;
    } else {
      code -= bound;
      range -= bound;
      probs[i] = p - (p >>> 5);
      b = 1;
    }
    if (range < 0x1000000) {
      range = (range * 256) >>> 0;
      code = ((code * 256) >>> 0) + nextByte();
    }
    return b;
  };
  const bitTree = (base: number, numBits: number): number => {
    let m = 1;
    for (let i = 0; i < numBits; i++) m = (m << 1) | bit(base + m);
    return m - (1 << numBits);
  };
  const bitTreeReverse = (base: number, numBits: number): number => {
    let m = 1;
    let sym = 0;
    for (let i = 0; i < numBits; i++) {
      const b = bit(base + m);
      m = (m << 1) | b;
      sym |= b << i;
    }
    return sym;
  };
  const directBits = (numBits: number): number => {
    let res = 0;
    for (let i = 0; i < numBits; i++) {
      range >>>= 1;
      let b = 0;
      if (code >= range) {
        code -= range;
        b = 1;
      }
      res = res * 2 + b;
      if (range < 0x1000000) {
        range = (range * 256) >>> 0;
        code = ((code * 256) >>> 0) + nextByte();
      }
    }
    return res;
  };
  const decodeLen = (base: number, posState: number): number => {
    if (bit(base + LEN_CHOICE) === 0) return bitTree(base + LEN_LOW + (posState << 3), 3);
    if (bit(base + LEN_CHOICE2) === 0) return 8 + bitTree(base + LEN_MID + (posState << 3), 3);
    return 16 + bitTree(base + LEN_HIGH, 8);
  };

  const pbMask = (1 << pb) - 1;
  const lpMask = (1 << lp) - 1;
  let state = 0;
  let rep0 = 0;
  let rep1 = 0;
  let rep2 = 0;
  let rep3 = 0;
  let op = 0;
  // After outLen bytes a full decode looks at most one more symbol: an end-of-payload marker.
  let atEnd = false;
  const continues = (): never =>
    corrupt(`stream continues past the expected ${outLen} bytes (${inLen - ip} input bytes left)`);
  // Every iteration emits at least one byte or ends the loop, so it runs at most outLen + 1 times.
  for (;;) {
    if (op >= outLen) {
      // A full decode must end the stream here, as xz_dec_microlzma_run() checks with an
      // exact output size: no input left and the range coder finished (code 0), or an end
      // marker. A longer stream is corruption rather than silently cut (docs/format.md#compressed-streams).
      if (partial || (ip === inLen && code === 0)) break;
      atEnd = true;
    }
    const posState = op & pbMask;
    if (bit(IS_MATCH + (state << POS_BITS_MAX) + posState) === 0) {
      if (atEnd) continues();
      const prev = op > 0 ? out[op - 1]! : 0;
      const base = LITERAL + 0x300 * (((op & lpMask) << lc) + (prev >>> (8 - lc)));
      let sym = 1;
      if (state >= 7) {
        let matchByte = out[op - rep0 - 1]!;
        while (sym < 0x100) {
          const matchBit = (matchByte >>> 7) & 1;
          matchByte <<= 1;
          const b = bit(base + ((1 + matchBit) << 8) + sym);
          sym = (sym << 1) | b;
          if (matchBit !== b) break;
        }
      }
      while (sym < 0x100) sym = (sym << 1) | bit(base + sym);
      out[op++] = sym & 0xff;
      state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
      continue;
    }
    let len: number;
    if (bit(IS_REP + state) !== 0) {
      if (atEnd) continues();
      if (op === 0) corrupt('repeated match before any output');
      if (bit(IS_REP_G0 + state) === 0) {
        if (bit(IS_REP0_LONG + (state << POS_BITS_MAX) + posState) === 0) {
          // short rep: one byte at distance rep0
          state = state < 7 ? 9 : 11;
          out[op] = out[op - rep0 - 1]!;
          op++;
          continue;
        }
      } else {
        let dist: number;
        if (bit(IS_REP_G1 + state) === 0) {
          dist = rep1;
        } else {
          if (bit(IS_REP_G2 + state) === 0) {
            dist = rep2;
          } else {
            dist = rep3;
            rep3 = rep2;
          }
          rep2 = rep1;
        }
        rep1 = rep0;
        rep0 = dist;
      }
      len = decodeLen(REP_LEN_CODER, posState);
      state = state < 7 ? 8 : 11;
    } else {
      rep3 = rep2;
      rep2 = rep1;
      rep1 = rep0;
      len = decodeLen(LEN_CODER, posState);
      state = state < 7 ? 7 : 10;
      // distance
      const lenState = len < NUM_LEN_TO_POS_STATES - 1 ? len : NUM_LEN_TO_POS_STATES - 1;
      const posSlot = bitTree(POS_SLOT + (lenState << 6), 6);
      if (posSlot < 4) {
        rep0 = posSlot;
      } else {
        const numDirect = (posSlot >>> 1) - 1;
        let dist = (2 | (posSlot & 1)) * 2 ** numDirect;
        if (posSlot < END_POS_MODEL_INDEX) {
          dist += bitTreeReverse(SPEC_POS + dist - posSlot, numDirect);
        } else {
          dist += directBits(numDirect - NUM_ALIGN_BITS) * 16;
          dist += bitTreeReverse(ALIGN, NUM_ALIGN_BITS);
        }
        rep0 = dist;
      }
      if (rep0 === 0xffffffff) {
        // end-of-payload marker
        break;
      }
      if (atEnd) continues();
    }
    if (rep0 >= op || rep0 >= dictSize) {
      corrupt(`match distance ${rep0 + 1} beyond the ${Math.min(op, dictSize)}-byte window`);
    }
    len += MATCH_MIN_LEN;
    if (len > outLen - op) {
      if (!partial) corrupt(`match of ${len} bytes overflows output of ${outLen}`);
      len = outLen - op;
    }
    let from = op - rep0 - 1;
    for (const end = op + len; op < end;) out[op++] = out[from++]!;
  }
  if (op !== outLen) corrupt(`stream decoded to ${op} bytes, expected ${outLen}`);
  if (!partial && (ip !== inLen || code !== 0)) continues();
  return out;
}
