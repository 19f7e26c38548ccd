// esbuild settings shared by the packed CLI (pack-cli.mjs) and the GitHub Action
// (build-action.mjs): one ESM file for Node 20 from the TypeScript sources of the workspace.
import { build } from 'esbuild';

export const bundleOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['source'],
  legalComments: 'none',
  logLevel: 'warning',
  // Bundled CommonJS (express, yaml's dependencies) calls require() for Node built-ins.
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
};

/** `@sharemap/server` as the bundle `./server.js` beside the entry (loaded only by serve/token). */
export const serverBeside = {
  name: 'server-beside',
  setup(b) {
    b.onResolve({ filter: /^@sharemap\/server$/ }, () => ({ path: './server.js', external: true }));
  },
};

export function bundle(opts) {
  return build({ ...bundleOptions, ...opts });
}
