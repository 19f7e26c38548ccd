import { ID_PATTERN } from '@sharemap/api';
import { createHash, randomBytes } from 'node:crypto';

/** A random id of 128 bits, base64url (22 characters): report links are capabilities. */
export function newId(): string {
  return randomBytes(16).toString('base64url');
}

/** Ids the server hands out look like this; anything else is 404 without a lookup. */
export const ID_RE = new RegExp(ID_PATTERN);

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
