/** The OpenAPI 3.1 description of the API (hand-written; docs/api.md has the prose). */
import type { ServerConfig } from './config.js';
import { MOUNT_FORMATS } from './routes/mount-configs.js';
import { MAX_RESIDENCY_UPLOAD_BYTES } from './routes/residency.js';
import { MAX_RESIDENCY_PER_REPORT } from './reports.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });
const err = (description: string) => ({ description, content: json(ref('Error')) });
const idParam = (what: string) => ({
  name: 'id',
  in: 'path',
  required: true,
  description: `${what} id (22 characters, base64url of 128 random bits)`,
  schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' },
});
const bearer = [{ bearer: [] }, {}];
const nameParam = {
  name: 'name',
  in: 'path',
  required: true,
  description:
    'report name: 1-100 ASCII letters, digits, ".", "_", "-", "/"; "/"-separated parts, none empty or starting with "."; no ".." (send "/" as is or as %2F)',
  schema: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._/-]{1,100}$' },
};
const admin = [{ bearer: [] }];

export function openapiDocument(config: ServerConfig): Record<string, unknown> {
  const l = config.limits;
  return {
    openapi: '3.1.0',
    info: {
      title: 'sharemap server API',
      version: '0.1.0',
      description:
        'Uploads EROFS images, manifests and mount configurations; creates immutable page-cache sharing reports behind unguessable links. Errors are `{error: {code, message}}`. See docs/api.md.',
    },
    servers: config.publicUrl ? [{ url: config.publicUrl }] : [{ url: '/' }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: `Tokens from \`sharemap token create\`. Required for writes and for reading report names when the server runs with SHAREMAP_REQUIRE_TOKEN=1 (now: ${config.requireToken}); admin tokens for listing.`,
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string', examples: ['bad-manifest', 'too-large', 'not-found'] },
                message: { type: 'string' },
                line: { type: 'integer', description: 'manifest and mount configuration errors' },
                column: { type: 'integer', description: 'mount configuration errors' },
                field: { type: 'string' },
                reason: { type: 'string', description: 'finer code (EROFS reader errno class, parser code)' },
                limit: { type: 'integer' },
                requestId: { type: 'string', description: '5xx: the id in the server log' },
              },
              additionalProperties: true,
            },
          },
        },
        Image: {
          type: 'object',
          required: ['id', 'name', 'sha256', 'size', 'devices', 'status'],
          properties: {
            id: { type: 'string' },
            name: { type: 'string' },
            sha256: { type: 'string' },
            size: { type: 'integer' },
            devices: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  name: { type: 'string' },
                  sha256: { type: 'string' },
                  size: { type: 'integer' },
                },
              },
            },
            status: { enum: ['queued', 'scanning', 'ready', 'failed'] },
            progress: {
              type: 'object',
              properties: { files: { type: 'integer' }, bytesHashed: { type: 'integer' } },
            },
            error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
            manifest: { type: 'object', description: 'summary of the scan result (ready images)' },
            deduplicated: {
              type: 'boolean',
              description: 'upload only: identical content was scanned before',
            },
            createdAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
          },
        },
        Manifest: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            name: { type: 'string' },
            fileCount: { type: 'integer' },
            hashed: { type: 'boolean' },
            image: { type: 'object' },
            blockSize: { type: 'integer' },
            ishare: { type: 'boolean' },
          },
        },
        MountConfig: {
          type: 'object',
          description: 'The redacted parse result: domains appear only as labels (D1, D2, ...).',
          properties: {
            id: { type: 'string' },
            name: { type: 'string' },
            format: { enum: MOUNT_FORMATS },
            entries: { type: 'array', items: { type: 'object' } },
            warnings: { type: 'array', items: { type: 'object' } },
            config: { type: 'object' },
          },
        },
        ReportRequest: {
          type: 'object',
          additionalProperties: false,
          properties: {
            images: { type: 'array', items: { type: 'string' }, maxItems: l.maxImagesPerReport },
            manifests: { type: 'array', items: { type: 'string' }, maxItems: l.maxImagesPerReport },
            mountConfigs: { type: 'array', items: { type: 'string' }, maxItems: l.maxMountConfigsPerReport },
            residency: {
              type: 'array',
              maxItems: MAX_RESIDENCY_PER_REPORT,
              description:
                'residency inputs (POST /api/residency ids): instance = id, label or mount point; without it records map by mount point',
              items: {
                type: 'object',
                required: ['id'],
                additionalProperties: false,
                properties: { id: { type: 'string' }, instance: { type: 'string' } },
              },
            },
            mapping: {
              type: 'object',
              additionalProperties: { type: 'string' },
              description: 'mount source -> image id (server id or name)',
            },
            domainAssignments: {
              type: 'object',
              additionalProperties: { type: 'string' },
              description: 'instance id -> domain label',
            },
            publishers: {
              type: 'object',
              additionalProperties: { type: 'string' },
              description: 'image id or name -> publisher',
            },
            options: {
              type: 'object',
              properties: {
                pageSize: { type: 'integer', enum: [4096, 8192, 16384, 32768, 65536] },
                workingSetFraction: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
              },
            },
            title: { type: 'string', maxLength: 200 },
          },
        },
        ReportCreated: {
          type: 'object',
          required: ['id', 'url'],
          properties: {
            id: { type: 'string' },
            url: { type: 'string', description: 'link to the report in the web UI (/r/<id>)' },
            apiUrl: { type: 'string' },
            summary: { type: 'object' },
            unresolved: {
              type: 'array',
              items: { type: 'object' },
              description: 'mounts that matched no image',
            },
            warnings: { type: 'array', items: { type: 'object' } },
          },
        },
        Report: {
          type: 'object',
          description: 'packages/sharing Report (kind "sharemap-report", version 1)',
        },
        ReportSummary: {
          type: 'object',
          description:
            'packages/report-wire ReportSummaryDoc: the Report without files, groups and paths, plus fileRows, groupCount, topGroups (the 10 shared inodes that save most, with "image:path" of their first member) and instanceAops (instance id -> aops classes of its shared rows)',
          required: [
            'kind',
            'version',
            'totals',
            'instances',
            'fileRows',
            'groupCount',
            'topGroups',
            'instanceAops',
          ],
        },
        ReportName: {
          type: 'object',
          required: ['name', 'reportId', 'url', 'updatedAt'],
          properties: {
            name: { type: 'string' },
            reportId: { type: 'string' },
            url: { type: 'string', description: 'link to the report in the web UI (/r/<id>)' },
            apiUrl: { type: 'string' },
            setBy: { type: ['string', 'null'], description: 'name of the token that set it last' },
            createdAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
          },
        },
        AnalysisInput: {
          type: 'object',
          description: 'packages/sharing AnalysisInput: manifests, instances, options',
        },
      },
    },
    paths: {
      '/api/health': {
        get: {
          summary: 'Liveness and state',
          responses: {
            200: { description: 'ok', content: json({ type: 'object' }) },
            503: err('database unavailable'),
          },
        },
      },
      '/api/openapi.json': {
        get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } },
      },
      '/api/demo': {
        get: {
          summary: 'The demo report loaded at first start',
          responses: {
            200: {
              description: 'demo report id and link',
              content: json({
                type: 'object',
                properties: { id: { type: 'string' }, url: { type: 'string' } },
              }),
            },
            404: err('no demo on this server'),
            503: err('demo still loading (Retry-After)'),
          },
        },
      },
      '/api/images': {
        post: {
          summary: 'Upload an EROFS image (streamed to disk, then scanned in a worker thread)',
          security: bearer,
          parameters: [
            { name: 'name', in: 'query', description: 'file name (raw uploads)', schema: { type: 'string' } },
          ],
          requestBody: {
            required: true,
            content: {
              'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  description: 'first file part: the image; further file parts: its extra devices in order',
                },
              },
            },
          },
          responses: {
            202: { description: 'stored, scan queued', content: json(ref('Image')) },
            200: {
              description: 'identical content scanned before: ready at once',
              content: json(ref('Image')),
            },
            400: err('bad name, truncated multipart, interrupted upload'),
            401: err('token required or unknown'),
            413: err(`larger than ${l.maxUploadBytes} bytes`),
            415: err('content type not accepted'),
            422: err('empty image'),
            503: err('scan queue full'),
          },
        },
      },
      '/api/images/{id}': {
        get: {
          summary: 'Image status, scan progress, error, manifest summary (polling)',
          parameters: [idParam('image')],
          responses: {
            200: { description: 'image', content: json(ref('Image')) },
            404: err('unknown image'),
          },
        },
      },
      '/api/images/{id}/events': {
        get: {
          summary: 'Scan progress as server-sent events (`status`, `progress`); ends when the scan ends',
          parameters: [idParam('image')],
          responses: {
            200: { description: 'text/event-stream', content: { 'text/event-stream': {} } },
            404: err('unknown image'),
          },
        },
      },
      '/api/images/{id}/devices': {
        post: {
          summary:
            'Attach extra devices (blob devices, tar of --tar=i) in device-table order; rescans the image',
          security: bearer,
          parameters: [idParam('image'), { name: 'name', in: 'query', schema: { type: 'string' } }],
          requestBody: {
            required: true,
            content: {
              'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
              'multipart/form-data': {},
            },
          },
          responses: {
            202: { description: 'attached, rescan queued', content: json(ref('Image')) },
            400: err('bad name or multipart'),
            401: err('token'),
            404: err('unknown image'),
            409: err(`more than ${l.maxDevicesPerImage} devices`),
            413: err('too large'),
            415: err('content type'),
          },
        },
      },
      '/api/manifests': {
        post: {
          summary: 'Upload a manifest (sharemap scan, browser scan): NDJSON or JSON, optionally gzip',
          security: bearer,
          parameters: [{ name: 'name', in: 'query', schema: { type: 'string' } }],
          requestBody: {
            required: true,
            content: { 'application/x-ndjson': {}, 'application/json': {}, 'application/gzip': {} },
          },
          responses: {
            201: { description: 'stored', content: json(ref('Manifest')) },
            400: err('corrupt gzip, interrupted upload'),
            401: err('token'),
            413: err(`more than ${l.maxManifestBytes} bytes uncompressed`),
            415: err('content type or encoding'),
            422: err('invalid manifest (line, field)'),
          },
        },
      },
      '/api/manifests/{id}': {
        get: {
          summary: 'Manifest summary',
          parameters: [idParam('manifest')],
          responses: {
            200: { description: 'manifest', content: json(ref('Manifest')) },
            404: err('unknown manifest'),
          },
        },
      },
      '/api/mount-configs': {
        post: {
          summary:
            'Upload a mount configuration (mountinfo, /proc/mounts, fstab, systemd units, mount commands, losetup --json, JSON plan)',
          security: bearer,
          parameters: [
            {
              name: 'name',
              in: 'query',
              description: 'file name (helps format detection)',
              schema: { type: 'string' },
            },
            { name: 'format', in: 'query', schema: { type: 'string' } },
          ],
          requestBody: {
            required: true,
            content: {
              'text/plain': { schema: { type: 'string' } },
              'application/json': {
                schema: {
                  oneOf: [
                    {
                      type: 'object',
                      required: ['text'],
                      properties: {
                        text: { type: 'string' },
                        fileName: { type: 'string' },
                        format: { type: 'string' },
                      },
                    },
                    { type: 'object', description: 'a JSON plan or losetup --json document' },
                  ],
                },
              },
            },
          },
          responses: {
            201: { description: 'parsed and stored (redacted)', content: json(ref('MountConfig')) },
            400: err('empty, bad format name'),
            401: err('token'),
            413: err(`more than ${l.maxMountConfigBytes} bytes`),
            415: err('content type'),
            422: err('parse error with file, line and column'),
          },
        },
      },
      '/api/residency': {
        post: {
          summary:
            'Upload page-cache residency (fincore -J / --raw, vmtouch -v, pcstat -json, an access list, or a sharemap collect host snapshot; Content-Encoding: gzip accepted)',
          security: bearer,
          parameters: [
            {
              name: 'name',
              in: 'query',
              description: 'file name (for messages)',
              schema: { type: 'string' },
            },
          ],
          requestBody: { required: true, content: { 'text/plain': { schema: { type: 'string' } } } },
          responses: {
            201: {
              description: 'parsed and stored: {id, name, format, records, residentPages, pageSize}',
              content: json({ type: 'object' }),
            },
            400: err('empty'),
            401: err('token'),
            413: err(`more than ${MAX_RESIDENCY_UPLOAD_BYTES} bytes`),
            415: err('content type'),
            422: err('parse error with file, line and column (code bad-residency)'),
          },
        },
      },
      '/api/residency/{id}': {
        get: {
          summary: 'A stored residency input (its summary)',
          parameters: [idParam('residency input')],
          responses: {
            200: { description: 'summary', content: json({ type: 'object' }) },
            404: err('unknown'),
          },
        },
      },
      '/api/mount-configs/{id}': {
        get: {
          summary: 'A stored (redacted) mount configuration',
          parameters: [idParam('mount configuration')],
          responses: {
            200: { description: 'config', content: json(ref('MountConfig')) },
            404: err('unknown'),
          },
        },
      },
      '/api/reports': {
        post: {
          summary: 'Create an immutable report snapshot; waits for pending scans of its images',
          security: bearer,
          requestBody: { required: true, content: json(ref('ReportRequest')) },
          responses: {
            201: { description: 'created', content: json(ref('ReportCreated')) },
            400: err('bad request body'),
            401: err('token'),
            409: err('an image is still being scanned'),
            413: err(`body larger than ${l.maxJsonBodyBytes} bytes or too many images`),
            415: err('not application/json'),
            422: err('unknown ids, failed scans, no mount matches an image'),
            503: err('analysis timeout or queue full'),
          },
        },
        get: {
          summary: 'List reports (admin token only)',
          security: admin,
          parameters: [
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
            {
              name: 'before',
              in: 'query',
              description: 'createdAt cursor (the `next` of the previous page)',
              schema: { type: 'string' },
            },
          ],
          responses: {
            200: { description: 'reports, newest first' },
            401: err('no or unknown token'),
            403: err('not an admin token'),
          },
        },
      },
      '/api/reports/{id}': {
        get: {
          summary: 'A report (JSON; gzip when accepted), or an export',
          parameters: [
            idParam('report'),
            { name: 'format', in: 'query', schema: { enum: ['json', 'csv', 'markdown'] } },
          ],
          responses: {
            200: {
              description: 'report',
              content: { ...json(ref('Report')), 'text/csv': {}, 'text/markdown': {} },
            },
            400: err('unknown format'),
            404: err('unknown report'),
          },
        },
      },
      '/api/reports/{id}/summary': {
        get: {
          summary:
            'The report without its per-file parts (files, groups, paths), plus the figures the first screen needs (JSON; gzip when accepted)',
          parameters: [idParam('report')],
          responses: {
            200: { description: 'summary', content: json(ref('ReportSummary')) },
            404: err('unknown report'),
            503: err('busy or timeout while deriving the parts of an older report'),
          },
        },
      },
      '/api/reports/{id}/files': {
        get: {
          summary:
            'The per-file parts of the report (files, groups, paths) in the sharemap-files columnar binary encoding (gzip when accepted)',
          parameters: [idParam('report')],
          responses: {
            200: {
              description: 'sharemap-files encoding (packages/report-wire, docs/api.md)',
              content: { 'application/vnd.sharemap.files': { schema: { type: 'string', format: 'binary' } } },
            },
            404: err('unknown report'),
            503: err('busy or timeout while deriving the parts of an older report'),
          },
        },
      },
      '/api/reports/{id}/input': {
        get: {
          summary: 'The analysis input of a report (to re-run the model live)',
          parameters: [idParam('report')],
          responses: {
            200: { description: 'input', content: json(ref('AnalysisInput')) },
            404: err('unknown report'),
          },
        },
      },
      '/api/report-names': {
        get: {
          summary: 'List report names (admin token only)',
          security: admin,
          parameters: [
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
            {
              name: 'after',
              in: 'query',
              description: 'name cursor (the `next` of the previous page)',
              schema: { type: 'string' },
            },
          ],
          responses: {
            200: {
              description: 'names in name order',
              content: json({
                type: 'object',
                properties: {
                  names: { type: 'array', items: ref('ReportName') },
                  next: { type: ['string', 'null'] },
                },
              }),
            },
            401: err('no or unknown token'),
            403: err('not an admin token'),
          },
        },
      },
      '/api/report-names/{name}': {
        get: {
          summary:
            'The report a name points at (e.g. the baseline "main"). Names are guessable: needs a token when the server requires tokens',
          security: bearer,
          parameters: [nameParam],
          responses: {
            200: { description: 'name', content: json(ref('ReportName')) },
            400: err('bad name'),
            401: err('token required or unknown'),
            404: err('unknown name'),
          },
        },
        put: {
          summary: 'Set or move a name to a report',
          security: bearer,
          parameters: [nameParam],
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              required: ['reportId'],
              additionalProperties: false,
              properties: { reportId: { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' } },
            }),
          },
          responses: {
            200: {
              description: 'moved (previousReportId: where it pointed before)',
              content: json(ref('ReportName')),
            },
            201: { description: 'created (previousReportId: null)', content: json(ref('ReportName')) },
            400: err('bad name, body or report id'),
            401: err('token required or unknown'),
            415: err('not application/json'),
            422: err('unknown report (unknown-report)'),
          },
        },
        delete: {
          summary: 'Remove a name (the report stays)',
          security: bearer,
          parameters: [nameParam],
          responses: {
            204: { description: 'removed' },
            400: err('bad name'),
            401: err('token required or unknown'),
            404: err('unknown name'),
          },
        },
      },
      '/api/tokens': {
        get: {
          summary: 'List tokens (names, no secrets; admin)',
          security: admin,
          responses: { 200: { description: 'tokens' }, 401: err('token'), 403: err('not admin') },
        },
        post: {
          summary: 'Create a token (admin); the token is returned once',
          security: admin,
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              required: ['name'],
              properties: { name: { type: 'string' }, admin: { type: 'boolean' } },
            }),
          },
          responses: {
            201: { description: 'created' },
            400: err('bad name'),
            401: err('token'),
            403: err('not admin'),
          },
        },
      },
    },
  };
}
