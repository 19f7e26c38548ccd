/**
 * Every route of the sharemap HTTP API: method, path, parameters, request body and the
 * responses with their status codes and schemas (schemas.ts). The OpenAPI document is built
 * from this table (openapi.ts); apps/server/test/api-routes.test.ts checks that the server
 * registers exactly these routes and that each answers as documented.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import {
  AnalysisInput,
  Archive,
  Demo,
  ErrorBody,
  GcResult,
  Health,
  Ready,
  Id,
  Image,
  Manifest,
  MountConfig,
  MountConfigJsonBody,
  Report,
  ReportCreated,
  ReportList,
  ReportName,
  ReportNameList,
  ReportNamePut,
  ReportNameSet,
  reportRequestSchema,
  ReportSummary,
  Residency,
  TokenCreate,
  TokenCreated,
  TokenList,
  type ApiLimits,
} from './schemas.js';

export interface ApiParam {
  name: string;
  in: 'path' | 'query';
  description?: string;
  schema: TSchema;
}

export interface ApiResponse {
  description: string;
  /** The JSON body's schema. */
  schema?: TSchema;
  /** Other media types (binary, text, event streams): type -> schema or {}. */
  media?: Record<string, TSchema | Record<string, never>>;
}

export interface ApiRoute {
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI path template under the server root, e.g. /api/images/{id}. */
  path: string;
  summary: string;
  /** writer: a token when the server requires tokens; admin: an admin token always. */
  auth?: 'writer' | 'admin';
  params?: ApiParam[];
  /** A JSON request body (schema) or other media types. */
  body?: { schema?: TSchema; media?: Record<string, TSchema | Record<string, never>> };
  responses: Record<number, ApiResponse>;
}

const err = (description: string): ApiResponse => ({ description, schema: ErrorBody });
const ok = (description: string, schema?: TSchema): ApiResponse =>
  schema ? { description, schema } : { description };
const idParam = (what: string): ApiParam => ({
  name: 'id',
  in: 'path',
  description: `${what} id (22 characters, base64url of 128 random bits)`,
  schema: Id(`a ${what} id`),
});
const nameQuery = (description = 'file name'): ApiParam => ({
  name: 'name',
  in: 'query',
  description,
  schema: Type.String(),
});
const limitQuery: ApiParam = {
  name: 'limit',
  in: 'query',
  schema: Type.Integer({ minimum: 1, maximum: 1000 }),
};
const reportName: ApiParam = {
  name: 'name',
  in: 'path',
  description:
    'report name: 1-100 ASCII letters, digits, ".", "_", "-", "/"; "/"-separated parts, none empty or starting with "."; no ".." (send "/" as is or as %2F)',
  schema: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._/-]{1,100}$' }),
};
const binary = Type.String({ format: 'binary' });
const token = { 401: err('token required or unknown') };
const adminOnly = { 401: err('no or unknown token'), 403: err('not an admin token') };
const busyParts = err('busy or timeout while deriving the parts of an older report');

/** GET of one stored resource by id: 200 with its schema, 404 for an unknown id. */
const byId = (
  path: string,
  what: string,
  summary: string,
  body: ApiResponse,
  missing = `unknown ${what}`,
): ApiRoute => ({
  method: 'get',
  path,
  summary,
  params: [idParam(what)],
  responses: { 200: body, 404: err(missing) },
});

