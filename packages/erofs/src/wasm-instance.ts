/**
 * Instantiating the package's small WebAssembly modules (wasm/*.wat, their bytes generated into
 * *-wasm-bytes.ts by scripts/build-wasm.mjs): synchronously, on a thread's first use, with no
 * file to fetch, in Node, its worker threads and the browser alike.
 */

/**
 * The part of the WebAssembly API used here: the package compiles against ES2023 without the
 * DOM library, which is where TypeScript declares WebAssembly.
 */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

function base64Bytes(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * The exports of a new instance of the module whose bytes are `base64` (no imports), or null
 * where WebAssembly is missing or refused (a Content-Security-Policy without 'wasm-unsafe-eval'):
 * the caller then uses its JavaScript path. Never throws.
 */
export function instantiateWasm(base64: string): unknown {
  try {
    const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (!api) return null;
    return new api.Instance(new api.Module(base64Bytes(base64)), {}).exports;
  } catch {
    return null;
  }
}
