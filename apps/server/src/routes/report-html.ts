/**
 * `GET /api/reports/:id?format=html`: the self-contained HTML report (docs/api.md), the web
 * UI's static-report template (`report-template.html` in the web directory) filled with the
 * report's stored parts. The parts are already the gzip bytes the page embeds, so nothing is
 * parsed or re-encoded here.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { fillStaticTemplate } from '@sharemap/report-wire';
import type { Response } from 'express';
import type { AppContext } from '../context.js';
import { HttpError } from '../errors.js';
import { reportParts, type ReportRow } from '../reports.js';

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
  const { summaryBlob, filesBlob } = await reportParts(ctx, row);
  const [summaryGzip, filesGzip] = await Promise.all([
    buffer(ctx.blobs.createReadStream(summaryBlob)),
    buffer(ctx.blobs.createReadStream(filesBlob)),
  ]);
  const html = fillStaticTemplate(template, { summaryGzip, filesGzip }, `sharemap report ${row.id}`);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'private, max-age=86400, immutable');
  res.setHeader('Content-Disposition', `attachment; filename="sharemap-${row.id}.html"`);
  res.send(html);
}
