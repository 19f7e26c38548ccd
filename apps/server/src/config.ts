/**
 * Server configuration: defaults, environment variables and command-line flags
 * (docs/server.md). `createApp()` takes a resolved `ServerConfig`; `main.ts` builds one
 * with `loadConfig(process.env, process.argv.slice(2))`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErofsError, parseLz4DecoderEnv, type Lz4DecoderKind } from '@sharemap/erofs/node';
import { trimTrailingSlashes } from '@sharemap/sharing';
import { resolveRetention, retentionFromEnv, type RetentionConfig } from './gc/retention.js';
import { MAX_JOB_LEASE_MS, resolveLimits, type Limits } from './limits.js';
import { DATABASE_URL_RE, redactUrl } from './storage/open.js';

export interface ServerConfig {
  /** TCP port (default 8080; 0 picks a free one). */
  port: number;
  /** Address to listen on (default all interfaces, "::" / "0.0.0.0"). */
  host: string | undefined;
  /** Data folder: SQLite file, blob folder and the domain-redaction key (default ./data). */
  dataDir: string;
  /**
   * PostgreSQL instead of the data folder's SQLite file (`postgres://user:pass@host:5432/db`);
   * the blobs stay in the data folder. Default: none (SQLite).
   */
  databaseUrl: string | undefined;
  /**
   * The data folder is shared by several replicas (NFS or a volume) on one PostgreSQL: no
   * `server.lock`, no startup sweep of temp files and unreferenced blobs (another replica may
   * be writing them). Needs `databaseUrl` (default false; docs/server.md#several-replicas).
   */
  sharedData: boolean;
  /** Uploads and report creation need `Authorization: Bearer <token>` (default false). */
  requireToken: boolean;
  /** Extra admin token (compared hashed), e.g. from a secret store; tokens created with `admin` work too. */
  adminToken: string | undefined;
  /** Built web UI (default apps/web/dist of the repository). */
  webDir: string;
  /** Folder of the demo images and mount configuration (default the repository's testdata); null: no demo. */
  demoDir: string | null;
  /** Absolute base URL used in report links (default: links relative to the request's host). */
  publicUrl: string | undefined;
  /** Log level: "debug" | "info" | "warn" | "error" | "silent" (default info). */
  logLevel: LogLevel;
  limits: Limits;
  /** Expiry of reports and uploads, garbage collection (gc/retention.ts, docs/server.md#retention). */
  retention: RetentionConfig;
  /**
   * The LZ4 decoder of the scan workers (SHAREMAP_LZ4_DECODER; default wasm), handed to each
   * worker thread as it starts (docs/reader.md#lz4-decoders).
   */
  lz4Decoder: Lz4DecoderKind;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Root of the repository (apps/server/{src,dist}/config.* -> ../../..). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function defaultConfig(): ServerConfig {
  const demo = path.join(repoRoot, 'testdata');
  return {
    port: 8080,
    host: undefined,
    dataDir: path.resolve('data'),
    databaseUrl: undefined,
    sharedData: false,
    requireToken: false,
    adminToken: undefined,
    webDir: path.join(repoRoot, 'apps/web/dist'),
    demoDir: existsSync(demo) ? demo : null,
    publicUrl: undefined,
    logLevel: 'info',
    limits: resolveLimits(),
    retention: resolveRetention(),
    lz4Decoder: 'wasm',
  };
}

const truthy = (v: string | undefined): boolean => v !== undefined && /^(1|true|yes|on)$/i.test(v);

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Usage text of `node apps/server/dist/main.js --help`. */
export const USAGE = `usage: node apps/server/dist/main.js [--port N] [--host H] [--data DIR] [--web DIR]
                                   [--database-url postgres://...] [--shared-data] [--require-token]
                                   [--no-demo] [--public-url URL]
environment: PORT, HOST, SHAREMAP_DATA, SHAREMAP_DATABASE_URL, SHAREMAP_SHARED_DATA=1, SHAREMAP_WEB_DIR,
  SHAREMAP_REQUIRE_TOKEN=1, SHAREMAP_ADMIN_TOKEN, SHAREMAP_DEMO=0, SHAREMAP_DEMO_DIR, SHAREMAP_PUBLIC_URL,
  SHAREMAP_LOG_LEVEL, SHAREMAP_REPORT_TTL_DAYS, SHAREMAP_UPLOAD_TTL_DAYS, SHAREMAP_GC_INTERVAL_MINUTES,
  SHAREMAP_GC_GRACE_MINUTES, SHAREMAP_LZ4_DECODER=js|wasm, and every limit as SHAREMAP_<LIMIT> (docs/server.md)
`;

