/**
 * Report names: branch-like names ("main", "release/1.2") that point at a report and can be
 * moved, so CI compares with "the last build of main" without passing report ids around.
 *
 * A report id is an unguessable capability (128 random bits); a name is guessable. So when
 * the server requires tokens, reading a name needs a valid token (any token), exactly like
 * writing one; without the switch names are as open as writes are.
 */
import { ReportNamePut } from '@sharemap/api';
import { reportNameProblem } from '@sharemap/sharing';
import express, { Router, type Request } from 'express';
import { declaredBodyLimit } from '../body.js';
import type { AppContext } from '../context.js';
import { badRequest, HttpError, notFound, unprocessable, onlyJson } from '../errors.js';
import { queryString } from '../names.js';
import { ID_RE } from '../ids.js';
import { isForeignKeyViolation } from '../storage/store/repos.js';
import { nowIso } from '../storage/db.js';
import { requestValidator } from '../validate.js';
import { principalOf, requireAdmin, requireWriter } from '../tokens.js';
import { reportUrl } from './reports.js';

interface NameRow {
  name: string;
  report_id: string;
  set_by: string | null;
  created_at: string;
  updated_at: string;
}

/** The name of a request path: `/report-names/release/1.2` and `/report-names/release%2F1.2` alike. */
function nameParam(req: Request): string {
  const raw = (req.params as Record<string, unknown>).name;
  const name = Array.isArray(raw) ? raw.map(String).join('/') : String(raw ?? '');
  const problem = reportNameProblem(name);
  if (problem)
    throw badRequest('bad-name', `report name ${JSON.stringify(name.slice(0, 120))} ${problem}`, {
      name: name.slice(0, 120),
    });
  return name;
}

function view(ctx: AppContext, req: Request, row: NameRow): Record<string, unknown> {
  return {
    name: row.name,
    reportId: row.report_id,
    url: reportUrl(ctx, req, row.report_id),
    apiUrl: `/api/reports/${row.report_id}`,
    setBy: row.set_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function reportNamesRouter(ctx: AppContext): Router {
  const r = Router();
  const tokenIfRequired = requireWriter(ctx);
  const json = express.json({ limit: 4096, type: () => true });
  const checkBody = requestValidator(ReportNamePut, 'bad-request');
  const get = (name: string): Promise<NameRow | undefined> => ctx.store.names.get(name);

  r.put('/report-names/*name', tokenIfRequired, onlyJson, declaredBodyLimit(4096), json, async (req, res) => {
    const name = nameParam(req);
    const { reportId } = checkBody(req.body);
    const unknown = (): HttpError =>
      unprocessable('unknown-report', `report ${reportId} not found`, { reportId });
    if (!ID_RE.test(reportId)) throw unknown();
    const who = principalOf(res);
    const now = nowIso();
    const previous = await ctx.store.transaction(async (tx) => {
      // Checked inside the transaction, the row locked until the name commits: an expiry of
      // the report (the garbage collector, docs/server.md#retention) either ran before (the
      // report is gone: 422) or waits and then keeps the named report.
      if (!(await tx.reports.existsLocked(reportId))) throw unknown();
      const before = await tx.names.get(name);
      try {
        await tx.names.upsert({
          name,
          report_id: reportId,
          set_by: who?.name ?? null,
          created_at: now,
          updated_at: now,
        });
      } catch (e) {
        // The report deleted in between all the same (the name's foreign key): the same
        // answer as for a report that was never there, never a 500.
        if (isForeignKeyViolation(e)) throw unknown();
        throw e;
      }
      return before;
    });
    ctx.log.info('report name set', {
      name,
      reportId,
      previousReportId: previous?.report_id,
      setBy: who?.name,
    });
    res
      .status(previous ? 200 : 201)
      .json({ ...view(ctx, req, (await get(name))!), previousReportId: previous?.report_id ?? null });
  });

  r.get('/report-names/*name', tokenIfRequired, async (req, res) => {
    const name = nameParam(req);
    const row = await get(name);
    if (!row)
      throw new HttpError(404, 'not-found', `report name ${JSON.stringify(name)} not found`, { name });
    res.json(view(ctx, req, row));
  });

  r.delete('/report-names/*name', tokenIfRequired, async (req, res) => {
    const name = nameParam(req);
    const deleted = await ctx.store.names.delete(name);
    if (deleted === 0) throw notFound(`report name ${JSON.stringify(name)}`);
    ctx.log.info('report name deleted', { name, by: principalOf(res)?.name });
    res.status(204).end();
  });

  r.get('/report-names', requireAdmin(ctx), async (req, res) => {
    const limitText = queryString(req.query.limit);
    const limit = limitText === undefined ? 1000 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw badRequest('bad-request', 'limit must be 1-1000');
    const after = queryString(req.query.after) ?? '';
    const rows = await ctx.store.names.list(after, limit);
    res.json({
      names: rows.map((row) => view(ctx, req, row)),
      next: rows.length === limit ? rows[rows.length - 1]!.name : null,
    });
  });

  return r;
}
