/**
 * The Node flags of the CLI's worker threads (manifest threads, the shared scan's worker), in
 * a module of its own that loads nothing, so that main.ts can start a thread before the rest.
 */

/**
 * Worker options: by default a thread takes this process's Node flags (its heap limit among
 * them). Under a custom export condition (a test runner's "source", which would point the
 * compiled thread at TypeScript files) the flags are given without it; a Worker refuses
 * per-process flags in `execArgv`, so the heap limits are not passed on that way.
 */
export function workerOptions(): { execArgv?: string[] } {
  const args = process.execArgv;
  if (!args.some((a) => a === '--conditions' || a === '-C' || /^(--conditions|-C)=/.test(a))) return {};
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--conditions' || a === '-C') {
      i++;
      continue;
    }
    if (/^(--conditions|-C)=|^--max-(old|semi)-space-size/.test(a)) continue;
    out.push(a);
  }
  return { execArgv: out };
}
