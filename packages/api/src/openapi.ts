/**
 * The OpenAPI 3.1 document, built from the route table (routes.ts) and the schemas
 * (schemas.ts): OpenAPI 3.1 schemas are JSON Schema, which is what TypeBox builds, so they go
 * in as they are. Named schemas (NAMED_SCHEMAS) are listed once under components and referred to.
 */
import type { TSchema } from '@sinclair/typebox';
import { NAMED_SCHEMAS, type ApiRoute } from './routes.js';

export interface OpenApiOptions {
  /** The server's public URL (servers[0]); "/" when unset. */
  publicUrl?: string | null;
  /** Whether writes need a token (stated in the security scheme's description). */
  requireToken: boolean;
  version?: string;
}

type Json = Record<string, unknown>;

/** A schema as plain JSON (TypeBox's symbol keys dropped), or a $ref to its component. */
function schemaJson(s: TSchema | Record<string, never>, refs: Map<unknown, string>): unknown {
  const name = refs.get(s);
  if (name) return { $ref: `#/components/schemas/${name}` };
  return JSON.parse(JSON.stringify(s)) as unknown;
}

export function openapiDocument(routes: ApiRoute[], opts: OpenApiOptions): Json {
  const refs = new Map<unknown, string>(Object.entries(NAMED_SCHEMAS).map(([k, v]) => [v, k]));
  const media = (json: TSchema | undefined, other: Record<string, TSchema | Record<string, never>> = {}) => {
    const out: Json = {};
    if (json) out['application/json'] = { schema: schemaJson(json, refs) };
    for (const [type, s] of Object.entries(other))
      out[type] = Object.keys(s).length ? { schema: schemaJson(s, refs) } : {};
    return out;
  };
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const op: Json = { summary: r.summary };
    // writer routes work without a token unless the server requires one.
    if (r.auth) op.security = r.auth === 'admin' ? [{ bearer: [] }] : [{ bearer: [] }, {}];
    if (r.params)
      op.parameters = r.params.map((p) => ({
        name: p.name,
        in: p.in,
        ...(p.in === 'path' ? { required: true } : {}),
        ...(p.description ? { description: p.description } : {}),
        schema: schemaJson(p.schema, refs),
      }));
    if (r.body) op.requestBody = { required: true, content: media(r.body.schema, r.body.media) };
    op.responses = Object.fromEntries(
      Object.entries(r.responses).map(([status, res]) => {
        const content = media(res.schema, res.media);
        return [
          status,
          { description: res.description, ...(Object.keys(content).length ? { content } : {}) },
        ];
      }),
    );
    (paths[r.path] ??= {})[r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'sharemap server API',
      version: opts.version ?? '0.1.0',
      description:
        'Uploads EROFS images, manifests and mount configurations; creates immutable page-cache sharing reports behind unguessable links. Errors are `{error: {code, message}}`. See docs/api.md.',
    },
    servers: [{ url: opts.publicUrl || '/' }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: `Tokens from \`sharemap token create\`. Required for writes and for reading report names when the server runs with SHAREMAP_REQUIRE_TOKEN=1 (now: ${opts.requireToken}); admin tokens for listing.`,
        },
      },
      schemas: Object.fromEntries(
        Object.entries(NAMED_SCHEMAS).map(([k, v]) => [k, JSON.parse(JSON.stringify(v)) as unknown]),
      ),
    },
    paths,
  };
}
