/**
 * Typed client of the sharemap server API (docs/api.md). Every failure becomes an ApiError
 * carrying the server's `{error: {code, message, line, column, ...}}` so views can show it.
 */
import type {
  ApiErrorBody,
  ArchiveInfo,
  DemoInfo,
  ImageInfo,
  ManifestInfo,
  MountConfigInfo,
  ReportCreated,
  ReportRequest,
  ResidencyInfo,
} from '@sharemap/api';
import type { ReportSummaryDoc } from '@sharemap/report-wire';
import type { Report } from '@sharemap/sharing';

// The API's types are defined once, with the server's schemas (packages/api); types only, so
// nothing of it reaches the bundle.
export type {
  ApiErrorBody,
  ArchiveInfo,
  ImageInfo,
  ImageStatus,
  ManifestInfo,
  MountConfigInfo,
  ReportCreated,
  ReportRequest,
} from '@sharemap/api';

export class ApiError extends Error {
  readonly status: number;
  readonly body: ApiErrorBody;
  constructor(status: number, body: ApiErrorBody) {
    super(body.message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

/** An ApiError from a failed response (also used by the workers, which fetch for themselves). */
export async function errorOf(res: Response): Promise<ApiError> {
  try {
    await fail(res);
  } catch (e) {
    return e as ApiError;
  }
  return new ApiError(res.status, { code: `http-${res.status}`, message: res.statusText });
}

async function fail(res: Response): Promise<never> {
  let body: ApiErrorBody = { code: `http-${res.status}`, message: `${res.status} ${res.statusText}` };
  try {
    const j = (await res.json()) as { error?: ApiErrorBody };
    if (j && j.error && typeof j.error.message === 'string') body = j.error;
  } catch {
    /* not JSON: keep the status line */
  }
  throw new ApiError(res.status, body);
}

async function json<T>(res: Promise<Response>): Promise<T> {
  let r: Response;
  try {
    r = await res;
  } catch (e) {
    throw new ApiError(0, { code: 'network', message: `cannot reach the server: ${(e as Error).message}` });
  }
  if (!r.ok) return fail(r);
  return (await r.json()) as T;
}

const enc = encodeURIComponent;

/**
 * POST a body with upload progress (XHR: fetch has none). A Blob goes as
 * application/octet-stream, a FormData as multipart. Where there is no XMLHttpRequest (Node,
 * in the start slice's tests) it goes by fetch, with progress reported once at the end.
 */
function send<T>(
  url: string,
  body: FormData | Blob,
  total: number,
  onProgress: (loaded: number, total: number) => void,
): Promise<T> {
  const headers: Record<string, string> =
    body instanceof Blob ? { 'content-type': 'application/octet-stream' } : {};
  if (typeof XMLHttpRequest === 'undefined')
    return json<T>(fetch(url, { method: 'POST', headers, body })).then((r) => {
      onProgress(total, total);
      return r;
    });
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.responseType = 'json';
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : total);
    xhr.onerror = () => reject(new ApiError(0, { code: 'network', message: 'upload failed: network error' }));
    xhr.onload = () => {
      const res = xhr.response as { error?: ApiErrorBody } | T | null;
      if (xhr.status >= 200 && xhr.status < 300) resolve(res as T);
      else
        reject(
          new ApiError(
            xhr.status,
            (res as { error?: ApiErrorBody } | null)?.error ?? {
              code: `http-${xhr.status}`,
              message: xhr.statusText,
            },
          ),
        );
    };
    xhr.send(body);
  });
}

export const api = {
  demo: () => json<DemoInfo>(fetch('/api/demo')),
  /** The whole report as one JSON document (the CLI's form; the UI loads summary + files instead). */
  report: (id: string) => json<Report>(fetch(`/api/reports/${enc(id)}`)),
  /** The report without its per-file parts: small, for the first screen. */
  summary: (id: string) => json<ReportSummaryDoc>(fetch(`/api/reports/${enc(id)}/summary`)),
  /** URLs the workers fetch themselves (large bodies never parsed on the main thread). */
  filesUrl: (id: string) => `/api/reports/${enc(id)}/files`,
  inputUrl: (id: string) => `/api/reports/${enc(id)}/input`,
  image: (id: string) => json<ImageInfo>(fetch(`/api/images/${enc(id)}`)),
  createReport: (req: ReportRequest) =>
    json<ReportCreated>(
      fetch('/api/reports', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(req),
      }),
    ),
  /** A mount configuration; `format` overrides the server's detection (detectFormat). */
  mountConfig: (name: string, text: string, format?: string) =>
    json<MountConfigInfo>(
      fetch(`/api/mount-configs?name=${enc(name)}${format ? `&format=${enc(format)}` : ''}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: text,
      }),
    ),
  /** Page-cache residency (fincore, vmtouch, pcstat, access list, host snapshot): docs/working-set.md. */
  residency: (name: string, text: string) =>
    json<ResidencyInfo>(
      fetch(`/api/residency?name=${enc(name)}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: text,
      }),
    ),
  /** A manifest's NDJSON: a string, or a Blob (a browser scan's, sent from the blob store as it is). */
  manifest: (name: string, ndjson: string | Blob) =>
    json<ManifestInfo>(
      fetch(`/api/manifests?name=${enc(name)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson' },
        body: ndjson,
      }),
    ),
  /**
   * Multipart upload (image first, then its devices) with upload progress (XHR: fetch has none).
   * Where there is no XMLHttpRequest (Node, in the start slice's tests) the same form goes by
   * fetch, with progress reported once at the end.
   */
  uploadImage(
    image: File,
    devices: File[],
    onProgress: (loaded: number, total: number) => void,
  ): Promise<ImageInfo> {
    const form = new FormData();
    form.append('image', image, image.name);
    for (const d of devices) form.append('device', d, d.name);
    const total = image.size + devices.reduce((n, d) => n + d.size, 0);
    return send<ImageInfo>('/api/images', form, total, onProgress);
  },
  /**
   * An OCI archive (docker save, OCI layout tar, rootfs tar) sent as it is to POST /api/archives,
   * which predicts its manifests (docs/oci.md); progress as for images.
   */
  uploadArchive(
    archive: File,
    model: 'flattened' | 'layers',
    onProgress: (loaded: number, total: number) => void,
  ): Promise<ArchiveInfo> {
    return send<ArchiveInfo>(
      `/api/archives?name=${enc(archive.name)}&model=${model}`,
      archive,
      archive.size,
      onProgress,
    );
  },
  /** Polls an image until its scan is ready or failed. */
  async waitForScan(
    id: string,
    onProgress: (img: ImageInfo) => void,
    signal?: AbortSignal,
  ): Promise<ImageInfo> {
    for (;;) {
      const img = await api.image(id);
      onProgress(img);
      if (img.status === 'ready' || img.status === 'failed') return img;
      if (signal?.aborted) throw new Error('aborted');
      await new Promise((r) => setTimeout(r, 250));
    }
  },
};
