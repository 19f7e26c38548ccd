/**
 * The periodic collection (SHAREMAP_GC_INTERVAL_MINUTES, default 60; 0: off): every interval
 * one collectGarbage() (collect.ts). The timer does not keep the process alive, and a failed
 * run is logged and tried again at the next interval.
 */
import { collectGarbage, type GcContext } from './collect.js';

/** Start the periodic collection; returns the function that stops it. */
export function startGcTimer(ctx: GcContext): () => void {
  const every = ctx.config.retention.gcIntervalMs;
  if (every <= 0) return () => undefined;
  const timer = setInterval(() => {
    collectGarbage(ctx).catch((e: unknown) =>
      ctx.log.error('garbage collection failed', { error: (e as Error).message }),
    );
  }, every);
  timer.unref();
  return () => clearInterval(timer);
}
