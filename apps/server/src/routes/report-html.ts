/**
 * `GET /api/reports/:id?format=html`: the self-contained HTML report (docs/api.md), the web
 * UI's static-report template (`report-template.html` in the web directory) filled with the
 * report's stored parts. The parts are already the gzip bytes the page embeds, so nothing is
 * parsed or re-encoded here, and the page is streamed as the blobs are read: neither the parts
 * nor the page is ever whole in memory (docs/server.md#renders).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import type { AppContext } from '../context.js';
import { HttpError } from '../errors.js';
import { reportParts, type ReportRow } from '../reports.js';
import { reportHtmlPieces } from '../scan/render.js';

export const REPORT_TEMPLATE = 'report-template.html';

export async function sendReportHtml(ctx: AppContext, res: Response, row: ReportRow): Promise<void> {
  let template: string;
  try {
    template = await readFile(path.join(ctx.config.webDir, REPORT_TEMPLATE), 'utf8');
  } catch {
    throw new HttpError(
      503,
      'not-ready',
      `this server has no HTML report template (${REPORT_TEMPLATE} in its web directory; build the web UI)`,
    );
  }
  const parts = await reportParts(ctx, row);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'private, max-age=86400, immutable');
  res.setHeader('Content-Disposition', `attachment; filename="sharemap-${row.id}.html"`);
  // A client that leaves ends the pipeline, which closes the blob streams.
  await pipeline(
    Readable.from(reportHtmlPieces(ctx.blobs, template, parts, `sharemap report ${row.id}`)),
    res,
  );
}
