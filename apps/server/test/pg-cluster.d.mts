// Types of pg-cluster.mjs (shared by the server tests and bench/).
export interface PgCluster {
  /** postgres://sharemap@127.0.0.1:PORT/postgres (trust authentication, loopback only). */
  url: string;
  port: number;
  dir: string;
  /** A URL of another database of the cluster, created empty. */
  createDatabase(name: string): string;
  stop(): void;
}
export function pgBinDir(): string;
/** A port free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number>;
export function startPgCluster(): Promise<PgCluster>;
