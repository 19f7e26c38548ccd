/**
 * The JSON bodies of the sharemap HTTP API, as JSON Schema (TypeBox builds plain JSON Schema
 * objects and their TypeScript types from one definition). The server validates requests with
 * them (apps/server/src/validate.ts), the OpenAPI document embeds them as they are
 * (openapi.ts), and the web and CLI clients use the `Static` types below. docs/api.md has the
 * prose.
 *
 * `errorMessage` on a schema is the words the server's 400 uses when that value fails
 * ("<field> <errorMessage>"); it is an annotation, ignored by other JSON Schema tools.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  MAX_PAGE_SIZE,
  MIN_PAGE_SIZE,
  PAGE_SIZE_RULE,
  pageSizes,
  TRUST_DOMAIN_POLICIES,
} from '@sharemap/sharing';

/** A server id: 22 characters, base64url of 128 random bits (apps/server/src/ids.ts). */
export const ID_PATTERN = '^[A-Za-z0-9_-]{22}$';
export const Id = (what = 'an id', description?: string) =>
  Type.String({
    pattern: ID_PATTERN,
    errorMessage: `must be ${what} (22 characters of base64url)`,
    ...(description ? { description } : {}),
  });
const Time = Type.String({ format: 'date-time' });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
/** A response object: more fields may come in later versions (clients ignore them). */
const Obj = <P extends Parameters<typeof Type.Object>[0]>(props: P, description?: string) =>
  Type.Object(props, { additionalProperties: true, ...(description ? { description } : {}) });

// ------------------------------------------------------------------ errors

export const ErrorBody = Type.Object(
  {
    error: Obj({
      code: Type.String({ examples: ['bad-manifest', 'too-large', 'not-found'] }),
      message: Type.String(),
      file: Type.Optional(Type.String({ description: 'the input the error is in' })),
      line: Type.Optional(Type.Integer({ description: 'manifest and mount configuration errors' })),
      column: Type.Optional(Type.Integer({ description: 'mount configuration errors' })),
      field: Type.Optional(Type.String()),
      reason: Type.Optional(
        Type.String({ description: 'finer code (EROFS reader errno class, parser code)' }),
      ),
      problem: Type.Optional(Type.String()),
      limit: Type.Optional(Type.Integer()),
      requestId: Type.Optional(Type.String({ description: '5xx: the id in the server log' })),
    }),
  },
  { description: 'Every error: `{error: {code, message, ...}}`' },
);
export type ApiErrorBody = Static<typeof ErrorBody>['error'];

// ------------------------------------------------------------------ images

/** The life of an uploaded image: queued -> scanning -> ready | failed (apps/server/src/scan). */
export const IMAGE_STATUSES = ['queued', 'scanning', 'ready', 'failed'] as const;
export const ImageStatus = Type.Union(IMAGE_STATUSES.map((s) => Type.Literal(s)));
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

export const Image = Obj({
  id: Type.String(),
  name: Type.String(),
  sha256: Type.String(),
  size: Type.Integer(),
  devices: Type.Array(Obj({ name: Type.String(), sha256: Type.String(), size: Type.Integer() })),
  status: ImageStatus,
  progress: Type.Optional(Obj({ files: Type.Integer(), bytesHashed: Type.Integer() })),
  error: Type.Optional(Obj({ code: Nullable(Type.String()), message: Nullable(Type.String()) })),
  manifest: Type.Optional(
    Obj(
      {
        id: Type.String(),
        fileCount: Type.Integer(),
        hashed: Type.Boolean(),
        blockSize: Type.Integer(),
        ishare: Type.Boolean(),
        featureIncompat: Type.Array(Type.String()),
        requiredKernel: Nullable(Type.String()),
      },
      'summary of the scan result (ready images)',
    ),
  ),
  deduplicated: Type.Optional(
    Type.Boolean({ description: 'upload only: identical content was scanned before' }),
  ),
  createdAt: Time,
  updatedAt: Time,
});
export type ImageInfo = Static<typeof Image>;

// ------------------------------------------------------------------ manifests, mount configs, residency

export const Manifest = Obj({
  id: Type.String(),
  name: Type.String(),
  fileCount: Type.Integer(),
  hashed: Type.Boolean(),
  image: Type.Object({}, { additionalProperties: true, description: 'the image the manifest describes' }),
  blockSize: Type.Integer(),
  ishare: Type.Boolean(),
  fingerprintXattrName: Type.Optional(Nullable(Type.String())),
  requiredKernel: Type.Optional(Nullable(Type.String())),
});
export type ManifestInfo = Static<typeof Manifest>;

