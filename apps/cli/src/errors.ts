/**
 * Exit codes and the one-line error convention of the `sharemap` command (docs/cli.md).
 *
 *   0  pass (or a command that has no gate succeeded)
 *   1  a threshold of the gate failed
 *   2  bad input or usage (unknown flag, unreadable or corrupt image, bad manifest,
 *      bad mount configuration, invalid .sharemap.yml)
 *   3  server or network error (connection refused, timeout, 5xx, unexpected reply)
 */
export const EXIT_OK = 0;
export const EXIT_GATE_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_SERVER = 3;

export type ExitCode = typeof EXIT_OK | typeof EXIT_GATE_FAILED | typeof EXIT_BAD_INPUT | typeof EXIT_SERVER;

/** An error the CLI reports as one line on stderr and turns into an exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/** Bad usage or bad input: exit 2. */
export function inputError(message: string, cause?: unknown): CliError {
  return new CliError(EXIT_BAD_INPUT, message, cause === undefined ? undefined : { cause });
}

/** Server or network failure: exit 3. */
export function serverError(message: string, cause?: unknown): CliError {
  return new CliError(EXIT_SERVER, message, cause === undefined ? undefined : { cause });
}

/** Collapse a message to one line (errors are one line on stderr, never a stack trace). */
export function oneLine(s: string): string {
  // Split and trim (linear), not /\s*\r?\n\s*/g, which rescans runs of blank space.
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ');
}
