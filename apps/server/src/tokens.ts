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
import { DB_FILE } from './context.js';
import { HttpError } from './errors.js';
import { sha256Hex } from './ids.js';
import { nowIso, openDb, type Db } from './storage/db.js';
import { defaultConfig } from './config.js';

export const TOKEN_NAME_RE = new RegExp(TOKEN_NAME_PATTERN);

export interface TokenInfo {
  id: number;
  name: string;
  admin: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

/** Create a token named `name` (admin tokens may also list reports); returns the token once. */
export function createToken(db: Db, name: string, opts: { admin?: boolean } = {}): string {
  if (!TOKEN_NAME_RE.test(name))
    throw new RangeError('token name must be 1-64 letters, digits, ".", "_", "@" or "-"');
  const token = `smt_${randomBytes(32).toString('base64url')}`;
  db.prepare('INSERT INTO tokens (name, hash, admin, created_at) VALUES (?, ?, ?, ?)').run(
    name,
    sha256Hex(token),
    opts.admin ? 1 : 0,
    nowIso(),
  );
  return token;
}

/**
 * Revoke (delete) every token named `name`; returns how many there were. A revoked token is
 * refused at its next request (401 "unknown or revoked token"): tokens are looked up per request.
 */
export function revokeToken(db: Db, name: string): number {
  return db.prepare('DELETE FROM tokens WHERE name = ?').run(name).changes;
}

/** The database of a server's data folder (SQLite's own locking lets this run beside the server). */
function withTokenDb<T>(dataDir: string | undefined, fn: (db: Db) => T): T {
  const dir = dataDir ?? process.env.SHAREMAP_DATA ?? defaultConfig().dataDir;
  mkdirSync(dir, { recursive: true });
  const db = openDb(path.join(path.resolve(dir), DB_FILE));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** `sharemap token create NAME [--data DIR]`: create a token in a server's data folder. */
export async function createTokenIn(
  dataDir: string | undefined,
  name: string,
  opts: { admin?: boolean } = {},
): Promise<string> {
  return withTokenDb(dataDir, (db) => createToken(db, name, opts));
}

/** `sharemap token revoke NAME`: how many tokens named NAME were revoked. */
export async function revokeTokenIn(dataDir: string | undefined, name: string): Promise<number> {
  return withTokenDb(dataDir, (db) => revokeToken(db, name));
}

/** `sharemap token list`: the tokens of a data folder with their last use (never the tokens). */
export async function listTokensIn(dataDir: string | undefined): Promise<TokenInfo[]> {
  return withTokenDb(dataDir, (db) => listTokens(db));
}

export function listTokens(db: Db): TokenInfo[] {
  return (
    db.prepare('SELECT id, name, admin, created_at, last_used_at FROM tokens ORDER BY id').all() as {
      id: number;
      name: string;
      admin: number;
      created_at: string;
      last_used_at: string | null;
    }[]
  ).map((r) => ({
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
export function authenticate(ctx: AppContext, header: string | undefined): Principal | undefined {
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
  const row = ctx.db.prepare('SELECT id, name, admin FROM tokens WHERE hash = ?').get(hash) as
    { id: number; name: string; admin: number } | undefined;
  if (!row) throw new HttpError(401, 'unauthorized', 'unknown or revoked token');
  ctx.db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(nowIso(), row.id);
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
  return (req, res, next) => {
    try {
      const who = authenticate(ctx, req.headers.authorization);
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
  return (req, res, next) => {
    try {
      const who = authenticate(ctx, req.headers.authorization);
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
