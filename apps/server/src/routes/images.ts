/**
 * Images: streamed uploads (raw body or multipart), extra devices, status and progress
 * (polling and server-sent events). Uploaded bytes are never served back.
 */
import busboy from 'busboy';
import { Router, type Request, type Response } from 'express';
import type { Readable } from 'node:stream';
import type { AppContext } from '../context.js';
import { badRequest, HttpError, notFound, tooLarge, unsupportedMediaType } from '../errors.js';
import { ID_RE, newId } from '../ids.js';
import { queryString, safeName } from '../names.js';
import {
  admitScan,
  getImage,
  scansWaiting,
  scheduleScan,
  type DeviceRef,
  type ImageRow,
} from '../scan/scheduler.js';
import { BlobTooLargeError, type StoredBlob } from '../storage/blobs.js';
import { nowIso } from '../storage/db.js';
import { requireWriter } from '../tokens.js';

export async function imageJson(ctx: AppContext, r: ImageRow): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {
    id: r.id,
    name: r.name,
    sha256: r.sha256,
    size: r.size,
    devices: JSON.parse(r.devices) as DeviceRef[],
    status: r.status,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
  if (r.status === 'failed') out.error = { code: r.error_code, message: r.error_message };
  const p = ctx.progress.get(r.id);
  if (p && (r.status === 'scanning' || r.status === 'queued')) out.progress = p;
  if (r.manifest_id) {
    const m = await ctx.store.manifests.get(r.manifest_id);
    if (m) {
      const h = JSON.parse(m.header) as {
        superblock: {
          block_size: number;
          ishare: boolean;
          feature_incompat: string[];
          required_kernel: string | null;
        };
      };
      out.manifest = {
        id: m.id,
        fileCount: m.file_count,
        hashed: m.hashed === 1,
        blockSize: h.superblock.block_size,
        ishare: h.superblock.ishare,
        featureIncompat: h.superblock.feature_incompat,
        requiredKernel: h.superblock.required_kernel,
      };
    }
  }
  return out;
}

/** Give back an uploaded blob: removed unless a row now names it (see BlobStore.release). */
export function releaseUpload(ctx: AppContext, blob: StoredBlob): Promise<void> {
  return ctx.blobs.release(blob.sha256, (sha) => ctx.store.blobRefs.referenced(sha));
}

/** Give back every uploaded blob of a request (see releaseUpload). */
export async function releaseUploads(ctx: AppContext, blobs: StoredBlob[]): Promise<void> {
  for (const b of blobs) await releaseUpload(ctx, b);
}

/**
 * The body of a request as storeStream reads it: a refusal part-way (too large) stops reading
 * without destroying the request, so the error handler reads the rest and the client, still
 * sending, gets the answer (errors.ts answerAfterDrain).
 */
export const requestBody = (req: Request): AsyncIterable<Uint8Array> =>
  req.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>;

/**
 * Stream a request body (requestBody) or a multipart file part into the blob folder, mapping size and abort
 * errors. The blob is held until the caller releases it (releaseUpload), recorded or not.
 */
export async function storeStream(
  ctx: AppContext,
  src: AsyncIterable<Uint8Array | string>,
): Promise<StoredBlob> {
  try {
    return await ctx.blobs.write(src, { maxBytes: ctx.config.limits.maxUploadBytes, hold: true });
  } catch (e) {
    if (e instanceof BlobTooLargeError)
      throw tooLarge(`upload larger than the limit of ${ctx.config.limits.maxUploadBytes} bytes`, {
        limit: ctx.config.limits.maxUploadBytes,
      });
    if (e instanceof HttpError) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (e as Error).message === 'aborted')
      throw new HttpError(400, 'aborted', 'the upload was interrupted before its end');
    throw e;
  }
}

