/**
 * V8 flags a command sets for its own process as it starts (main.ts). V8's flags are the
 * process's: set before a command starts its worker threads, they hold in those too.
 */

/** V8's default interrupt budget (Node 20): bytes of bytecode a function runs before V8 considers optimizing it. */
export const V8_DEFAULT_INTERRUPT_BUDGET = 67_584;

/**
 * The interrupt budget of `scan --hash`: every thread of the scan (the walk, each digest thread)
 * compiles its own optimized copies, and on the lz4hc `/usr/share` image TurboFan took about a
 * third of the process's CPU on V8's helper threads, mostly for functions that run a few
 * hundred times; with 8x the budget only the hot ones are optimized
 * (docs/benchmarks.md#verify-lz4d-v8s-compiles-and-the-extent-table-2026-12-07).
 */
export const SCAN_HASH_INTERRUPT_BUDGET = 8 * V8_DEFAULT_INTERRUPT_BUDGET;

/** The V8 flags (for v8.setFlagsFromString) of the command `args` (argv after `sharemap`), or undefined. */
export function v8FlagsFor(args: readonly string[]): string | undefined {
  if (args[0] === 'scan' && args.includes('--hash'))
    return `--interrupt-budget=${SCAN_HASH_INTERRUPT_BUDGET}`;
  return undefined;
}
