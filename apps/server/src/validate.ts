/**
 * Request validation from the API's schemas (packages/api): ajv compiles each JSON Schema once;
 * a failure becomes an HttpError whose message names the field ("options.pageSize must be a
 * power of two from 512 to 65536"). A count past a limit (maxItems, maxProperties) is 413
 * too-large, like a body past its byte limit; everything else is 400.
 */
import type { Static, TSchema } from '@sharemap/api';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { HttpError, type ErrorCode } from './errors.js';

/** RFC 3339 date-time as the server writes it (storage/db.ts nowIso). */
const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** An ajv that knows the annotations the API's schemas use. */
export function apiAjv(): Ajv {
  const ajv = new Ajv({
    verbose: true, // errors carry parentSchema, where errorMessage lives
    strict: true,
    strictTypes: false, // TypeBox's unions (anyOf of typed branches) are intended
    formats: { 'date-time': DATE_TIME_RE, binary: true },
  });
  // The words of a failure (schemas.ts); an annotation for every other reader.
  ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
  return ajv;
}

/** `/residency/0/id` -> `residency[0].id`; odd keys quoted: `mapping["/dev/vda"]`. */
export function fieldOf(instancePath: string, child?: string): string {
  const parts = instancePath === '' ? [] : instancePath.slice(1).split('/');
  if (child !== undefined) parts.push(child);
  let out = '';
  for (const raw of parts) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(key)) out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(key.slice(0, 80))}]`;
  }
  return out;
}

function messageOf(e: ErrorObject): { status: number; message: string } {
  const at = fieldOf(e.instancePath);
  const own = (e.parentSchema as { errorMessage?: string } | undefined)?.errorMessage;
  const p = e.params as Record<string, unknown>;
  // A key of a map broke propertyNames: name the key, not the map's value.
  if (e.propertyName !== undefined)
    return { status: 400, message: `${at}: key ${JSON.stringify(e.propertyName.slice(0, 40))} ${e.message}` };
  switch (e.keyword) {
    case 'additionalProperties':
      return {
        status: 400,
        message: `${at ? `${at}: ` : ''}unknown field ${JSON.stringify(p.additionalProperty)}`,
      };
    case 'required': {
      const missing = String(p.missingProperty);
      const props = (e.parentSchema as { properties?: Record<string, { errorMessage?: string }> }).properties;
      return {
        status: 400,
        message: `${fieldOf(e.instancePath, missing)} ${props?.[missing]?.errorMessage ?? 'is required'}`,
      };
    }
    case 'maxItems':
    case 'maxProperties':
      return { status: 413, message: `${at}: at most ${String(p.limit)} entries` };
    case 'uniqueItems':
      return {
        status: 400,
        message: `${at}: an entry is listed twice (items ${String(p.i)} and ${String(p.j)})`,
      };
  }
  if (!at)
    return {
      status: 400,
      message: e.keyword === 'type' ? 'the body must be a JSON object' : `the body ${e.message}`,
    };
  return { status: 400, message: `${at} ${own ?? e.message ?? 'is not valid'}` };
}

export interface RequestValidator<T> {
  (body: unknown): T;
}

/**
 * A checker for one request body: returns the body typed, or throws the HttpError of its
 * first fault. `nullIsAbsent`: top-level fields set to null count as not given.
 */
export function requestValidator<S extends TSchema>(
  schema: S,
  code: ErrorCode,
  opts: { nullIsAbsent?: boolean } = {},
): RequestValidator<Static<S>> {
  // Compiled on first use: a server start (and a crash-restart) pays nothing for it.
  let check: ValidateFunction | undefined;
  return (body: unknown) => {
    check ??= apiAjv().compile(schema);
    let b = body;
    if (opts.nullIsAbsent && b && typeof b === 'object' && !Array.isArray(b))
      b = Object.fromEntries(Object.entries(b).filter(([, v]) => v !== null));
    if (check(b)) return b as Static<S>;
    const { status, message } = messageOf(check.errors![0]!);
    throw new HttpError(status, status === 413 ? 'too-large' : code, message);
  };
}