export function checkDeclaredLength(ctx: AppContext, req: Request): void {
  const len = Number(req.headers['content-length']);
  if (Number.isFinite(len) && len > ctx.config.limits.maxUploadBytes)
    throw tooLarge(
      `upload of ${len} bytes is larger than the limit of ${ctx.config.limits.maxUploadBytes} bytes`,
      {
        limit: ctx.config.limits.maxUploadBytes,
      },
    );
}

interface Part {
  field: string;
  name: string;
  blob: StoredBlob;
}

/** Multipart: every file part is stored as it arrives; the first is the image, later ones its devices. */
function readMultipart(ctx: AppContext, req: Request): Promise<Part[]> {
  return new Promise<Part[]>((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        limits: {
          fileSize: ctx.config.limits.maxUploadBytes,
          files: 1 + ctx.config.limits.maxDevicesPerImage,
          fields: 20,
          fieldSize: 4096,
          parts: 64,
        },
      });
    } catch (e) {
      reject(badRequest('bad-multipart', `bad multipart request: ${(e as Error).message}`));
      return;
    }
    const parts: Promise<Part>[] = [];
    const streams: Readable[] = [];
    let failed: unknown = null;
    const fail = (e: unknown): void => {
      if (failed) return;
      failed = e;
      req.unpipe(bb);
      req.resume();
      // Parts still being written would wait forever for data that no longer comes (and keep
      // their temp files): end them, so that every write removes its temp file.
      for (const st of streams) if (!st.readableEnded) st.destroy(new Error('upload refused'));
      Promise.allSettled(parts)
        .then((settled) =>
          // Parts stored before the failure belong to no image: drop their blobs.
          releaseUploads(
            ctx,
            settled.flatMap((p) => (p.status === 'fulfilled' ? [p.value.blob] : [])),
          ),
        )
        .then(
          () => reject(e),
          () => reject(e),
        );
    };
    bb.on('file', (field, stream, info) => {
      streams.push(stream);
      // busboy emits 'error' on the part's stream when the body ends before the part does
      // ("Unexpected end of form"); with no listener that error would end the process.
      stream.on('error', (e: Error) =>
        fail(badRequest('bad-multipart', `bad multipart request: ${e.message}`)),
      );
      let name: string;
      try {
        name = safeName(info.filename, `file name of part "${field}"`);
      } catch (e) {
        stream.resume();
        fail(e);
        return;
      }
      stream.on('limit', () => {
        fail(tooLarge(`file ${name} is larger than the limit of ${ctx.config.limits.maxUploadBytes} bytes`));
        stream.destroy(new BlobTooLargeError(ctx.config.limits.maxUploadBytes));
      });
      const p = storeStream(ctx, stream).then((blob) => ({ field, name, blob }));
      p.catch((e: unknown) =>
        fail(
          e instanceof HttpError ? e : badRequest('bad-multipart', `part ${field}: ${(e as Error).message}`),
        ),
      );
      parts.push(p);
    });
    bb.on('filesLimit', () =>
      fail(badRequest('bad-multipart', `more than ${1 + ctx.config.limits.maxDevicesPerImage} files`)),
    );
    bb.on('partsLimit', () => fail(badRequest('bad-multipart', 'too many parts')));
    bb.on('error', (e: Error) => fail(badRequest('bad-multipart', `bad multipart request: ${e.message}`)));
    bb.on('close', () => {
      if (failed) return;
      Promise.all(parts).then(resolve, fail);
    });
    req.on('close', () => {
      if (!req.complete) fail(new HttpError(400, 'aborted', 'the upload was interrupted before its end'));
    });
    req.pipe(bb);
  });
}

/**
 * 503 with Retry-After while the scan queue is full (maxQueuedScans): checked before the body
 * is read and again before the image is recorded, so an accepted upload always gets its scan
 * (never a 202 followed by a scan that fails with "busy").
 */
export function refuseWhenQueueFull(ctx: AppContext): void {
  if (scansWaiting(ctx) >= ctx.scans.maxQueue)
    throw new HttpError(
      503,
      'busy',
      `the scan queue is full (${ctx.scans.maxQueue} scans waiting, the limit maxQueuedScans); try again later`,
      { limit: ctx.scans.maxQueue },
    );
}

