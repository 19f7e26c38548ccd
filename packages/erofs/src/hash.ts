/**
 * Streaming SHA-256 behind a small factory interface, so the universal code takes a
 * hasher instead of importing node:crypto: node.ts injects node:crypto, browsers use
 * hash-wasm (WebAssembly, streaming, works in workers).
 */
export interface Hasher {
  update(data: Uint8Array): void;
  /** Lower-case hex digest; the hasher must not be used afterwards. */
  digestHex(): string;
}

export type HasherFactory = () => Hasher | Promise<Hasher>;

/** SHA-256 via hash-wasm (browser and Node). */
export const wasmSha256: HasherFactory = async () => {
  const { createSHA256 } = await import('hash-wasm');
  const h = await createSHA256();
  h.init();
  return {
    update: (d) => {
      h.update(d);
    },
    digestHex: () => h.digest('hex'),
  };
};
