/**
 * Manifests from `sharemap scan` or the browser: NDJSON (validated line by line as it
 * streams) or JSON, optionally gzip (Content-Encoding: gzip or gzip magic bytes).
 */
import { Router, type Request, type Response } from 'express';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import {
  ManifestError,
  manifestHeader,
  manifestToNdjson,
  NdjsonManifestParser,
  parseManifest,
  type Manifest,
} from '@sharemap/erofs';
import type { AppContext } from '../context.js';
import { HttpError, notFound, tooLarge, unprocessable, unsupportedMediaType } from '../errors.js';
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

/** Bytes of the request, gunzipped when it is gzip (by header or by magic), bounded. */
async function* bodyBytes(req: Request, maxBytes: number): AsyncGenerator<Buffer> {
  const enc = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  if (enc !== 'identity' && enc !== 'gzip' && enc !== 'x-gzip')
    throw new HttpError(
      415,
      'unsupported-encoding',
      `content encoding ${JSON.stringify(enc)} is not supported (gzip or none)`,
    );
  const it = (req as Readable)[Symbol.asyncIterator]();
  let first = await it.next();
  while (!first.done && (first.value as Buffer).length < 2) {
    const more = await it.next();
    if (more.done) break;
    first = { done: false, value: Buffer.concat([first.value as Buffer, more.value as Buffer]) };
  }
  const head = first.done ? Buffer.alloc(0) : (first.value as Buffer);
  const gzip = enc !== 'identity' || (head[0] === 0x1f && head[1] === 0x8b);
  async function* raw(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value as Buffer;
    }
  }
  let total = 0;
  const source: AsyncIterable<Buffer> = gzip ? Readable.from(raw()).pipe(createGunzip()) : raw();
  try {
    for await (const chunk of source) {
      total += chunk.length;
      if (total > maxBytes)
        throw tooLarge(`manifest larger than the limit of ${maxBytes} bytes (uncompressed)`, {
          limit: maxBytes,
        });
      yield chunk;
    }
  } catch (e) {
    if (e instanceof HttpError) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' || code === 'ERR_ZLIB_INITIALIZATION_FAILED')
      throw new HttpError(
        400,
        'bad-gzip',
        `the gzip stream is corrupt or truncated: ${(e as Error).message}`,
      );
    throw new HttpError(400, 'aborted', `the upload was interrupted: ${(e as Error).message}`);
  }
}

/** Parse a manifest stream: NDJSON incrementally (refused at the first bad line), JSON as a whole. */
export async function readManifest(chunks: AsyncIterable<Buffer>, maxRecords: number): Promise<Manifest> {
  const decoder = new StringDecoder('utf8');
  let parser: NdjsonManifestParser | null = null;
  let mode: 'unknown' | 'ndjson' | 'json' = 'unknown';
  let buf = '';
  const jsonParts: string[] = [];
  const feed = (text: string, final: boolean): void => {
    if (mode === 'json') {
      jsonParts.push(text);
      return;
    }
    buf += text;
    for (;;) {
      const nl = buf.indexOf('\n');
      if (nl < 0) break;
      const line = buf.slice(0, nl + 1);
      if (mode === 'unknown') {
        if (line.trim() === '') {
          jsonParts.push(line);
          buf = buf.slice(nl + 1);
          continue;
        }
        let first: unknown;
        try {
          first = JSON.parse(line.replace(/^\uFEFF/, ''));
        } catch {
          first = undefined;
        }
        if (first && typeof first === 'object' && !Array.isArray(first) && !Object.hasOwn(first, 'files')) {
          mode = 'ndjson';
          parser = new NdjsonManifestParser({ maxRecords });
          jsonParts.length = 0;
        } else {
          mode = 'json';
          jsonParts.push(buf);
          buf = '';
          return;
        }
      }
      parser!.line(line.replace(/^\uFEFF/, ''));
      buf = buf.slice(nl + 1);
    }
    if (final && buf !== '') {
      if (mode === 'ndjson') parser!.line(buf);
      else jsonParts.push(buf);
      buf = '';
    }
  };
  for await (const chunk of chunks) feed(decoder.write(chunk), false);
  feed(decoder.end(), true);
  if ((mode as string) === 'ndjson') return (parser as NdjsonManifestParser | null)!.end();
  return parseManifest(jsonParts.join(''), { maxRecords });
}

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
    let manifest: Manifest;
    try {
      manifest = await readManifest(
        bodyBytes(req, ctx.config.limits.maxManifestBytes),
        ctx.config.limits.maxManifestRecords,
      );
    } catch (e) {
      if (e instanceof ManifestError) {
        req.resume(); // discard the rest of a refused upload
        throw e;
      }
      throw e;
    }
    if (manifest.files.length > ctx.config.limits.maxFilesPerImage)
      throw unprocessable(
        'bad-manifest',
        `manifest has ${manifest.files.length} records, more than the limit of ${ctx.config.limits.maxFilesPerImage}`,
      );
    const displayName = name ?? safeName(manifest.image.name, 'manifest image.name');
    const blob = await ctx.blobs.putGzip(manifestToNdjson(manifest));
    const id = newId();
    const header = manifestHeader(manifest);
    ctx.db
      .prepare(
        `INSERT INTO manifests (id, name, blob, header, file_count, hashed, source, image_id, created_at) VALUES (?, ?, ?, ?, ?, ?, 'upload', NULL, ?)`,
      )
      .run(
        id,
        displayName,
        blob.sha256,
        JSON.stringify(header),
        header.file_count,
        header.hashed ? 1 : 0,
        nowIso(),
      );
    res
      .status(201)
      .location(`/api/manifests/${id}`)
      .json(manifestJson(id, displayName, header));
  });

  r.get('/manifests/:id', (req, res) => {
    const id = String(req.params.id);
    const row = ID_RE.test(id)
      ? (ctx.db.prepare('SELECT id, name, header FROM manifests WHERE id = ?').get(id) as
          { id: string; name: string; header: string } | undefined)
      : undefined;
    if (!row) throw notFound(`manifest ${id}`);
    res.json(manifestJson(row.id, row.name, JSON.parse(row.header) as ReturnType<typeof manifestHeader>));
  });

  return r;
}

function manifestJson(
  id: string,
  name: string,
  h: ReturnType<typeof manifestHeader>,
): Record<string, unknown> {
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
