/**
 * Reports: creation (immutable snapshot), fetch by id (JSON, CSV, Markdown), the analysis
 * input for live re-runs, and listing (admin token only). A report id is 128 random bits:
 * the link is the capability to read it.
 */
import { FILES_CONTENT_TYPE } from '@sharemap/report-wire';
import express, { Router, type Request, type Response } from 'express';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { analysisInputJson, readAnalysisInputRef } from '../analysis-input.js';
import { declaredBodyLimit } from '../body.js';
import type { AppContext } from '../context.js';
import { badRequest, notFound, onlyJson } from '../errors.js';
import { ID_RE } from '../ids.js';
import { queryString } from '../names.js';
import { cachedRender, type CachedRender } from '../renders.js';
import { createReport, getReportRow, parseReportRequest, reportParts } from '../reports.js';
import { sendReportHtml } from './report-html.js';
import { StoredBlobDamagedError } from '../scan/stored-manifest.js';
import { batched, SERVER_GZIP_LEVEL } from '../storage/blobs.js';
import { requireAdmin, requireWriter } from '../tokens.js';

/**
 * The link to a report: under the configured public URL (`--public-url`,
 * `SHAREMAP_PUBLIC_URL`), else relative (`/r/<id>`). Never built from the request's `Host`
 * header, which any client sets (a Markdown report pasted into a pull request would link to
 * the client's host).
 */
export function reportUrl(ctx: AppContext, _req: Request | undefined, id: string): string {
  const path = `/r/${id}`;
  return ctx.config.publicUrl ? ctx.config.publicUrl + path : path;
}

/**
 * Paging cursor of the admin list: `<createdAt>~<id>`. Reports are listed by (created_at, id)
 * descending, so rows with equal timestamps are neither skipped nor repeated across pages.
 */
export function reportCursor(createdAt: string, id: string): string {
  return `${createdAt}~${id}`;
}

const ISO_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

/** `before=`: a cursor (`next` of the previous page) or, as before cursors existed, a time. */
function parseBefore(text: string): { createdAt: string; id: string | null } {
  const cut = text.lastIndexOf('~');
  const createdAt = cut < 0 ? text : text.slice(0, cut);
  const id = cut < 0 ? null : text.slice(cut + 1);
  if (!ISO_TIME_RE.test(createdAt) || (id !== null && !ID_RE.test(id)))
    throw badRequest('bad-request', 'before must be the next value of the previous page (<createdAt>~<id>)');
  return { createdAt, id };
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** A gzip blob: sent as is to clients that accept gzip, else decompressed on the way. */
function sendBlob(
  ctx: AppContext,
  req: Request,
  res: Response,
  sha: string,
  etag: string,
  contentType = JSON_TYPE,
): Promise<void> | void {
  return sendGzip(req, res, () => ctx.blobs.createReadStream(sha), etag, contentType);
}

/**
 * Gzip bytes with an immutable ETag: 304 on a match, as is with gzip, else decompressed.
 * With `compress`, `open` gives the bytes uncompressed: gzipped (SERVER_GZIP_LEVEL) on the
 * way for clients that accept gzip, else sent as they are.
 */
function sendGzip(
  req: Request,
  res: Response,
  open: () => NodeJS.ReadableStream,
  etag: string,
  contentType: string,
  { compress = false }: { compress?: boolean } = {},
): Promise<void> | void {
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'private, max-age=86400, immutable');
  res.setHeader('ETag', `"${etag}"`);
  res.setHeader('Vary', 'Accept-Encoding');
  if (req.headers['if-none-match'] === `"${etag}"`) {
    res.status(304).end();
    return;
  }
  const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const src = open();
  if (gz) {
    res.setHeader('Content-Encoding', 'gzip');
    return compress ? pipeline(src, createGzip({ level: SERVER_GZIP_LEVEL }), res) : pipeline(src, res);
  }
  return compress ? pipeline(src, res) : pipeline(src, createGunzip(), res);
}