/** The route table, with the server's limits in the descriptions and schemas. */
export function apiRoutes(l: ApiLimits): ApiRoute[] {
  return [
    {
      method: 'get',
      path: '/api/health',
      summary: 'Liveness and state',
      responses: { 200: ok('ok', Health), 503: err('database unavailable') },
    },
    {
      method: 'get',
      path: '/api/ready',
      summary:
        'Readiness: database and blob store reachable (503 with the reason otherwise, and while shutting down)',
      responses: { 200: ok('ready', Ready), 503: err('not ready: the reason') },
    },
    {
      method: 'get',
      path: '/api/openapi.json',
      summary: 'This document',
      responses: { 200: ok('OpenAPI 3.1', Type.Object({ openapi: Type.Literal('3.1.0') })) },
    },
    {
      method: 'get',
      path: '/api/demo',
      summary: 'The demo report loaded at first start',
      responses: {
        200: ok('demo report id and link', Demo),
        404: err('no demo on this server'),
        503: err('demo still loading (Retry-After)'),
      },
    },
    {
      method: 'post',
      path: '/api/images',
      summary: 'Upload an EROFS image (streamed to disk, then scanned in a worker thread)',
      auth: 'writer',
      params: [nameQuery('file name (raw uploads)')],
      body: {
        media: {
          'application/octet-stream': binary,
          'multipart/form-data': Type.Object(
            {},
            { description: 'first file part: the image; further file parts: its extra devices in order' },
          ),
        },
      },
      responses: {
        202: ok('stored, scan queued', Image),
        200: ok('identical content scanned before: ready at once', Image),
        400: err('bad name, truncated multipart, interrupted upload'),
        ...token,
        413: err(`larger than ${l.maxUploadBytes} bytes`),
        415: err('content type not accepted'),
        422: err('empty image'),
        503: err('scan queue full'),
      },
    },
    byId(
      '/api/images/{id}',
      'image',
      'Image status, scan progress, error, manifest summary (polling)',
      ok('image', Image),
    ),
    {
      method: 'get',
      path: '/api/images/{id}/events',
      summary: 'Scan progress as server-sent events (`status`, `progress`); ends when the scan ends',
      params: [idParam('image')],
      responses: {
        200: { description: 'server-sent events', media: { 'text/event-stream': {} } },
        404: err('unknown image'),
      },
    },
    {
      method: 'post',
      path: '/api/images/{id}/devices',
      summary: 'Attach extra devices (blob devices, tar of --tar=i) in device-table order; rescans the image',
      auth: 'writer',
      params: [idParam('image'), nameQuery()],
      body: { media: { 'application/octet-stream': binary, 'multipart/form-data': {} } },
      responses: {
        202: ok('attached, rescan queued', Image),
        400: err('bad name or multipart'),
        ...token,
        404: err('unknown image'),
        409: err(`more than ${l.maxDevicesPerImage} devices`),
        413: err('too large'),
        415: err('content type'),
      },
    },
    {
      method: 'post',
      path: '/api/manifests',
      summary: 'Upload a manifest (sharemap scan, browser scan): NDJSON or JSON, optionally gzip',
      auth: 'writer',
      params: [nameQuery()],
      body: { media: { 'application/x-ndjson': {}, 'application/json': {}, 'application/gzip': {} } },
      responses: {
        201: ok('stored', Manifest),
        400: err('corrupt gzip, interrupted upload'),
        ...token,
        413: err(`more than ${l.maxManifestBytes} bytes uncompressed`),
        415: err('content type or encoding'),
        422: err('invalid manifest (line, field)'),
      },
    },
    byId('/api/manifests/{id}', 'manifest', 'Manifest summary', ok('manifest', Manifest)),
    {
      method: 'post',
      path: '/api/archives',
      summary:
        'Upload an OCI archive (docker save, OCI layout tar, rootfs tar; layers plain, gzip or zstd; kind told from the bytes): streamed to disk, its predicted EROFS manifests stored (docs/oci.md)',
      auth: 'writer',
      params: [
        nameQuery("file name (a rootfs tar's image name)"),
        {
          name: 'model',
          in: 'query',
          description: 'flattened (default): one manifest per OCI image; layers: one per distinct layer',
          schema: Type.Union([Type.Literal('flattened'), Type.Literal('layers')]),
        },
        {
          name: 'platform',
          in: 'query',
          description: 'os/arch[/variant] picked from a multi-platform index (default linux/amd64)',
          schema: Type.String(),
        },
      ],
      body: { media: { 'application/octet-stream': binary, 'application/x-tar': binary } },
      responses: {
        201: ok('predicted, manifests stored', Archive),
        400: err('bad name, model or platform; interrupted upload'),
        ...token,
        413: err(`larger than ${l.maxUploadBytes} bytes`),
        415: err('content type or encoding not accepted'),
        422: err(
          '`bad-archive`: not an archive, truncated, digest mismatch, missing layer, escaping link, over a limit (`reason`: the OCI error code); nothing stored',
        ),
        503: err('scan queue full, or the prediction took longer than scanTimeoutMs'),
      },
    },
    {
      method: 'post',
      path: '/api/mount-configs',
      summary:
        'Upload a mount configuration (mountinfo, /proc/mounts, fstab, systemd units, mount commands, losetup --json, JSON plan)',
      auth: 'writer',
      params: [
        nameQuery('file name (helps format detection)'),
        { name: 'format', in: 'query', schema: Type.Union(l.mountFormats.map((f) => Type.Literal(f))) },
      ],
      body: { media: { 'text/plain': Type.String(), 'application/json': MountConfigJsonBody } },
      responses: {
        201: ok('parsed and stored (redacted)', MountConfig),
        400: err('empty, bad format name'),
        ...token,
        413: err(`more than ${l.maxMountConfigBytes} bytes`),
        415: err('content type'),
        422: err('parse error with file, line and column'),
      },
    },
    byId(
      '/api/mount-configs/{id}',
      'mount configuration',
      'A stored (redacted) mount configuration',
      ok('config', MountConfig),
      'unknown',
    ),
    {
      method: 'post',
      path: '/api/residency',
      summary:
        'Upload page-cache residency (fincore -J / --raw, vmtouch -v, pcstat -json, an access list, or a sharemap collect host snapshot; Content-Encoding: gzip accepted)',
      auth: 'writer',
      params: [nameQuery('file name (for messages)')],
      body: { media: { 'text/plain': Type.String() } },
      responses: {
        201: ok('parsed and stored', Residency),
        400: err('empty'),
        ...token,
        413: err(`more than ${l.maxResidencyUploadBytes} bytes`),
        415: err('content type'),
        422: err('parse error with file, line and column (code bad-residency)'),
      },
    },
    byId(
      '/api/residency/{id}',
      'residency input',
      'A stored residency input (its summary)',
      ok('summary', Residency),
      'unknown',
    ),
    {
      method: 'post',
      path: '/api/reports',
      summary: 'Create an immutable report snapshot; waits for pending scans of its images',
      auth: 'writer',
      body: { schema: reportRequestSchema(l) },
      responses: {
        201: ok('created', ReportCreated),
        400: err('bad request body (the message names the field)'),
        ...token,
        409: err('an image is still being scanned'),
        413: err(
          `body larger than ${l.maxJsonBodyBytes} bytes, too many images, or more file records than SHAREMAP_MAX_REPORT_RECORDS`,
        ),
        415: err('not application/json'),
        422: err('unknown ids, failed scans, no mount matches an image'),
        503: err('analysis timeout or queue full'),
      },
    },
    {
      method: 'get',
      path: '/api/reports',
      summary: 'List reports (admin token only)',
      auth: 'admin',
      params: [
        limitQuery,
        {
          name: 'before',
          in: 'query',
          description: 'cursor: the `next` of the previous page (<createdAt>~<id>)',
          schema: Type.String(),
        },
      ],
      responses: {
        200: ok('reports, newest first', ReportList),
        400: err('bad limit or cursor'),
        ...adminOnly,
      },
    },
    {
      method: 'get',
      path: '/api/reports/{id}',
      summary: 'A report (JSON; gzip when accepted), or an export',
      params: [
        idParam('report'),
        {
          name: 'format',
          in: 'query',
          schema: Type.Union(['json', 'csv', 'markdown', 'html'].map((f) => Type.Literal(f))),
        },
      ],
      responses: {
        200: {
          description: 'report',
          schema: Report,
          media: { 'text/csv': {}, 'text/markdown': {}, 'text/html': {} },
        },
        400: err('unknown format'),
        404: err('unknown report'),
      },
    },
    {
      method: 'get',
      path: '/api/reports/{id}/summary',
      summary:
        'The report without its per-file parts (files, groups, paths), plus the figures the first screen needs (JSON; gzip when accepted)',
      params: [idParam('report')],
      responses: { 200: ok('summary', ReportSummary), 404: err('unknown report'), 503: busyParts },
    },
    {
      method: 'get',
      path: '/api/reports/{id}/files',
      summary:
        'The per-file parts of the report (files, groups, paths) in the sharemap-files columnar binary encoding (gzip when accepted)',
      params: [idParam('report')],
      responses: {
        200: {
          description: 'sharemap-files encoding (packages/report-wire, docs/api.md)',
          media: { 'application/vnd.sharemap.files': binary },
        },
        404: err('unknown report'),
        503: busyParts,
      },
    },
    byId(
      '/api/reports/{id}/input',
      'report',
      'The analysis input of a report (to re-run the model live)',
      ok('input', AnalysisInput),
    ),
    {
      method: 'get',
      path: '/api/report-names',
      summary: 'List report names (admin token only)',
      auth: 'admin',
      params: [
        limitQuery,
        {
          name: 'after',
          in: 'query',
          description: 'cursor: the `next` of the previous page',
          schema: Type.String(),
        },
      ],
      responses: { 200: ok('names in name order', ReportNameList), 400: err('bad limit'), ...adminOnly },
    },
    {
      method: 'get',
      path: '/api/report-names/{name}',
      summary:
        'The report a name points at (e.g. the baseline "main"). Names are guessable: needs a token when the server requires tokens',
      auth: 'writer',
      params: [reportName],
      responses: { 200: ok('name', ReportName), 400: err('bad name'), ...token, 404: err('unknown name') },
    },
    {
      method: 'put',
      path: '/api/report-names/{name}',
      summary: 'Set or move a name to a report',
      auth: 'writer',
      params: [reportName],
      body: { schema: ReportNamePut },
      responses: {
        200: ok('moved (previousReportId: where it pointed before)', ReportNameSet),
        201: ok('created (previousReportId: null)', ReportNameSet),
        400: err('bad name, body or report id'),
        ...token,
        415: err('not application/json'),
        422: err('unknown report (unknown-report)'),
      },
    },
    {
      method: 'delete',
      path: '/api/report-names/{name}',
      summary: 'Remove a name (the report stays)',
      auth: 'writer',
      params: [reportName],
      responses: { 204: ok('removed'), 400: err('bad name'), ...token, 404: err('unknown name') },
    },
    {
      method: 'post',
      path: '/api/admin/gc',
      summary:
        'Run one garbage collection now (admin): expire unnamed reports and uploads past their TTL, remove blobs no row names past the grace period',
      auth: 'admin',
      responses: { 200: ok('what it removed', GcResult), ...adminOnly },
    },
    {
      method: 'get',
      path: '/api/tokens',
      summary: 'List tokens (names, no secrets; admin)',
      auth: 'admin',
      responses: { 200: ok('tokens', TokenList), ...adminOnly },
    },
    {
      method: 'post',
      path: '/api/tokens',
      summary: 'Create a token (admin); the token is returned once',
      auth: 'admin',
      body: { schema: TokenCreate },
      responses: {
        201: ok('created', TokenCreated),
        400: err('bad name'),
        ...adminOnly,
        415: err('not application/json'),
      },
    },
  ];
}

/** Named schemas: the OpenAPI document lists them under components and refers to them. */
export const NAMED_SCHEMAS: Record<string, TSchema> = {
  Error: ErrorBody,
  Image,
  Manifest,
  Archive,
  MountConfig,
  Residency,
  ReportCreated,
  Report,
  ReportSummary,
  ReportName,
  AnalysisInput,
};