/** Configuration from the environment and flags (flags win), on top of the defaults. */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  argv: string[] = [],
  base: ServerConfig = defaultConfig(),
): ServerConfig {
  const c: ServerConfig = {
    ...base,
    limits: resolveLimits({}, env),
    retention: { ...base.retention, ...retentionFromEnv(env) },
  };
  const port = (text: string | undefined, what: string): number | undefined => {
    if (text === undefined || text === '') return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0 || n > 65535)
      throw new ConfigError(`${what}: expected a port number 0-65535, got ${JSON.stringify(text)}`);
    return n;
  };
  c.port = port(env.PORT, 'PORT') ?? c.port;
  if (env.HOST) c.host = env.HOST;
  if (env.SHAREMAP_DATA) c.dataDir = path.resolve(env.SHAREMAP_DATA);
  if (env.SHAREMAP_DATABASE_URL)
    c.databaseUrl = databaseUrl(env.SHAREMAP_DATABASE_URL, 'SHAREMAP_DATABASE_URL');
  if (env.SHAREMAP_SHARED_DATA !== undefined) c.sharedData = truthy(env.SHAREMAP_SHARED_DATA);
  if (env.SHAREMAP_WEB_DIR) c.webDir = path.resolve(env.SHAREMAP_WEB_DIR);
  if (env.SHAREMAP_REQUIRE_TOKEN !== undefined) c.requireToken = truthy(env.SHAREMAP_REQUIRE_TOKEN);
  if (env.SHAREMAP_ADMIN_TOKEN) c.adminToken = env.SHAREMAP_ADMIN_TOKEN;
  if (env.SHAREMAP_DEMO_DIR) c.demoDir = path.resolve(env.SHAREMAP_DEMO_DIR);
  if (env.SHAREMAP_DEMO !== undefined && !truthy(env.SHAREMAP_DEMO)) c.demoDir = null;
  if (env.SHAREMAP_PUBLIC_URL) c.publicUrl = trimTrailingSlashes(env.SHAREMAP_PUBLIC_URL);
  if (env.SHAREMAP_LOG_LEVEL) c.logLevel = logLevel(env.SHAREMAP_LOG_LEVEL);
  c.lz4Decoder = lz4Decoder(env) ?? c.lz4Decoder;

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const value = (): string => {
      if (eq > 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new ConfigError(`${name}: missing value`);
      return v;
    };
    switch (name) {
      case '--port':
        c.port = port(value(), '--port')!;
        break;
      case '--host':
        c.host = value();
        break;
      case '--data':
        c.dataDir = path.resolve(value());
        break;
      case '--database-url':
        c.databaseUrl = databaseUrl(value(), '--database-url');
        break;
      case '--shared-data':
        c.sharedData = true;
        break;
      case '--web':
        c.webDir = path.resolve(value());
        break;
      case '--require-token':
        c.requireToken = true;
        break;
      case '--no-demo':
        c.demoDir = null;
        break;
      case '--public-url':
        c.publicUrl = trimTrailingSlashes(value());
        break;
      case '--log-level':
        c.logLevel = logLevel(value());
        break;
      default:
        throw new ConfigError(`unknown option ${a}\n${USAGE}`);
    }
  }
  if (c.limits.jobLeaseMs > MAX_JOB_LEASE_MS)
    throw new ConfigError(
      `SHAREMAP_JOB_LEASE_MS: at most ${MAX_JOB_LEASE_MS} (23 hours, pg-boss's longest expiration), got ${c.limits.jobLeaseMs}`,
    );
  if (c.sharedData && c.databaseUrl === undefined)
    throw new ConfigError(
      'SHAREMAP_SHARED_DATA (--shared-data) needs SHAREMAP_DATABASE_URL: replicas share one PostgreSQL database, SQLite serves one process',
    );
  return c;
}

/** A postgres:// or postgresql:// URL (its password never appears in the message). */
function databaseUrl(v: string, what: string): string {
  if (!DATABASE_URL_RE.test(v))
    throw new ConfigError(
      `${what}: expected a postgres://user:password@host:port/database URL, got ${redactUrl(v)}`,
    );
  return v;
}

/** SHAREMAP_LZ4_DECODER: a bad value stops the server from starting, naming the variable. */
function lz4Decoder(env: Record<string, string | undefined>): Lz4DecoderKind | undefined {
  try {
    return parseLz4DecoderEnv(env);
  } catch (e) {
    throw new ConfigError(e instanceof ErofsError ? e.detail : (e as Error).message);
  }
}

function logLevel(v: string): LogLevel {
  if (v === 'debug' || v === 'info' || v === 'warn' || v === 'error' || v === 'silent') return v;
  throw new ConfigError(`log level: expected debug, info, warn, error or silent, got ${JSON.stringify(v)}`);
}
