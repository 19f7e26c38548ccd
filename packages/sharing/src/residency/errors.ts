/**
 * Errors of the residency parsers: a code, the problem, and the `file:line:column` where it is
 * (house style, like MountConfigError).
 */
import { MountConfigError } from '../mounts/errors.js';

export type ResidencyErrorCode =
  | 'too-large' // input exceeds a bound of limits.ts
  | 'malformed-line' // a line does not have the shape its format requires
  | 'bad-json' // JSON syntax error
  | 'bad-record' // a JSON record with a missing field or a field of the wrong type or value
  | 'bad-snapshot' // a host snapshot of the wrong shape or version
  | 'unknown-format'; // format detection failed

export class ResidencyError extends Error {
  override readonly name = 'ResidencyError';
  readonly code: ResidencyErrorCode;
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based, in UTF-16 code units of the line. */
  readonly column: number;
  /** The problem alone, without the location prefix. */
  readonly problem: string;

  constructor(code: ResidencyErrorCode, problem: string, file: string, line: number, column: number) {
    super(`${file}:${line}:${column}: ${problem}`);
    this.code = code;
    this.problem = problem;
    this.file = file;
    this.line = line;
    this.column = column;
  }
}

/** Runs a shared text helper of mounts/ and turns its MountConfigError into a ResidencyError. */
export function asResidencyError<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof MountConfigError) {
      const code =
        e.code === 'too-large' ? 'too-large' : e.code === 'bad-json' ? 'bad-json' : 'malformed-line';
      throw new ResidencyError(code, e.problem, e.file, e.line, e.column);
    }
    throw e;
  }
}
