/**
 * Seeded pseudo-random numbers for tests: the same seed gives the same inputs on every run, so a
 * failure names what reproduces it. One generator for the tests of every package (exported as
 * `@sharemap/erofs/testing`, a "source"-only subpath, and again from `@sharemap/sharing/testing`
 * for the packages above it). Not for the fuzzers (test/fuzz-lib.mjs, apps/server's
 * http-fuzz-lib.mjs): plain ESM that scripts load, whose recorded case seeds replay only with
 * their own generators.
 */

/** Numbers in [0, 1) from `seed` (mulberry32: 32 bits of state, every 32-bit seed its own sequence). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Whole numbers in [0, n) from `seed` (seededRandom's, scaled). */
export function seededInts(seed: number): (n: number) => number {
  const random = seededRandom(seed);
  return (n) => Math.floor(random() * n);
}

/** `n` bytes from `seed` (seededRandom's, scaled). */
export function seededBytes(n: number, seed: number): Uint8Array {
  const int = seededInts(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
}
