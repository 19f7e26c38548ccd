/**
 * Page-cache residency uploads (docs/working-set.md): fincore -J / --raw, vmtouch -v, pcstat
 * -json, access lists, or a `sharemap collect` host snapshot (its mountinfo goes to
 * /api/mount-configs separately; here its residency). Parsed on upload (422 with
 * file:line:column on a bad line); only the parsed records are stored. A report request names
 * them in `residency: [{id, instance?}]`.
 */
import express, { Router, type Request, type Response } from 'express';
import { parseResidency, type ResidencyData } from '@sharemap/sharing';
import type { AppContext } from '../context.js';
import { badRequest, notFound, unsupportedMediaType } from '../errors.js';
import { ID_RE, newId } from '../ids.js';
import { queryString, safeName } from '../names.js';
import { nowIso } from '../storage/db.js';
import { requireWriter } from '../tokens.js';

/** Largest residency upload once decompressed (a host snapshot of ~500,000 files). */
export const MAX_RESIDENCY_UPLOAD_BYTES = 64 * 1024 * 1024;

function residencyJson(id: string, d: ResidencyData): Record<string, unknown> {
  const resident = d.records.reduce((a, r) => a + (r.residentPages === 'all' ? 0 : r.residentPages), 0);
  return {
    id,
    name: d.file,
    format: d.format,
    records: d.records.length,
    residentPages: resident,
    pageSize: d.pageSize ?? null,
  };
}

/** The stored residency input of an id, or undefined. */
export async function loadResidency(ctx: AppContext, id: string): Promise<ResidencyData | undefined> {
  if (!ID_RE.test(id)) return undefined;
  const data = await ctx.store.residency.data(id);
  return data !== undefined ? (JSON.parse(data) as ResidencyData) : undefined;
}

export function residencyRouter(ctx: AppContext): Router {
  const r = Router();
  // Gzip bodies (Content-Encoding: gzip) are inflated by the parser, within the limit.
  const text = express.text({ type: () => true, limit: MAX_RESIDENCY_UPLOAD_BYTES, defaultCharset: 'utf-8' });

  r.post('/residency', requireWriter(ctx), text, async (req: Request, res: Response) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!type.startsWith('text/') && type !== 'application/json' && type !== 'application/octet-stream')
      throw unsupportedMediaType(
        `content type ${JSON.stringify(type || '(none)')} is not accepted: send the tool's output as text/plain or application/json (?name=)`,
      );
    const body = typeof req.body === 'string' ? req.body : '';
    if (body.trim() === '') throw badRequest('bad-request', 'the residency input is empty');
    const name = safeName(queryString(req.query.name) ?? 'residency', 'file name');
    // A ResidencyError becomes 422 bad-residency with file, line and column (errors.ts).
    const data = parseResidency(body, { file: name });
    const id = newId();
    await ctx.store.residency.insert({
      id,
      name: data.file,
      format: data.format,
      data: JSON.stringify(data),
      records: data.records.length,
      created_at: nowIso(),
    });
    res.status(201).location(`/api/residency/${id}`).json(residencyJson(id, data));
  });

  r.get('/residency/:id', async (req, res) => {
    const id = String(req.params.id);
    const data = await loadResidency(ctx, id);
    if (!data) throw notFound(`residency input ${id}`);
    res.json(residencyJson(id, data));
  });

  return r;
}
