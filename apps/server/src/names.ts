import { badRequest } from './errors.js';

/**
 * A display name from an untrusted file name: its last path component (either separator),
 * at most 255 bytes, no control characters, not "." or "..". Names are metadata only:
 * blobs are stored under their sha256, never under a given name.
 */
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

export function safeName(raw: string | undefined, what = 'name'): string {
  if (raw === undefined || raw === '') throw badRequest('bad-name', `${what} is missing`);
  const base = raw.split(/[\\/]/).pop() ?? '';
  if (!base || base === '.' || base === '..' || CONTROL_RE.test(base) || Buffer.byteLength(base) > 255)
    throw badRequest('bad-name', `${what} ${JSON.stringify(raw.slice(0, 100))} is not a usable file name`);
  return base;
}

/** A query parameter as one string (Express 5's parser may give arrays or objects). */
export function queryString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
