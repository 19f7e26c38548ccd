/**
 * `--threads N`: the digest threads of every command that scans EROFS images with `--hash`
 * (`scan`, `analyze`, `upload --scan-locally`; docs/cli.md#digest-threads). One option table
 * entry and one parser, so the commands cannot disagree on its meaning or its limit.
 */
import { defaultDigestThreads, MAX_DIGEST_THREADS } from '@sharemap/erofs/node';
import { str, type OptionSpec, type ParsedArgs } from './args.js';
import { inputError } from './errors.js';
import {
  DIGEST_THREADS_MIN_BYTES,
  DIGEST_THREADS_MIN_BYTES_ENV,
  digestThreadsMinBytes,
  digestThreadsPay,
} from './scan-split-start.js';
import { parseCount } from './units.js';

/** The most digest threads `--threads` takes (docs/cli.md#digest-threads): more than cores only adds switching. */
export const MAX_SCAN_THREADS = 64;

/** The option's help entry, in the help section `group` of the command that takes it. */
export function threadsOption(group?: string): OptionSpec {
  return {
    type: 'string',
    value: 'N',
    description: `With --hash: threads that read and hash file content beside the one that walks the image (default: one per available core beside the walking thread's, at most ${MAX_DIGEST_THREADS}, and none for an image file under ${DIGEST_THREADS_MIN_BYTES >> 20} MiB; 0 hashes in the walking thread; at most ${MAX_SCAN_THREADS}).`,
    ...(group !== undefined ? { group } : {}),
  };
}

/** `--threads N` of `sharemap COMMAND` when given; undefined when not. */
export function requestedThreads(args: ParsedArgs, command: string): number | undefined {
  const text = str(args, 'threads');
  if (text === undefined) return undefined;
  const n = parseCount(text);
  if (n === null || n > MAX_SCAN_THREADS)
    throw inputError(
      `sharemap ${command}: --threads must be an integer from 0 to ${MAX_SCAN_THREADS}, not ${JSON.stringify(text)}`,
    );
  return n;
}

/**
 * The digest threads for hashing the image file at `path`: `requested` (`--threads`) when
 * given; otherwise the default, or none for an image file under DIGEST_THREADS_MIN_BYTES, which
 * would wait for its threads to start longer than they save (docs/cli.md#digest-threads). The
 * one rule of `scan`, `analyze` and `upload --scan-locally`.
 */
export function digestThreadsFor(
  path: string,
  requested: number | undefined,
  env: Record<string, string | undefined>,
): number {
  if (requested !== undefined) return requested;
  if (digestThreadsMinBytes(env) === null)
    throw inputError(
      `${DIGEST_THREADS_MIN_BYTES_ENV} must be a byte count (0 or more), not ${JSON.stringify(env[DIGEST_THREADS_MIN_BYTES_ENV]!.slice(0, 40))}`,
    );
  return digestThreadsPay(path, env) ? defaultDigestThreads() : 0;
}
