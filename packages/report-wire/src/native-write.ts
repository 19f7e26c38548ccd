/** A native Buffer string write called on any Uint8Array: bytes written, as Node's Buffer methods return. */
export type NativeStringWrite = (this: Uint8Array, s: string, offset: number, length: number) => number;

/**
 * Node's `Buffer.prototype[name]` (`utf8Write`, `latin1Write`: they take any Uint8Array as
 * `this`), or null where there is no Buffer (a browser): the writers' fast paths for strings
 * (files.ts, json-bytes.ts), each with a loop beside it for browsers.
 */
export function nativeStringWrite(name: 'utf8Write' | 'latin1Write'): NativeStringWrite | null {
  const write = (globalThis as { Buffer?: { prototype: Partial<Record<typeof name, unknown>> } }).Buffer
    ?.prototype[name];
  return typeof write === 'function' ? (write as NativeStringWrite) : null;
}
