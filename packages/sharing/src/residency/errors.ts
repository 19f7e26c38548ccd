/**
 * Errors of the residency parsers: a code, the problem, and the `file:line:column` where it is
 * (house style, like MountConfigError).
 */
import { LocatedError } from '../located-error.js';
import { MountConfigError } from '../mounts/errors.js';

export type ResidencyErrorCode =
  | 'too-large' // input exceeds a bound of limits.ts
  | 'malformed-line' // a line does not have the shape its format requires
  | 'bad-json' // JSON syntax error
  | 'bad-record' // a JSON record with a missing field or a field of the wrong type or value
  | 'bad-snapshot' // a host snapshot of the wrong shape or version
  | 'unknown-format'; // format detection failed

export class ResidencyError extends LocatedError<ResidencyErrorCode> {
  override readonly name = 'ResidencyError';
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