/** POST /api/archives: an OCI archive's images and the predicted manifests stored from it (docs/oci.md). */
export const ARCHIVE_KINDS = ['docker-save', 'oci-layout', 'rootfs'] as const;
export const Archive = Obj({
  name: Type.String({ description: 'the ?name= of the upload' }),
  sha256: Type.String({ description: 'of the archive as sent (the archive itself is not kept)' }),
  size: Type.Integer(),
  kind: Type.Union(
    ARCHIVE_KINDS.map((k) => Type.Literal(k)),
    { description: 'told from the bytes' },
  ),
  model: Type.Union([Type.Literal('flattened'), Type.Literal('layers')]),
  images: Type.Array(
    Obj({
      name: Type.String(),
      repoTags: Type.Array(Type.String()),
      manifestDigest: Type.Optional(Type.String()),
      configDigest: Type.String({ description: 'empty for a rootfs tar' }),
      platform: Type.Optional(Type.String({ description: 'os/arch[/variant]' })),
      layers: Type.Array(
        Obj({
          diffId: Type.String({ description: 'empty for a rootfs tar' }),
          digest: Type.String(),
          compression: Type.String({ description: 'none, gzip or zstd (from the bytes)' }),
          storedSize: Type.Integer(),
          size: Type.Integer({ description: 'uncompressed tar bytes' }),
        }),
      ),
    }),
  ),
  manifests: Type.Array(Manifest, {
    description:
      'the predicted manifests (flattened: one per OCI image; layers: one per distinct layer); reports take their ids in `manifests`',
  }),
});
export type ArchiveInfo = Static<typeof Archive>;

const Origin = Obj({ file: Type.String(), line: Type.Integer(), column: Type.Integer() });

export const MountConfig = Obj(
  {
    id: Type.String(),
    name: Type.String(),
    format: Type.String(),
    entries: Type.Array(
      Obj({
        source: Type.String(),
        mountPoint: Type.String(),
        backing: Type.Unknown({ description: 'the block device or loop backing file' }),
        domain: Nullable(Type.String({ description: 'a label (D1, D2, ...), never the domain itself' })),
        domainKnown: Type.Boolean({ description: 'false when the format never shows domain_id' }),
        inodeShare: Type.Boolean(),
        inodeShareEffective: Nullable(
          Type.Boolean({ description: 'null: the image decides (its ishare feature)' }),
        ),
        mountError: Nullable(Type.String({ description: 'why the kernel would refuse the mount' })),
        notMounted: Nullable(Type.Union([Type.Literal('noauto'), Type.Literal('script-stopped')])),
        origin: Origin,
      }),
    ),
    warnings: Type.Array(Obj({ code: Type.Optional(Type.String()), message: Type.String() })),
    ignored: Type.Optional(Type.Integer()),
    config: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  'The redacted parse result: domains appear only as labels (D1, D2, ...).',
);
export type MountConfigInfo = Static<typeof MountConfig>;

export const Residency = Obj({
  id: Type.String(),
  name: Type.String(),
  format: Type.String(),
  records: Type.Integer(),
  residentPages: Type.Integer(),
  pageSize: Nullable(Type.Integer()),
});
export type ResidencyInfo = Static<typeof Residency>;

// ------------------------------------------------------------------ reports

/** Numbers of every limit a schema states (apps/server/src/limits.ts and the routes' constants). */
export interface ApiLimits {
  maxImagesPerReport: number;
  maxMountConfigsPerReport: number;
  maxResidencyPerReport: number;
  maxUploadBytes: number;
  maxDevicesPerImage: number;
  maxManifestBytes: number;
  maxMountConfigBytes: number;
  maxResidencyUploadBytes: number;
  maxJsonBodyBytes: number;
  mountFormats: readonly string[];
}

/** Longest key or value of a string map, and the most entries one may have. */
export const MAX_MAP_STRING = 4096;
export const MAX_MAP_ENTRIES = 10_000;
export const MAX_TITLE_LENGTH = 200;
/** A domain label: letters, digits and a few separators, 1-64 characters (never starting with "?"). */
export const LABEL_PATTERN = '^[\\p{L}\\p{N}_.@:+-][\\p{L}\\p{N}_.@:+ -]{0,63}$';

const idList = (what: string, max: number) => Type.Array(Id(what), { maxItems: max, uniqueItems: true });
const stringMap = (description: string, value = Type.String({ maxLength: MAX_MAP_STRING })) =>
  Type.Record(Type.String(), value, {
    description,
    maxProperties: MAX_MAP_ENTRIES,
    propertyNames: { maxLength: MAX_MAP_STRING },
  });

export const AnalysisOptions = Type.Object(
  {
    pageSize: Type.Optional(
      Type.Integer({
        enum: pageSizes(),
        minimum: MIN_PAGE_SIZE,
        maximum: MAX_PAGE_SIZE,
        errorMessage: `must be ${PAGE_SIZE_RULE}`,
        description: `page size in bytes: ${PAGE_SIZE_RULE} (default 4096)`,
      }),
    ),
    workingSetFraction: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 1,
        errorMessage: 'must be a number in (0, 1]',
        description: 'share of each file read (default 1: every file fully read)',
      }),
    ),
  },
  { additionalProperties: false },
);

