/**
 * HTTP client of the sharemap server (apps/server, docs/api.md). Node's fetch (undici) with
 * streamed request bodies. Errors map to exit codes: unreachable server, timeouts, 5xx and
 * replies that are not what the API promises -> 3; the server rejecting our input (4xx:
 * bad image, bad manifest, bad mount line, missing or wrong token, unknown report id) -> 2.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { trimTrailingSlashes } from '@sharemap/sharing';
import { CliError, EXIT_BAD_INPUT, EXIT_SERVER, oneLine, serverError } from './errors.js';

export interface ClientOptions {
  token?: string;
  /** Timeout of requests without a streamed body, ms; default 120 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export interface UploadProgress {
  (sent: number, total: number): void;
}

function describeNetworkError(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError') return 'request timed out';
  if (err.name === 'AbortError') return 'request aborted';
  const c = err.cause;
  if (c?.code)
    return `${c.code}${c.message && !c.message.includes(c.code) ? ` (${oneLine(c.message)})` : ''}`;
  return oneLine(c?.message ?? err.message);
}

export class ServerClient {
  readonly base: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly signal: AbortSignal | undefined;

  constructor(base: string, opts: ClientOptions = {}) {
    this.base = trimTrailingSlashes(base);
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.fetchImpl = opts.fetch ?? fetch;
    this.signal = opts.signal;
  }

  /** Absolute URL of a server path or of a URL the server returned (maybe relative). */
  url(path: string): string {
    return new URL(path, this.base + '/').toString();
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json', ...extra };
    if (this.token) h.authorization = `Bearer ${this.token}`;
    return h;
  }

  async request<T>(
    method: string,
    path: string,
    opts: {
      body?: RequestInit['body'];
      headers?: Record<string, string>;
      stream?: boolean;
      what?: string;
      /** A 404 of a known route (an unknown id or name) is null instead of an error. */
      nullOn404?: boolean;
    } = {},
  ): Promise<T> {
    const what = opts.what ?? `${method} ${path}`;
    const signals: AbortSignal[] = [];
    if (!opts.stream) signals.push(AbortSignal.timeout(this.timeoutMs));
    if (this.signal) signals.push(this.signal);
    const init: RequestInit & { duplex?: 'half' } = { method, headers: this.headers(opts.headers) };
    if (opts.body !== undefined) init.body = opts.body;
    if (opts.stream) init.duplex = 'half';
    if (signals.length > 0) init.signal = signals.length === 1 ? signals[0]! : AbortSignal.any(signals);
    let res: Response;
    try {
      res = await this.fetchImpl(this.url(path), init);
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw serverError(
        opts.stream
          ? `${what}: the connection to the sharemap server at ${this.base} failed: ${describeNetworkError(e)}`
          : `cannot reach the sharemap server at ${this.base}: ${describeNetworkError(e)}`,
        e,
      );
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw serverError(`${what}: reply from ${this.base} broke off: ${describeNetworkError(e)}`, e);
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      // "no route ..." is a server that does not know the route (an older version): an error.
      if (
        res.status === 404 &&
        opts.nullOn404 &&
        err?.code === 'not-found' &&
        !/^no route /.test(err.message ?? '')
      )
        return null as T;
      const detail = err?.message
        ? `${oneLine(err.message)}${err.code ? ` (${err.code})` : ''}`
        : `${res.status} ${res.statusText}`;
      if (res.status === 401 || res.status === 403)
        throw new CliError(
          EXIT_BAD_INPUT,
          `${what}: the server refused the request (${res.status}): ${detail}; ${this.token ? 'check the token' : 'give a token with --token or SHAREMAP_TOKEN'}`,
        );
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429)
        throw new CliError(
          EXIT_BAD_INPUT,
          `${what}: the server rejected the request (${res.status}): ${detail}`,
        );
      throw new CliError(EXIT_SERVER, `${what}: server error (${res.status}): ${detail}`);
    }
    if (json === undefined)
      throw serverError(
        `${what}: the server at ${this.base} did not reply with JSON (is it a sharemap server?)`,
      );
    return json as T;
  }

  /**
   * Before streaming large uploads: is the server there and does it accept our token? An empty
   * report request passes the server's token check and is then refused as incomplete (4xx);
   * 401/403 means the token is missing or wrong (exit 2), a network error or 5xx exit 3.
   */
  async checkWriteAccess(): Promise<void> {
    try {
      await this.request<unknown>('POST', '/api/reports', {
        body: '{}',
        headers: { 'content-type': 'application/json' },
        what: `access check of ${this.base}`,
      });
    } catch (e) {
      if (e instanceof CliError && e.exitCode === EXIT_BAD_INPUT && !/\((401|403)\)/.test(e.message)) return;
      throw e;
    }
  }

  /** Stream a file as the request body (application/octet-stream unless given). */
  async uploadFile<T>(
    path: string,
    url: string,
    opts: { contentType?: string; onProgress?: UploadProgress; what?: string } = {},
  ): Promise<T> {
    const size = (await stat(path)).size;
    let sent = 0;
    const file = createReadStream(path, { highWaterMark: 1 << 20 });
    file.on('data', (chunk) => {
      sent += chunk.length;
      opts.onProgress?.(sent, size);
    });
    const body = Readable.toWeb(file) as unknown as ReadableStream<Uint8Array>;
    try {
      return await this.request<T>('POST', url, {
        body,
        stream: true,
        headers: { 'content-type': opts.contentType ?? 'application/octet-stream' },
        what: opts.what ?? `upload of ${path}`,
      });
    } finally {
      file.destroy();
    }
  }

  /**
   * Stream several files as one multipart/form-data body (an image and its devices in one
   * request), never holding a file in memory. `onProgress` counts file bytes.
   */
  async uploadMultipart<T>(
    url: string,
    files: { field: string; path: string; name: string }[],
    opts: { onProgress?: UploadProgress; what?: string } = {},
  ): Promise<T> {
    const boundary = `----sharemap${randomBytes(12).toString('hex')}`;
    const sizes = await Promise.all(files.map(async (f) => (await stat(f.path)).size));
    const total = sizes.reduce((a, b) => a + b, 0);
    const streams: ReturnType<typeof createReadStream>[] = [];
    let sent = 0;
    const enc = new TextEncoder();
    async function* parts(): AsyncGenerator<Uint8Array> {
      for (const f of files) {
        const quoted = f.name.replace(/["\\\r\n]/g, '_');
        yield enc.encode(
          `--${boundary}\r\nContent-Disposition: form-data; name="${f.field}"; filename="${quoted}"\r\n` +
            'Content-Type: application/octet-stream\r\n\r\n',
        );
        const s = createReadStream(f.path, { highWaterMark: 1 << 20 });
        streams.push(s);
        for await (const chunk of s) {
          sent += (chunk as Buffer).length;
          opts.onProgress?.(sent, total);
          yield chunk as Buffer;
        }
        yield enc.encode('\r\n');
      }
      yield enc.encode(`--${boundary}--\r\n`);
    }
    const body = Readable.toWeb(Readable.from(parts())) as unknown as ReadableStream<Uint8Array>;
    try {
      return await this.request<T>('POST', url, {
        body,
        stream: true,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        what: opts.what ?? `upload of ${files[0]?.path ?? 'files'}`,
      });
    } finally {
      for (const s of streams) s.destroy();
    }
  }
}