export function reportsRouter(ctx: AppContext): Router {
  const r = Router();
  // A declared length past the limit is refused before the body is read (body.ts).
  const json = [
    declaredBodyLimit(ctx.config.limits.maxJsonBodyBytes),
    express.json({ limit: ctx.config.limits.maxJsonBodyBytes, type: () => true }),
  ];

  r.post('/reports', requireWriter(ctx), onlyJson, json, async (req: Request, res: Response) => {
    const body = parseReportRequest(req.body, ctx.config.limits);
    // Waiting for scans and the analysis may keep the socket silent longer than the idle timeout.
    req.socket.setTimeout(ctx.config.limits.scanTimeoutMs + ctx.config.limits.analysisTimeoutMs + 60_000);
    const created = await createReport(ctx, body);
    const url = reportUrl(ctx, req, created.id);
    res
      .status(201)
      .location(`/api/reports/${created.id}`)
      .json({
        id: created.id,
        url,
        apiUrl: `/api/reports/${created.id}`,
        summary: created.summary,
        unresolved: created.unresolved,
        warnings: created.warnings,
      });
  });

  r.get('/reports', requireAdmin(ctx), async (req, res) => {
    const limitText = queryString(req.query.limit);
    const limit = limitText === undefined ? 100 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw badRequest('bad-request', 'limit must be 1-1000');
    const beforeText = queryString(req.query.before);
    const before = beforeText === undefined ? undefined : parseBefore(beforeText);
    const rows = await ctx.store.reports.list(limit, before);
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      reports: rows.map((x) => ({
        id: x.id,
        url: reportUrl(ctx, req, x.id),
        title: x.title,
        createdAt: x.created_at,
        summary: JSON.parse(x.summary) as unknown,
      })),
      next:
        rows.length === limit
          ? reportCursor(rows[rows.length - 1]!.created_at, rows[rows.length - 1]!.id)
          : null,
    });
  });

  r.get('/reports/:id', async (req, res) => {
    const id = String(req.params.id);
    const row = await getReportRow(ctx, id);
    if (!row) throw notFound(`report ${id}`);
    const format = queryString(req.query.format) ?? 'json';
    if (format === 'json') return sendBlob(ctx, req, res, row.blob, row.blob);
    if (format === 'html') return sendReportHtml(ctx, res, row);
    if (format !== 'csv' && format !== 'markdown' && format !== 'md')
      throw badRequest('bad-request', 'format must be json, csv, markdown or html');
    const url = reportUrl(ctx, req, id);
    const fmt = format === 'csv' ? 'csv' : 'markdown';
    // A client that leaves before the render is ready cancels its part of the job.
    const client = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) client.abort();
    });
    let render: CachedRender;
    try {
      render = await cachedRender(ctx, row.blob, () => reportParts(ctx, row), fmt, url, client.signal);
    } catch (e) {
      if (client.signal.aborted) return; // nobody to answer
      throw e;
    }
    if (fmt === 'csv') res.setHeader('Content-Disposition', `attachment; filename="sharemap-${id}.csv"`);
    return sendGzip(
      req,
      res,
      () => createReadStream(render.file),
      render.key,
      fmt === 'csv' ? 'text/csv; charset=utf-8' : 'text/markdown; charset=utf-8',
    );
  });

  // The web UI's parts: the summary first (headline, per-instance figures), the per-file
  // columns in the background (compact binary encoding).
  r.get('/reports/:id/summary', async (req, res) => {
    const id = String(req.params.id);
    const row = await getReportRow(ctx, id);
    if (!row) throw notFound(`report ${id}`);
    const { summaryBlob } = await reportParts(ctx, row);
    return sendBlob(ctx, req, res, summaryBlob, summaryBlob);
  });

  r.get('/reports/:id/files', async (req, res) => {
    const id = String(req.params.id);
    const row = await getReportRow(ctx, id);
    if (!row) throw notFound(`report ${id}`);
    const { filesBlob } = await reportParts(ctx, row);
    return sendBlob(ctx, req, res, filesBlob, filesBlob, FILES_CONTENT_TYPE);
  });

  r.get('/reports/:id/input', async (req, res) => {
    const id = String(req.params.id);
    const row = await getReportRow(ctx, id);
    if (!row) throw notFound(`report ${id}`);
    const ref = await readAnalysisInputRef(ctx.blobs, row.input_blob);
    if (!ref) return sendBlob(ctx, req, res, row.input_blob, row.input_blob); // stored in full (older reports)
    // Every manifest blob must be there before the answer starts (a damaged one ends it later).
    for (const { manifestBlob } of ref.images)
      if (!(await ctx.blobs.has(manifestBlob)))
        throw new StoredBlobDamagedError(manifestBlob, 'missing, yet report ' + id + ' references it');
    return sendGzip(
      req,
      res,
      () => Readable.from(batched(analysisInputJson(ctx.blobs, ref))),
      row.input_blob,
      JSON_TYPE,
      { compress: true },
    );
  });

  return r;
}
