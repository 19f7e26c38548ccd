/**
 * Errors of the mount-configuration parsers: a value with a code, a message a human
 * understands, and the `file:line:column` of the problem (house style). Messages never
 * contain a raw `domain_id` value (sharing-rules R11).
 */
import { LocatedError } from '../located-error.js';

export type MountConfigErrorCode =
  | 'too-large' // input exceeds a bound of limits.ts
  | 'malformed-line' // a line does not have the shape its format requires
  | 'bad-option-value' // an EROFS option with an invalid value (the kernel would refuse it too)
  | 'unterminated-quote' // shell: a quote that never closes
  | 'bad-json' // JSON syntax error
  | 'bad-plan' // JSON plan: a field of the wrong type or value
  | 'bad-losetup' // losetup --json output of the wrong shape
  | 'bad-snapshot' // a `sharemap collect` host snapshot of the wrong shape
  | 'unknown-format' // format detection failed
  | 'contradictory-mounts'; // two mounts of one block device over different images (R9)

export class MountConfigError extends LocatedError<MountConfigErrorCode> {
  override readonly name = 'MountConfigError';
}
