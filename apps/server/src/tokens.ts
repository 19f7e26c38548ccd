/**
 * API tokens for CI: `smt_` + 32 random bytes (base64url). Only the sha256 of a token is
 * stored; `createToken` returns the token itself once.
 */
import { TOKEN_NAME_PATTERN } from '@sharemap/api';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import type { RequestHandler } from 'express';
import type { AppContext } from './context.js';
import { HttpError } from './errors.js';
import { sha256Hex } from './ids.js';
import { nowIso, type Db } from './storage/db.js';
import { openStore } from './storage/open.js';
import { Store } from './storage/store/store.js';
import { defaultConfig } from './config.js';

export const TOKEN_NAME_RE = new RegExp(TOKEN_NAME_PATTERN);

export interface TokenInfo {
  id: number;
  name: string;
  admin: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

/** A new token and the row that stores it (its sha256, never the token). */
function newToken(
  name: string,
  opts: { admin?: boolean },
): { token: string; row: { name: string; hash: string; admin: number; created_at: string } } {
  if (!TOKEN_NAME_RE.test(name))
    throw new RangeError('token name must be 1-64 letters, digits, ".", "_", "@" or "-"');
  const token = `smt_${randomBytes(32).toString('base64url')}`;
  return { token, row: { name, hash: sha256Hex(token), admin: opts.admin ? 1 : 0, created_at: nowIso() } };
}

/**
 * Create a token named `name` (admin tokens may also list reports); returns the token once.
 * Through the store (any backend, asynchronous) or a SQLite connection (synchronous).
 */
export function createToken(db: Db, name: string, opts?: { admin?: boolean }): string;
export function createToken(store: Store, name: string, opts?: { admin?: boolean }): Promise<string>;
export function createToken(
  target: Db | Store,
  name: string,
  opts: { admin?: boolean } = {},
): string | Promise<string> {
  const { token, row } = newToken(name, opts);
  if (target instanceof Store) return target.tokens.insert(row).then(() => token);
  target
    .prepare('INSERT INTO tokens (name, hash, admin, created_at) VALUES (?, ?, ?, ?)')
    .run(row.name, row.hash, row.admin, row.created_at);
  return token;
}

/**
 * Revoke (delete) every token named `name`; returns how many there were. A revoked token is
 * refused at its next request (401 "unknown or revoked token"): tokens are looked up per request.
 */
export function revokeToken(store: Store, name: string): Promise<number> {
  return store.tokens.deleteByName(name);
}

/**
 * The database of a server's data folder, or its PostgreSQL database when
 * SHAREMAP_DATABASE_URL is set (SQLite's own locking lets this run beside the server).
 */
async function withTokenStore<T>(dataDir: string | undefined, fn: (store: Store) => Promise<T>): Promise<T> {
  const dir = path.resolve(dataDir ?? process.env.SHAREMAP_DATA ?? defaultConfig().dataDir);
  mkdirSync(dir, { recursive: true });
  const { store } = await openStore({
    dataDir: dir,
    databaseUrl: process.env.SHAREMAP_DATABASE_URL || undefined,
  });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** `sharemap token create NAME [--data DIR]`: create a token in a server's data folder. */
export async function createTokenIn(
  dataDir: string | undefined,
  name: string,
  opts: { admin?: boolean } = {},
): Promise<string> {
  return withTokenStore(dataDir, (store) => createToken(store, name, opts));
}

/** `sharemap token revoke NAME`: how many tokens named NAME were revoked. */
export async function revokeTokenIn(dataDir: string | undefined, name: string): Promise<number> {
  return withTokenStore(dataDir, (store) => revokeToken(store, name));
}

/** `sharemap token list`: the tokens of a data folder with their last use (never the tokens). */
export async function listTokensIn(dataDir: string | undefined): Promise<TokenInfo[]> {
  return withTokenStore(dataDir, (store) => listTokens(store));
}

export async function listTokens(store: Store): Promise<TokenInfo[]> {
  return (await store.tokens.list()).map((r) => ({
    id: r.id,
    name: r.name,
    admin: r.admin === 1,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
  }));
}

function bearer(header: string | undefined): string | null | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ ]+([A-Za-z0-9._~+/=-]{1,512})\s*$/i.exec(header);
  return m ? m[1]! : null;
}

export interface Principal {
  name: string;
  admin: boolean;
}

/** Who the request's bearer token belongs to: undefined without a header; throws 401 on a bad one. */
export async function authenticate(
  ctx: AppContext,
  header: string | undefined,
): Promise<Principal | undefined> {
  const tok = bearer(header);
  if (tok === undefined) return undefined;
  if (tok === null)
    throw new HttpError(401, 'unauthorized', 'malformed Authorization header: expected "Bearer <token>"');
  const hash = sha256Hex(tok);
  const admin = ctx.config.adminToken;
  if (admin !== undefined) {
    const a = Buffer.from(sha256Hex(admin), 'hex');
    if (timingSafeEqual(a, Buffer.from(hash, 'hex'))) return { name: 'admin', admin: true };
  }
  const row = await ctx.store.tokens.byHash(hash);
  if (!row) throw new HttpError(401, 'unauthorized', 'unknown or revoked token');
  await ctx.store.tokens.touch(row.id, nowIso());
  return { name: row.name, admin: row.admin === 1 };
}

const challenge = { 'WWW-Authenticate': 'Bearer realm="sharemap"' };

/** The principal requireWriter found (undefined: no token sent, on a server that allows that). */
export function principalOf(res: { locals: Record<string, unknown> }): Principal | undefined {
  return res.locals.principal as Principal | undefined;
}

/**
 * Writes (uploads, report creation, setting report names) and reads of report names: a valid
 * token when the server requires tokens; a bad token is refused either way. The principal is
 * left in `res.locals.principal` (see principalOf).
 */
export function requireWriter(ctx: AppContext): RequestHandler {
  return async (req, res, next) => {
    try {
      const who = await authenticate(ctx, req.headers.authorization);
      res.locals.principal = who;
      if (!who && ctx.config.requireToken) {
        res.set(challenge);
        throw new HttpError(
          401,
          'unauthorized',
          'this server requires a token: send "Authorization: Bearer <token>" (sharemap token create NAME)',
        );
      }
      next();
    } catch (e) {
      if (e instanceof HttpError && e.status === 401) res.set(challenge);
      next(e);
    }
  };
}

/** Admin routes (listing reports, creating tokens): an admin token, always. */
export function requireAdmin(ctx: AppContext): RequestHandler {
  return async (req, res, next) => {
    try {
      const who = await authenticate(ctx, req.headers.authorization);
      if (!who) {
        res.set(challenge);
        throw new HttpError(401, 'unauthorized', 'an admin token is required');
      }
      if (!who.admin) throw new HttpError(403, 'forbidden', `token "${who.name}" is not an admin token`);
      next();
    } catch (e) {
      if (e instanceof HttpError && e.status === 401) res.set(challenge);
      next(e);
    }
  };
}
