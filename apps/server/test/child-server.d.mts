// Types of child-server.mjs (shared by the server tests and bench/).
import type { ChildProcess } from 'node:child_process';

export interface ServerChild {
  proc: ChildProcess;
  url: string;
  /** The tail of the server's stderr so far. */
  stderr(): string;
}
export function startServerChild(
  dataDir: string,
  env?: Record<string, string>,
  opts?: { startTimeoutMs?: number; nodeArgs?: readonly string[] },
): Promise<ServerChild>;
