/**
 * The OpenAPI 3.1 description of the API, served at /api/openapi.json: built by packages/api
 * from the one definition of every route and schema, with this server's limits filled in.
 * docs/api.md has the prose.
 */
import { apiRoutes, openapiDocument as buildDocument, type ApiLimits } from '@sharemap/api';
import type { ServerConfig } from './config.js';
import { MOUNT_FORMATS } from './routes/mount-configs.js';
import { MAX_RESIDENCY_UPLOAD_BYTES } from './routes/residency.js';
import { MAX_RESIDENCY_PER_REPORT } from './reports.js';

/** The numbers the schemas state, from the server's configured limits. */
export function apiLimits(config: ServerConfig): ApiLimits {
  const l = config.limits;
  return {
    maxImagesPerReport: l.maxImagesPerReport,
    maxMountConfigsPerReport: l.maxMountConfigsPerReport,
    maxResidencyPerReport: MAX_RESIDENCY_PER_REPORT,
    maxUploadBytes: l.maxUploadBytes,
    maxDevicesPerImage: l.maxDevicesPerImage,
    maxManifestBytes: l.maxManifestBytes,
    maxMountConfigBytes: l.maxMountConfigBytes,
    maxResidencyUploadBytes: MAX_RESIDENCY_UPLOAD_BYTES,
    maxJsonBodyBytes: l.maxJsonBodyBytes,
    mountFormats: MOUNT_FORMATS,
  };
}

export function openapiDocument(config: ServerConfig): Record<string, unknown> {
  return buildDocument(apiRoutes(apiLimits(config)), {
    publicUrl: config.publicUrl,
    requireToken: config.requireToken,
  });
}
