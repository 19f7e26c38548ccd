/**
 * OCI archives in (docs/oci.md, "On the server"): a `docker save` archive, a tarred OCI image
 * layout or a root-filesystem tar, layers uncompressed, gzip or zstd; the kind is told from
 * the bytes, never the name. The body is streamed to disk (never whole in memory), then a
 * worker predicts the manifests mkfs.erofs `--tar=f --xattr-inode-digest` would build, with the
 * same @sharemap/oci functions as `sharemap scan ARCHIVE`. The answer waits for the prediction:
 * a bad archive is a 422 naming the problem and leaves nothing stored; a good one gives
 * manifest ids that reports take like uploaded manifests. The archive itself is not kept.
 */
import { Router, type Request, type Response } from 'express';
import { OciError, parsePlatform, platformString, type OciErrorCode } from '@sharemap/oci';
import type { AppContext } from '../context.js';
import { badRequest, unprocessable, unsupportedMediaType } from '../errors.js';
import { newId } from '../ids.js';
import { queryString, safeName } from '../names.js';
import { TaskError } from '../scan/pool.js';
import type { PredictResult, PredictTask } from '../scan/tasks.js';
import type { StoredBlob } from '../storage/blobs.js';
import { nowIso } from '../storage/db.js';
import { requireWriter } from '../tokens.js';
import {
  checkDeclaredLength,
  mediaType,
  refuseEncoded,
  refuseWhenQueueFull,
  releaseUpload,
  requestBody,
  storeStream,
} from './images.js';
import { manifestJson } from './manifests.js';

/** Media types an archive may be sent as (the kind is detected from the bytes whatever the type). */
const ARCHIVE_TYPES = new Set([
  'application/octet-stream',
  'application/x-tar',
  'application/gzip',
  'application/x-gzip',
  'application/zstd',
  'application/vnd.oci.image.layer.v1.tar',
]);

/** OciError codes (packages/oci/src/errors.ts): every one is a property of the uploaded bytes. */
const OCI_CODES: ReadonlySet<string> = new Set<OciErrorCode>([
  'ETRUNCATED',
  'EFORMAT',
  'EDIGEST',
  'EMISSING',
  'EESCAPE',
  'ELIMIT',
  'EMKFS',
  'ENOTSUP',
  'EPLATFORM',
]);

function parseModel(v: string | undefined): PredictTask['model'] {
  if (v === undefined || v === 'flattened') return 'flattened';
  if (v === 'layers') return 'layers';
  throw badRequest(
    'bad-request',
    `query parameter "model": expected layers or flattened, not ${JSON.stringify(v.slice(0, 40))}`,
  );
}

function parsePlatformParam(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  try {
    return platformString(parsePlatform(v));
  } catch (e) {
    throw badRequest(
      'bad-request',
      `query parameter "platform": ${e instanceof OciError ? e.message : String(e as Error)}`,
    );
  }
}

export function archivesRouter(ctx: AppContext): Router {
  const r = Router();

  r.post('/archives', requireWriter(ctx), async (req: Request, res: Response) => {
    const type = mediaType(req);
    if (!ARCHIVE_TYPES.has(type))
      throw unsupportedMediaType(
        `content type ${JSON.stringify(type || '(none)')} is not accepted: send the archive as application/octet-stream with ?name=`,
      );
    refuseEncoded(req);
    const name = safeName(queryString(req.query.name), 'query parameter "name"');
    const model = parseModel(queryString(req.query.model));
    const platform = parsePlatformParam(queryString(req.query.platform));
    refuseWhenQueueFull(ctx);
    checkDeclaredLength(ctx, req);
    const blob: StoredBlob = await storeStream(ctx, requestBody(req));
    let released = false;
    try {
      if (blob.size === 0) throw unprocessable('bad-archive', 'the archive is empty');
      const task: PredictTask = {
        kind: 'predict',
        dataDir: ctx.config.dataDir,
        archive: { sha256: blob.sha256, name },
        model,
        ...(platform !== undefined ? { platform } : {}),
        maxFiles: ctx.config.limits.maxFilesPerImage,
      };
      let result: PredictResult;
      try {
        result = await ctx.scans.run<PredictResult>(task, { timeoutMs: ctx.config.limits.scanTimeoutMs });
      } catch (e) {
        if (e instanceof TaskError && OCI_CODES.has(e.code))
          throw unprocessable('bad-archive', `${name}: ${e.message}`, { reason: e.code });
        throw e;
      }
      const now = nowIso();
      const rows = result.manifests.map((m) => ({ id: newId(), ...m }));
      // Predicted manifests are the server's own work, as scans are: source 'scan', no image row.
      // One statement: every predicted manifest is recorded, or none.
      try {
        await ctx.store.manifests.insert(
          rows.map((m) => ({
            id: m.id,
            name: m.header.image.name,
            blob: m.blob,
            header: JSON.stringify(m.header),
            file_count: m.header.file_count,
            hashed: m.header.hashed ? 1 : 0,
            source: 'scan' as const,
            image_id: null,
            created_at: now,
          })),
        );
      } catch (e) {
        // The worker wrote the manifest blobs; no row names them now (the insert failed as a
        // whole), so they go too, unless an earlier manifest of the same content keeps one.
        for (const m of rows)
          if (!(await ctx.store.blobRefs.referenced(m.blob))) ctx.blobs.discard(m.blob, () => false);
        throw e;
      }
      ctx.log.info('archive predicted', {
        reqId: (req as { id?: string }).id,
        kind: result.kind,
        size: blob.size,
        manifests: rows.length,
      });
      // The archive is not kept: its predicted manifests are what reports use. Given back
      // before the answer, so a client that has its answer sees the blob folder as it stays.
      released = true;
      await releaseUpload(ctx, blob);
      res.status(201).json({
        name,
        sha256: blob.sha256,
        size: blob.size,
        kind: result.kind,
        model,
        images: result.images,
        manifests: rows.map((m) => manifestJson(m.id, m.header.image.name, m.header)),
      });
    } finally {
      if (!released) await releaseUpload(ctx, blob);
    }
  });

  return r;
}
