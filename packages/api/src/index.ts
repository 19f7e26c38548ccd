/**
 * @sharemap/api: the HTTP API defined once. Schemas (request validation on the server, response
 * types for the web and CLI clients), the route table, and the OpenAPI document built from
 * them. Clients import types only (`import type`), so nothing of this reaches their bundles.
 */
export * from './schemas.js';
export { apiRoutes, NAMED_SCHEMAS, type ApiParam, type ApiResponse, type ApiRoute } from './routes.js';
export { openapiDocument, type OpenApiOptions } from './openapi.js';
export type { Static, TSchema } from '@sinclair/typebox';