/** POST /api/reports. Count limits are the server's (SHAREMAP_MAX_IMAGES_PER_REPORT, ...). */
/**
 * A reviewer's trust policy (`.sharemap.yml` `trust:`, docs/trust.md#policy): the server
 * evaluates it on the report's trust model and stores the result in `trust.policy`.
 */
export const TrustPolicySchema = Type.Object(
  {
    domains: Type.Optional(Type.Union(TRUST_DOMAIN_POLICIES.map((d) => Type.Literal(d)))),
    allowPublisherDefinedFingerprints: Type.Optional(Type.Boolean()),
    requireVerified: Type.Optional(Type.Boolean()),
  },
  {
    additionalProperties: false,
    description: 'trust rules evaluated on the report (docs/trust.md#policy); the result is in trust.policy',
  },
);

export function reportRequestSchema(
  l: Pick<ApiLimits, 'maxImagesPerReport' | 'maxMountConfigsPerReport' | 'maxResidencyPerReport'>,
) {
  return Type.Object(
    {
      images: Type.Optional(idList('an image id', l.maxImagesPerReport)),
      manifests: Type.Optional(idList('a manifest id', l.maxImagesPerReport)),
      mountConfigs: Type.Optional(idList('a mount configuration id', l.maxMountConfigsPerReport)),
      residency: Type.Optional(
        Type.Array(
          Type.Object(
            {
              id: Type.String({ pattern: ID_PATTERN, errorMessage: 'must be a residency input id' }),
              instance: Type.Optional(
                Type.String({
                  minLength: 1,
                  maxLength: MAX_MAP_STRING,
                  errorMessage: 'must be an instance id, label or mount point',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          {
            maxItems: l.maxResidencyPerReport,
            description:
              'residency inputs (POST /api/residency ids): instance = id, label or mount point; without it records map by mount point',
          },
        ),
      ),
      mapping: Type.Optional(stringMap('mount source -> image id (server id or name)')),
      domainAssignments: Type.Optional(
        stringMap(
          'instance id -> domain label',
          Type.String({
            pattern: LABEL_PATTERN,
            errorMessage:
              'must be a domain label: 1-64 letters, digits, spaces or "_.@:+-", not starting with a space or "?"',
          }),
        ),
      ),
      publishers: Type.Optional(stringMap('image id or name -> publisher')),
      trustPolicy: Type.Optional(TrustPolicySchema),
      options: Type.Optional(AnalysisOptions),
      title: Type.Optional(Type.String({ maxLength: MAX_TITLE_LENGTH })),
    },
    {
      additionalProperties: false,
      description:
        'At least one image or manifest id. A field set to null counts as absent. Control characters in the title become spaces.',
    },
  );
}
export type ReportRequest = Static<ReturnType<typeof reportRequestSchema>>;

export const Totals = Obj({
  pagesWithoutSharing: Type.Integer(),
  pagesWithSharing: Type.Integer(),
  bytesWithoutSharing: Type.Integer(),
  bytesWithSharing: Type.Integer(),
  bytesSaved: Type.Integer(),
  percentSaved: Type.Number(),
});

/** The row summary of a report (apps/server/src/scan/tasks.ts ReportSummary). */
export const ReportRowSummary = Obj({
  title: Nullable(Type.String()),
  createdAt: Time,
  images: Type.Integer(),
  instances: Type.Integer(),
  totals: Totals,
  measured: Type.Optional(Totals),
  findings: Type.Record(Type.String(), Type.Integer()),
});

export const ReportCreated = Obj({
  id: Type.String(),
  url: Type.String({ description: 'link to the report in the web UI (/r/<id>)' }),
  apiUrl: Type.String(),
  summary: ReportRowSummary,
  unresolved: Type.Array(
    Obj({ source: Type.String(), mountPoint: Type.String(), origin: Origin, reason: Type.String() }),
    { description: 'mounts that matched no image' },
  ),
  warnings: Type.Array(Obj({ code: Type.String(), message: Type.String() })),
});
export type ReportCreated = Static<typeof ReportCreated>;

export const ReportList = Obj({
  reports: Type.Array(
    Obj({
      id: Type.String(),
      url: Type.String(),
      title: Nullable(Type.String()),
      createdAt: Time,
      summary: ReportRowSummary,
    }),
  ),
  next: Nullable(Type.String({ description: 'the `before` of the next page' })),
});

export const Report = Obj(
  { kind: Type.Literal('sharemap-report'), version: Type.Literal(1) },
  'packages/sharing Report (kind "sharemap-report", version 1)',
);

export const ReportSummary = Obj(
  {
    kind: Type.Literal('sharemap-report'),
    version: Type.Literal(1),
    totals: Totals,
    instances: Type.Array(Type.Unknown()),
    fileRows: Type.Integer(),
    groupCount: Type.Integer(),
    topGroups: Type.Array(Type.Unknown()),
    instanceAops: Type.Record(Type.String(), Type.Unknown()),
  },
  'packages/report-wire ReportSummaryDoc: the Report without files, groups and paths, plus fileRows, groupCount, topGroups (the 10 shared inodes that save most, with "image:path" of their first member) and instanceAops (instance id -> aops classes of its shared rows)',
);

export const AnalysisInput = Obj(
  { images: Type.Array(Type.Unknown()), instances: Type.Array(Type.Unknown()) },
  'packages/sharing AnalysisInput: images (manifests), instances, options',
);

// ------------------------------------------------------------------ report names

export const ReportName = Obj({
  name: Type.String(),
  reportId: Type.String(),
  url: Type.String({ description: 'link to the report in the web UI (/r/<id>)' }),
  apiUrl: Type.String(),
  setBy: Nullable(Type.String({ description: 'name of the token that set it last' })),
  createdAt: Time,
  updatedAt: Time,
});
export type ReportNameInfo = Static<typeof ReportName>;

export const ReportNameSet = Type.Intersect([
  ReportName,
  Obj({ previousReportId: Nullable(Type.String({ description: 'where the name pointed before' })) }),
]);

export const ReportNamePut = Type.Object(
  { reportId: Id('a report id') },
  { additionalProperties: false, description: 'body: {"reportId": "<report id>"}' },
);

export const ReportNameList = Obj({
  names: Type.Array(ReportName),
  next: Nullable(Type.String({ description: 'the `after` of the next page' })),
});

// ------------------------------------------------------------------ misc

/** GET /api/ready: the database answers and the blob store is writable ("ok" or the error). */
export const Ready = Obj({
  status: Type.Literal('ready'),
  database: Type.String(),
  blobStore: Type.String(),
});

/** What one garbage collection removed (POST /api/admin/gc; docs/server.md#retention). */
export const GcResult = Obj({
  reportsExpired: Type.Integer({ minimum: 0 }),
  imagesExpired: Type.Integer({ minimum: 0 }),
  manifestsExpired: Type.Integer({ minimum: 0 }),
  mountConfigsExpired: Type.Integer({ minimum: 0 }),
  residencyInputsExpired: Type.Integer({ minimum: 0 }),
  blobsCollected: Type.Integer({ minimum: 0 }),
  bytesCollected: Type.Integer({ minimum: 0 }),
});

export const Health = Obj({
  status: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
  version: Type.String(),
  schemaVersion: Type.Integer(),
  uptimeSeconds: Type.Integer(),
  database: Type.String(),
  scans: Obj({ running: Type.Integer(), queued: Type.Integer() }),
  renders: Obj({ running: Type.Integer(), queued: Type.Integer(), cancelled: Type.Integer() }),
  mountConfigParses: Obj({ running: Type.Integer(), queued: Type.Integer() }),
  requireToken: Type.Boolean(),
  demo: Type.String(),
});

export const Demo = Obj({ id: Type.String(), url: Type.String(), apiUrl: Type.String() });
export type DemoInfo = Static<typeof Demo>;

/** A token name: 1-64 letters, digits, ".", "_", "@" or "-" (apps/server/src/tokens.ts). */
export const TOKEN_NAME_PATTERN = '^[A-Za-z0-9._@-]{1,64}$';
export const TokenCreate = Type.Object(
  {
    name: Type.String({
      pattern: TOKEN_NAME_PATTERN,
      errorMessage: 'must be 1-64 letters, digits, ".", "_", "@" or "-"',
    }),
    admin: Type.Optional(Type.Boolean()),
  },
  { description: 'other fields are ignored' },
);
export const TokenCreated = Obj({ name: Type.String(), admin: Type.Boolean(), token: Type.String() });
export const TokenList = Obj({
  tokens: Type.Array(
    Obj({
      id: Type.Integer(),
      name: Type.String(),
      admin: Type.Boolean(),
      createdAt: Time,
      lastUsedAt: Nullable(Time),
    }),
  ),
});

export const MountConfigJsonBody = Type.Union([
  Type.Object(
    { text: Type.String(), fileName: Type.Optional(Type.String()), format: Type.Optional(Type.String()) },
    { additionalProperties: true },
  ),
  Type.Object({}, { additionalProperties: true, description: 'a JSON plan or losetup --json document' }),
]);
