/**
 * A digest pool as the scan sees it in the pool's tests (digest-pool.test.ts, digest-later.test.ts).
 */
import type { ContentDigester } from '../../src/manifest.js';
import type { DigestPool } from '../../src/node/digest-pool.js';

/**
 * The pool seen through a scan that may have at most `maxPending` digests outstanding and sends
 * it every file, also those the scan hashes itself by default (DIGEST_IN_THREAD_BYTES); without
 * work sharing (takeBack, poll) unless `share`.
 */
export function limited(pool: DigestPool, maxPending: number, share = false): ContentDigester {
  const d: ContentDigester = {
    maxPending,
    inThreadBytes: -1,
    digest: (ino, t) => pool.digest(ino, t),
    flush: () => pool.flush(),
  };
  if (share) {
    d.takeBack = () => pool.takeBack();
    d.poll = () => pool.poll();
  }
  return d;
}
