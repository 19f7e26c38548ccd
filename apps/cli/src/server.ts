/**
 * apps/server for `serve` and `token create`, loaded on demand so that `scan`, `analyze` and
 * `upload` start fast and work where the server's native SQLite module is not installed.
 */
import type * as ServerModuleNs from '@sharemap/server';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inputError, oneLine } from './errors.js';

type ServerModule = typeof ServerModuleNs;

/**
 * The packed CLI (scripts/pack-cli.mjs) bundles the server beside its entry, with the web UI in
 * dist/web, and leaves out better-sqlite3 (an optional peer dependency: native, compiled).
 */
const PACKED_WEB_DIR = new URL('./web/', import.meta.url);

export async function loadServer(): Promise<
  Pick<ServerModule, 'start' | 'createTokenIn' | 'revokeTokenIn' | 'listTokensIn'>
> {
  if (!process.env.SHAREMAP_WEB_DIR && existsSync(new URL('index.html', PACKED_WEB_DIR)))
    process.env.SHAREMAP_WEB_DIR = fileURLToPath(PACKED_WEB_DIR);
  try {
    return await import('@sharemap/server');
  } catch (e) {
    const msg = oneLine((e as Error).message);
    if (/better-sqlite3/.test(msg))
      throw inputError(
        'serve and token need the optional native module better-sqlite3, which is not installed: npm install -g better-sqlite3@12 (beside a global sharemap), or npm install better-sqlite3@12 next to a local one',
      );
    throw inputError(
      `the sharemap server cannot be loaded here (${msg}); run pnpm install && pnpm build in the repository`,
    );
  }
}
