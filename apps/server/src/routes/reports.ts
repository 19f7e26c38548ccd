/**
 * Reports: creation (immutable snapshot), fetch by id (JSON, CSV, Markdown), the analysis
 * input for live re-runs, and listing (admin token only). A report id is 128 random bits:
 * the link is the capability to read it.
 */
import { FILES_CONTENT_TYPE } from '@sharemap/report-wire';
import express, { Router, type Request, type Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { declaredBodyLimit } from '../body.js';
import type { AppContext } from '../context.js';
import { badRequest, notFound, onlyJson } from '../errors.js';
import { queryString } from '../names.js';
import { createReport, getReportRow, parseReportRequest, reportParts } from '../reports.js';
import type { RenderResult } from '../scan/tasks.js';
import { sendReportHtml } from './report-html.js';
import { requireAdmin, requireWriter } from '../tokens.js';

export function reportUrl(ctx: AppContext, req: Request | undefined, id: string): string {
  const path = `/r/${id}`;
  if (ctx.config.publicUrl) return ctx.config.publicUrl + path;
  if (!req) return path;
  return path;
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
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'private, max-age=86400, immutable');
  res.setHeader('ETag', `"${etag}"`);
  res.setHeader('Vary', 'Accept-Encoding');
  if (req.headers['if-none-match'] === `"${etag}"`) {
    res.status(304).end();
    return;
  }
  const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const src = ctx.blobs.createReadStream(sha);
  if (gz) {
    res.setHeader('Content-Encoding', 'gzip');
    return pipeline(src, res);
  }
  return pipeline(src, createGunzip(), res);
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

  r.get('/reports', requireAdmin(ctx), (req, res) => {
    const limitText = queryString(req.query.limit);
    const limit = limitText === undefined ? 100 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw badRequest('bad-request', 'limit must be 1-1000');
    const before = queryString(req.query.before);
    const rows = (
      before
        ? ctx.db
            .prepare(
              'SELECT id, title, summary, created_at FROM reports WHERE created_at < ? ORDER BY created_at DESC LIMIT ?',
            )
            .all(before, limit)
        : ctx.db
            .prepare('SELECT id, title, summary, created_at FROM reports ORDER BY created_at DESC LIMIT ?')
            .all(limit)
    ) as { id: string; title: string | null; summary: string; created_at: string }[];
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      reports: rows.map((x) => ({
        id: x.id,
        url: reportUrl(ctx, req, x.id),
        title: x.title,
        createdAt: x.created_at,
        summary: JSON.parse(x.summary) as unknown,
      })),
      next: rows.length === limit ? rows[rows.length - 1]!.created_at : null,
    });
  });

  r.get('/reports/:id', async (req, res) => {
    const id = String(req.params.id);
    const row = getReportRow(ctx, id);
    if (!row) throw notFound(`report ${id}`);
    const format = queryString(req.query.format) ?? 'json';
    if (format === 'json') return sendBlob(ctx, req, res, row.blob, row.blob);
    if (format === 'html') return sendReportHtml(ctx, res, row);
    if (format !== 'csv' && format !== 'markdown' && format !== 'md')
      throw badRequest('bad-request', 'format must be json, csv, markdown or html');
    const url = ctx.config.publicUrl ? reportUrl(ctx, req, id) : absoluteUrl(req, `/r/${id}`);
    const fmt = format === 'csv' ? 'csv' : 'markdown';
    const { text } = await ctx.analyses.run<RenderResult>(
      { kind: 'render', dataDir: ctx.config.dataDir, reportBlob: row.blob, format: fmt, url },
      { timeoutMs: ctx.config.limits.analysisTimeoutMs },
    );
    res.setHeader('Cache-Control', 'private, max-age=86400, immutable');
    if (fmt === 'csv') {
      res.setHeader('Content-Type', 'text/csv; charset=utf-8');
      res.setHeader('Content-Disposition', `attachment; filename="sharemap-${id}.csv"`);
    } else res.setHeader('Content-Type', 'text/markdown; charset=utf-8');
    res.send(text);
  });

  // The web UI's parts: the summary first (headline, per-instance figures), the per-file
  // columns in the background (compact binary encoding).
  r.get('/reports/:id/summary', async (req, res) => {
    const id = String(req.params.id);
    const row = getReportRow(ctx, id);
    if (!row) throw notFound(`report ${id}`);
    const { summaryBlob } = await reportParts(ctx, row);
    return sendBlob(ctx, req, res, summaryBlob, summaryBlob);
  });

  r.get('/reports/:id/files', async (req, res) => {
    const id = String(req.params.id);
    const row = getReportRow(ctx, id);
    if (!row) throw notFound(`report ${id}`);
    const { filesBlob } = await reportParts(ctx, row);
    return sendBlob(ctx, req, res, filesBlob, filesBlob, FILES_CONTENT_TYPE);
  });

  r.get('/reports/:id/input', (req, res) => {
    const id = String(req.params.id);
    const row = getReportRow(ctx, id);
    if (!row) throw notFound(`report ${id}`);
    return sendBlob(ctx, req, res, row.input_blob, row.input_blob);
  });

  return r;
}

function absoluteUrl(req: Request, path: string): string {
  const host = req.headers.host;
  return host && /^[\w.:[\]-]+$/.test(host) ? `${req.protocol}://${host}${path}` : path;
}