/**
 * Images are stored byte for byte: a compressed body would be stored compressed and its scan
 * would fail later. Refuse any Content-Encoding up front (415) rather than accept the unusable.
 */
export function refuseEncoded(req: Request): void {
  const enc = String(req.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
  if (enc !== 'identity' && enc !== '')
    throw new HttpError(
      415,
      'unsupported-encoding',
      `content encoding ${JSON.stringify(enc).slice(0, 80)} is not accepted for images: send the image uncompressed`,
    );
}

export function mediaType(req: Request): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

export function imagesRouter(ctx: AppContext): Router {
  const r = Router();
  const writer = requireWriter(ctx);

  r.post('/images', writer, async (req: Request, res: Response) => {
    const type = mediaType(req);
    refuseEncoded(req);
    refuseWhenQueueFull(ctx);
    let image: { name: string; blob: StoredBlob };
    let devices: { name: string; blob: StoredBlob }[] = [];
    const stored: StoredBlob[] = [];
    try {
      if (type === 'multipart/form-data') {
        checkDeclaredLength(ctx, req);
        const parts = await readMultipart(ctx, req);
        if (parts.length === 0)
          throw badRequest('bad-multipart', 'no file part: send the image as a file part');
        stored.push(...parts.map((p) => p.blob));
        image = parts[0]!;
        devices = parts.slice(1);
      } else if (type === 'application/octet-stream' || type === 'application/vnd.erofs') {
        const name = safeName(queryString(req.query.name), 'query parameter "name"');
        checkDeclaredLength(ctx, req);
        image = { name, blob: await storeStream(ctx, requestBody(req)) };
        stored.push(image.blob);
      } else {
        throw unsupportedMediaType(
          `content type ${JSON.stringify(type || '(none)')} is not accepted: send application/octet-stream with ?name=, or multipart/form-data`,
        );
      }
      if (image.blob.size === 0) throw new HttpError(422, 'bad-image', 'the image is empty');
      const devRefs: DeviceRef[] = devices.map((d) => ({
        name: d.name,
        sha256: d.blob.sha256,
        size: d.blob.size,
      }));
      const devJson = JSON.stringify(devRefs);
      const id = newId();
      const now = nowIso();
      // Identical content (and devices) scanned before: reuse its manifest, no second scan.
      const prior = await ctx.store.images.priorManifest(image.blob.sha256, devJson);
      // Checked again now that the body is stored: other uploads may have filled the queue.
      if (!prior) refuseWhenQueueFull(ctx);
      const admitted = prior ? undefined : admitScan(ctx);
      try {
        await ctx.store.images.insert({
          id,
          name: image.name,
          sha256: image.blob.sha256,
          size: image.blob.size,
          devices: devJson,
          status: prior ? 'ready' : 'queued',
          error_code: null,
          error_message: null,
          manifest_id: prior ?? null,
          created_at: now,
          updated_at: now,
        });
        if (!prior) await scheduleScan(ctx, id);
      } finally {
        admitted?.();
      }
      ctx.log.info('image uploaded', {
        reqId: (req as { id?: string }).id,
        imageId: id,
        size: image.blob.size,
        deduplicated: !!prior,
      });
      res
        .status(prior ? 200 : 202)
        .location(`/api/images/${id}`)
        .json({ ...(await imageJson(ctx, (await getImage(ctx, id))!)), deduplicated: !!prior });
    } finally {
      // Recorded blobs stay (a row names them); those of a refused upload go.
      await releaseUploads(ctx, stored);
    }
  });

  r.post('/images/:id/devices', writer, async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const row = ID_RE.test(id) ? await getImage(ctx, id) : undefined;
    if (!row) throw notFound(`image ${id}`);
    const type = mediaType(req);
    refuseEncoded(req);
    refuseWhenQueueFull(ctx);
    let added: { name: string; blob: StoredBlob }[] = [];
    try {
      if (type === 'multipart/form-data') {
        checkDeclaredLength(ctx, req);
        added = await readMultipart(ctx, req);
        if (added.length === 0) throw badRequest('bad-multipart', 'no file part');
      } else if (type === 'application/octet-stream') {
        const name = safeName(queryString(req.query.name), 'query parameter "name"');
        checkDeclaredLength(ctx, req);
        added = [{ name, blob: await storeStream(ctx, requestBody(req)) }];
      } else {
        throw unsupportedMediaType(
          `content type ${JSON.stringify(type || '(none)')} is not accepted: send application/octet-stream with ?name=`,
        );
      }
      refuseWhenQueueFull(ctx);
      const admitted = admitScan(ctx);
      try {
        await ctx.store.transaction(async (tx) => {
          const cur = await tx.images.getForUpdate(id);
          if (!cur) throw notFound(`image ${id}`);
          const devs = JSON.parse(cur.devices) as DeviceRef[];
          if (devs.length + added.length > ctx.config.limits.maxDevicesPerImage)
            throw new HttpError(
              409,
              'conflict',
              `an image has at most ${ctx.config.limits.maxDevicesPerImage} devices`,
            );
          for (const a of added) devs.push({ name: a.name, sha256: a.blob.sha256, size: a.blob.size });
          await tx.images.setDevices(id, JSON.stringify(devs), nowIso());
        });
        await scheduleScan(ctx, id);
      } finally {
        admitted();
      }
      res.status(202).json(await imageJson(ctx, (await getImage(ctx, id))!));
    } finally {
      await releaseUploads(
        ctx,
        added.map((a) => a.blob),
      );
    }
  });

  r.get('/images/:id', async (req, res) => {
    const id = String(req.params.id);
    const row = ID_RE.test(id) ? await getImage(ctx, id) : undefined;
    if (!row) throw notFound(`image ${id}`);
    res.json(await imageJson(ctx, row));
  });

  r.get('/images/:id/events', async (req, res) => {
    const id = String(req.params.id);
    // The existence check only (a 404 before the stream starts); the first status is read
    // once listening, below.
    if (!ID_RE.test(id) || !(await getImage(ctx, id))) throw notFound(`image ${id}`);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    const send = (event: string, data: unknown): void => {
      if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    // Events in the order they happened: a status event reads the row first, and a progress
    // event after it must not overtake it.
    let sending: Promise<void> = Promise.resolve();
    const inOrder = (step: () => Promise<void> | void): void => {
      sending = sending.then(step).catch((e: unknown) => {
        ctx.log.warn('image events: could not read the image', { imageId: id, error: (e as Error).message });
        end();
      });
    };
    const sendStatus = async (): Promise<void> => {
      const cur = await getImage(ctx, id);
      if (cur) send('status', await imageJson(ctx, cur));
    };
    const ev = `image:${id}`;
    let closed = false;
    const end = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(beat);
      ctx.bus.off(ev, onEvent);
      ctx.bus.off('shutdown', end);
      res.end();
    };
    const onEvent = (kind: string, data: unknown): void => {
      if (kind === 'progress') inOrder(() => send('progress', data));
      else if (kind === 'status')
        inOrder(async () => {
          await sendStatus();
          if (data === 'ready' || data === 'failed') end();
        });
    };
    const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    res.on('close', end);
    ctx.bus.once('shutdown', end);
    // Listen, then read the row for the first status: a change after the existence check
    // (its event already gone, e.g. a scan that ended on another replica meanwhile) is in
    // this read, and every later one comes as an event. The first status is queued before
    // any event's, so none overtakes it; a finished image's stream ends with it.
    ctx.bus.on(ev, onEvent);
    inOrder(async () => {
      const cur = await getImage(ctx, id);
      if (!cur) return end();
      send('status', await imageJson(ctx, cur));
      if (cur.status === 'ready' || cur.status === 'failed') end();
    });
  });

  return r;
}
