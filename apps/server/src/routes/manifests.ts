/**
 * Manifests from `sharemap scan` or the browser: NDJSON or JSON, optionally gzip
 * (Content-Encoding: gzip or gzip magic bytes), validated and stored record by record as
 * they stream (manifest-stream.ts).
 */
import { Router, type Request, type Response } from 'express';
import { ManifestStreamValidator, type ManifestHeader } from '@sharemap/erofs';
import { checkDeclaredLength, decodedBody, mapStreamError } from '../body.js';
import type { AppContext } from '../context.js';
import { notFound, unsupportedMediaType } from '../errors.js';
import { canonicalManifest } from '../manifest-stream.js';
import { UploadColumnsWriter } from '../scan/stored-columns.js';
import type { StoredBlob } from '../storage/blobs.js';
import { ID_RE, newId } from '../ids.js';
import { queryString, safeName } from '../names.js';
import { nowIso } from '../storage/db.js';
import { requireWriter } from '../tokens.js';

const MANIFEST_TYPES = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/json',
  'application/gzip',
  'application/x-gzip',
  'application/octet-stream',
  'text/plain',
]);

export function manifestsRouter(ctx: AppContext): Router {
  const r = Router();

  r.post('/manifests', requireWriter(ctx), async (req: Request, res: Response) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!MANIFEST_TYPES.has(type))
      throw unsupportedMediaType(
        `content type ${JSON.stringify(type || '(none)')} is not accepted: send application/x-ndjson or application/json (optionally with Content-Encoding: gzip)`,
      );
    const nameParam = queryString(req.query.name);
    const name = nameParam !== undefined ? safeName(nameParam, 'query parameter "name"') : undefined;
    const l = ctx.config.limits;
    checkDeclaredLength(req, l.maxManifestBytes, 'manifest');
    const validator = new ManifestStreamValidator({
      maxRecords: Math.min(l.maxManifestRecords, l.maxFilesPerImage),
    });
    let displayName = name ?? '';
    // The columnar form is written as the records are validated, so the first report reads it
    // rather than the NDJSON (docs/server.md#stored-columnar-manifests).
    const columns = new UploadColumnsWriter(ctx.blobs);
    // Validated and stored record by record: neither the body nor the manifest is ever whole
    // in memory; a refused upload leaves no blob (putGzip removes its temp file).
    const lines = canonicalManifest(
      decodedBody(req, { maxBytes: l.maxManifestBytes, maxRatio: l.maxDecompressionRatio }),
      validator,
      {
        onHeader: (h) => {
          displayName = name ?? safeName(h.image.name, 'manifest image.name');
        },
        onRecord: (r) => columns.push(r),
      },
    );
    let blob: StoredBlob;
    try {
      blob = await ctx.blobs.putGzip(lines);
    } catch (e) {
      columns.discard();
      throw mapStreamError(e);
    }
    const id = newId();
    const header = validator.end();
    try {
      await ctx.store.manifests.insert([
        {
          id,
          name: displayName,
          blob: blob.sha256,
          header: JSON.stringify(header),
          file_count: header.file_count,
          hashed: header.hashed ? 1 : 0,
          source: 'upload',
          image_id: null,
          created_at: nowIso(),
        },
      ]);
    } catch (e) {
      columns.discard();
      throw e;
    }
    const notWritten = await columns.commit(blob.sha256, header);
    if (notWritten !== null)
      ctx.log.warn('no columnar form written at upload: the first report reads the NDJSON', {
        manifest: blob.sha256,
        problem: notWritten,
      });
    res
      .status(201)
      .location(`/api/manifests/${id}`)
      .json(manifestJson(id, displayName, header));
  });

  r.get('/manifests/:id', async (req, res) => {
    const id = String(req.params.id);
    const row = ID_RE.test(id) ? await ctx.store.manifests.get(id) : undefined;
    if (!row) throw notFound(`manifest ${id}`);
    res.json(manifestJson(row.id, row.name, JSON.parse(row.header) as ManifestHeader));
  });

  return r;
}

export function manifestJson(id: string, name: string, h: ManifestHeader): Record<string, unknown> {
  return {
    id,
    name,
    fileCount: h.file_count,
    hashed: h.hashed,
    image: h.image,
    blockSize: h.superblock.block_size,
    ishare: h.superblock.ishare,
    fingerprintXattrName: h.superblock.fingerprint_xattr_name,
    requiredKernel: h.superblock.required_kernel,
  };
}
