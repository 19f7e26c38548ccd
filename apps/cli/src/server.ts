/**
 * Loading apps/server for `serve` and `token create`. Imported dynamically so that the CLI
 * works (scan, analyze, upload) where the server package and its native SQLite module are not
 * installed. Adapts to the server's exports.
 */
import { inputError } from './errors.js';

export interface ServerStartOptions {
  port?: number;
  host?: string;
  dataDir?: string;
  requireToken?: boolean;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export interface ServerModule {
  start(opts: ServerStartOptions): Promise<RunningServer>;
  createTokenIn(dataDir: string | undefined, name: string): Promise<string>;
}

export async function loadServer(): Promise<ServerModule> {
  const spec = '@sharemap/server';
  let mod: Record<string, unknown>;
  try {
    mod = (await import(spec)) as Record<string, unknown>;
  } catch (e) {
    throw inputError(
      `the sharemap server is not available here (${(e as Error).message.split('\n')[0]}); build it with pnpm build`,
    );
  }
  return adaptServer(mod);
}

export function adaptServer(mod: Record<string, unknown>): ServerModule {
  void mod;
  throw inputError(
    'this build of the sharemap server does not export what `sharemap serve` and `sharemap token` need',
  );
}
