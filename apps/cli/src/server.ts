/**
 * apps/server for `serve` and `token create`, loaded on demand so that `scan`, `analyze` and
 * `upload` start fast and work where the server's native SQLite module is not installed.
 */
import type * as ServerModuleNs from '@sharemap/server';
import { inputError, oneLine } from './errors.js';

type ServerModule = typeof ServerModuleNs;

export async function loadServer(): Promise<Pick<ServerModule, 'start' | 'createTokenIn' | 'revokeTokenIn' | 'listTokensIn'>> {
  try {
    return await import('@sharemap/server');
  } catch (e) {
    throw inputError(
      `the sharemap server cannot be loaded here (${oneLine((e as Error).message)}); run pnpm install && pnpm build in the repository`,
    );
  }
}
