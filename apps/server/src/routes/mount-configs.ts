/**
 * Mount configurations: any format packages/sharing parses. Domain ids are redacted at parse
 * time with the server's persistent HMAC key, so equal domains get equal labels across
 * uploads; only the redacted parse result is stored or returned.
 */
import express, { Router, type Request, type Response } from 'express';
import {
  MountConfigError,
  type MountConfig,
  type MountConfigErrorCode,
  type MountFormat,
} from '@sharemap/sharing';
import { declaredBodyLimit } from '../body.js';
import type { AppContext } from '../context.js';
import { badRequest, notFound, unprocessable, unsupportedMediaType } from '../errors.js';
import { TaskError, WALL_CEILING_FACTOR, wallCeilingMs, WORKER_START_ALLOWANCE_MS } from '../scan/pool.js';
import type { MountConfigResult, MountConfigTask } from '../scan/tasks.js';
import { ID_RE, newId } from '../ids.js';
import { queryString, safeName } from '../names.js';
import { nowIso } from '../storage/db.js';
import { requireWriter } from '../tokens.js';

export const MOUNT_FORMATS: readonly MountFormat[] = [
  'mountinfo',
  'proc-mounts',
  'fstab',
  'systemd-unit',
  'mount-commands',
  'losetup-json',
  'plan',
  'host-snapshot',
];

function format(v: unknown): MountFormat | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string' && (MOUNT_FORMATS as readonly string[]).includes(v)) return v as MountFormat;
  throw badRequest('bad-request', `format must be one of ${MOUNT_FORMATS.join(', ')}`);
}

/**
 * One parse at a time: labels (D1, D2, ...) are numbered in order of first appearance over
 * the server's life, so two parses must not both hand out the next number.
 */
let parseChain: Promise<unknown> = Promise.resolve();

function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const run = parseChain.then(fn, fn);
  parseChain = run.catch(() => undefined);
  return run;
}

/**
 * Parse in a worker thread (bounded by `mountConfigParseTimeoutMs` of the worker's CPU time,
 * counted from when it begins the parse, docs/server.md#time-limits) with the server's
 * redactor, then persist the newly assigned labels and the configuration in one transaction.
 */
export function parseAndStore(
  ctx: AppContext,
  text: string,
  fileName: string | undefined,
  fmt: MountFormat | undefined,
): Promise<{ id: string; name: string; config: MountConfig }> {
  return serialized(async () => {
    const known = await ctx.store.mountConfigs.labels();
    const task: MountConfigTask = { kind: 'mount-config', text, domainKey: ctx.domainKey, known };
    if (fileName !== undefined) task.file = fileName;
    if (fmt) task.format = fmt;
    const limit = ctx.config.limits.mountConfigParseTimeoutMs;
    let result: MountConfigResult;
    try {
      result = await ctx.parses.run<MountConfigResult>(task, { timeoutMs: limit });
    } catch (e) {
      if (e instanceof TaskError && (e.code === 'timeout' || e.code === 'out-of-memory'))
        throw unprocessable(
          'bad-mount-config',
          e.code === 'out-of-memory'
            ? `parsing the mount configuration ran out of memory`
            : e.bound === 'wall'
              ? `parsing the mount configuration did not finish within ${wallCeilingMs(limit)} ms of wall-clock time (${WALL_CEILING_FACTOR} x SHAREMAP_MOUNT_CONFIG_PARSE_TIMEOUT_MS + ${WORKER_START_ALLOWANCE_MS} ms) and was stopped`
              : `parsing the mount configuration used more than ${limit} ms of CPU time (SHAREMAP_MOUNT_CONFIG_PARSE_TIMEOUT_MS) and was stopped`,
          { reason: e.code },
        );
      throw e;
    }
    if ('error' in result) {
      const x = result.error;
      throw new MountConfigError(x.code as MountConfigErrorCode, x.problem, x.file, x.line, x.column);
    }
    const { config, labels } = result;
    return ctx.store.transaction(async (tx) => {
      await tx.mountConfigs.addLabels(labels);
      const id = newId();
      await tx.mountConfigs.insert({
        id,
        name: config.file,
        format: config.format,
        config: JSON.stringify(config),
        entries: config.entries.length,
        warnings: config.warnings.length,
        created_at: nowIso(),
      });
      return { id, name: config.file, config };
    });
  });
}

export function mountConfigJson(id: string, name: string, c: MountConfig): Record<string, unknown> {
  return {
    id,
    name,
    format: c.format,
    entries: c.entries.map((e) => ({
      source: e.source,
      mountPoint: e.mountPoint,
      backing: e.backing,
      domain: e.domain?.label ?? null,
      domainKnown: e.domainKnown,
      inodeShare: e.options.inodeShare,
      inodeShareEffective: e.inodeShareEffective,
      mountError: e.mountError?.message ?? null,
      notMounted: e.notMounted,
      origin: e.origin,
    })),
    warnings: c.warnings,
    ignored: c.ignored.length,
    config: c,
  };
}

export function mountConfigsRouter(ctx: AppContext): Router {
  const r = Router();
  // A declared length past the limit is refused before the body is read (body.ts).
  const text = [
    declaredBodyLimit(ctx.config.limits.maxMountConfigBytes),
    express.text({
      type: () => true,
      limit: ctx.config.limits.maxMountConfigBytes,
      defaultCharset: 'utf-8',
    }),
  ];

  r.post('/mount-configs', requireWriter(ctx), text, async (req: Request, res: Response) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const body = typeof req.body === 'string' ? req.body : '';
    let input = body;
    let fileName = queryString(req.query.name);
    let fmt = format(queryString(req.query.format));
    if (type === 'application/json') {
      // Either the wrapper {text, fileName, format?} or a JSON document itself (a plan, losetup --json).
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = undefined;
      }
      if (
        parsed &&
        typeof parsed === 'object' &&
        !Array.isArray(parsed) &&
        typeof (parsed as { text?: unknown }).text === 'string'
      ) {
        const w = parsed as { text: string; fileName?: unknown; name?: unknown; format?: unknown };
        input = w.text;
        const fn = w.fileName ?? w.name;
        if (fn !== undefined && typeof fn !== 'string')
          throw badRequest('bad-request', 'fileName must be a string');
        if (typeof fn === 'string') fileName = fn;
        fmt = format(w.format) ?? fmt;
      }
    } else if (
      !type.startsWith('text/') &&
      type !== 'application/octet-stream' &&
      type !== 'application/x-sh'
    ) {
      throw unsupportedMediaType(
        `content type ${JSON.stringify(type || '(none)')} is not accepted: send text/plain (with ?name=) or application/json {text, fileName, format?}`,
      );
    }
    if (input.trim() === '') throw badRequest('bad-request', 'the mount configuration is empty');
    const given = fileName !== undefined ? safeName(fileName, 'file name') : undefined;
    const { id, name, config } = await parseAndStore(ctx, input, given, fmt);
    res
      .status(201)
      .location(`/api/mount-configs/${id}`)
      .json(mountConfigJson(id, name, config));
  });

  r.get('/mount-configs/:id', async (req, res) => {
    const id = String(req.params.id);
    const row = ID_RE.test(id) ? await ctx.store.mountConfigs.get(id) : undefined;
    if (!row) throw notFound(`mount configuration ${id}`);
    res.json(mountConfigJson(row.id, row.name, JSON.parse(row.config) as MountConfig));
  });

  return r;
}
