/**
 * Uploaded manifests, record by record: the decoded body is split into NDJSON lines (or, for
 * the JSON form, tokenized by a streaming JSON parser), every record is validated as it
 * arrives (ManifestStreamValidator, all the rules of parseManifest) and written out again in
 * the canonical NDJSON form. Memory stays bounded by one record (MAX_RECORD_BYTES) whatever
 * the manifest's size, and the work per network chunk is bounded, so one upload cannot block
 * the event loop for the others (docs/server.md#limits).
 */
import { JSONParser } from '@streamparser/json';
import {
  ManifestError,
  type FileRecord,
  type ManifestHeader,
  type ManifestStreamValidator,
} from '@sharemap/erofs';

/** Longest NDJSON line, or JSON-form value, in bytes (the erofs reader's own line bound). */
export const MAX_RECORD_BYTES = 8 * 1024 * 1024;
/** A first line longer than this is not an NDJSON header (headers are a few hundred bytes). */
export const MAX_HEADER_LINE_BYTES = 64 * 1024;

const NL = 0x0a;
const HEADER_KEYS = ['kind', 'version', 'image', 'superblock', 'hashed', 'file_count'] as const;

/**
 * Lines of a byte stream (without "\n"), in time linear in the bytes: each chunk is searched
 * once, and a line is refused as soon as it is longer than `maxLine`, before its end arrives.
 */
export async function* splitLines(chunks: AsyncIterable<Buffer>, maxLine: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let pending = 0;
  let lineNo = 1;
  for await (const chunk of chunks) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      if (nl < 0) break;
      const tail = chunk.subarray(start, nl);
      if (pending + tail.length > maxLine) throw lineTooLong(lineNo, maxLine);
      yield parts.length ? Buffer.concat([...parts, tail]) : tail;
      parts = [];
      pending = 0;
      lineNo++;
      start = nl + 1;
    }
    if (start < chunk.length) {
      pending += chunk.length - start;
      if (pending > maxLine) throw lineTooLong(lineNo, maxLine);
      parts.push(chunk.subarray(start));
    }
  }
  if (pending) yield Buffer.concat(parts);
}

function lineTooLong(line: number, max: number): ManifestError {
  return new ManifestError(`line longer than ${max} bytes`, line);
}

function stripBom(s: string): string {
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

export interface ManifestStreamOptions {
  /** Called with the validated header before any record is written (e.g. to check its name). */
  onHeader?: (h: ManifestHeader) => void;
  /** Called with each validated record, in order, before its line is written (the columnar file, stored-columns.ts). */
  onRecord?: (r: FileRecord) => void;
}

/**
 * The canonical NDJSON lines (header first, then each record) of an uploaded manifest in
 * either form; throws ManifestError (422) at the first bad record. The header returned by
 * `validator.end()` is complete once the generator has finished.
 */
export async function* canonicalManifest(
  body: AsyncIterable<Buffer>,
  validator: ManifestStreamValidator,
  opts: ManifestStreamOptions,
): AsyncGenerator<string> {
  const it = body[Symbol.asyncIterator]();
  // Read up to the first newline (bounded) to tell the forms apart: NDJSON starts with a
  // complete header object on its own line; the JSON form does not (its first line is "{" or
  // the whole document, which has "files").
  const head: Buffer[] = [];
  let headLen = 0;
  let done = false;
  while (!done) {
    const n = await it.next();
    if (n.done) {
      done = true;
      break;
    }
    head.push(n.value);
    headLen += n.value.length;
    if (n.value.includes(NL) || headLen > MAX_HEADER_LINE_BYTES) break;
  }
  const first = Buffer.concat(head);
  async function* rest(): AsyncGenerator<Buffer> {
    if (first.length) yield first;
    if (done) return;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  }
  try {
    if (isNdjsonHeader(first)) yield* ndjson(rest(), validator, opts);
    else yield* jsonForm(rest(), validator, opts);
  } finally {
    // A refusal (or a consumer that stops) ends the body's iteration too: the body stops
    // being read, and the request is left for the error handler to drain (errors.ts).
    if (!done) await it.return?.();
  }
  validator.end();
}

function isNdjsonHeader(first: Buffer): boolean {
  let nl = first.indexOf(NL);
  if (nl < 0) nl = first.length;
  if (nl > MAX_HEADER_LINE_BYTES) return false;
  const text = stripBom(first.subarray(0, nl).toString('utf8')).trim();
  if (!text.startsWith('{')) return false;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) && !Object.hasOwn(v, 'files');
  } catch {
    return false;
  }
}

async function* ndjson(
  body: AsyncIterable<Buffer>,
  validator: ManifestStreamValidator,
  opts: ManifestStreamOptions,
): AsyncGenerator<string> {
  let lineNo = 0;
  let blankAt = 0;
  for await (const raw of splitLines(body, MAX_RECORD_BYTES)) {
    lineNo++;
    let line = raw.toString('utf8');
    if (lineNo === 1) line = stripBom(line);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') {
      // Only trailing empty lines are allowed (as NdjsonManifestParser).
      if (!blankAt) blankAt = lineNo;
      continue;
    }
    if (blankAt) throw new ManifestError('empty line', blankAt);
    let val: unknown;
    try {
      val = JSON.parse(line);
    } catch (e) {
      throw new ManifestError(`invalid JSON: ${(e as Error).message}`, lineNo);
    }
    if (!validator.manifestHeader) {
      const h = validator.header(val, lineNo);
      opts.onHeader?.(h);
      yield JSON.stringify(h) + '\n';
    } else {
      const r = validator.record(val, lineNo);
      opts.onRecord?.(r);
      yield JSON.stringify(r) + '\n';
    }
  }
}

/**
 * The JSON form `{ ...header, "files": [ ... ] }` through a streaming tokenizer that hands
 * over each record and forgets it. The header fields must come before "files" (as
 * manifestToJson writes them): records cannot be validated before the header is known.
 */
async function* jsonForm(
  body: AsyncIterable<Buffer>,
  validator: ManifestStreamValidator,
  opts: ManifestStreamOptions,
): AsyncGenerator<string> {
  const parser = new JSONParser({
    paths: ['$.files.*', ...HEADER_KEYS.map((k) => `$.${k}`)],
    keepStack: false,
  });
  const headerFields: Record<string, unknown> = {};
  let out: string[] = [];
  let failure: unknown = null;
  let sinceValue = 0;
  let ended = false;
  let sawContent = false;
  const ensureHeader = (): void => {
    if (validator.manifestHeader) return;
    const h = validator.header(headerFields, 1);
    opts.onHeader?.(h);
    out.push(JSON.stringify(h) + '\n');
  };
  parser.onValue = ({ value, key, stack }) => {
    if (failure) return;
    try {
      sinceValue = 0;
      if (stack.length === 1) {
        const k = String(key);
        if (validator.manifestHeader)
          throw new ManifestError(
            `the header field "${k}" comes after "files": put the header fields first (or send NDJSON)`,
            1,
            k,
          );
        headerFields[k] = value;
      } else {
        ensureHeader();
        const r = validator.record(value, 1, `files[${String(key)}].`);
        opts.onRecord?.(r);
        out.push(JSON.stringify(r) + '\n');
      }
    } catch (e) {
      failure = e;
    }
  };
  parser.onError = (e: Error) => {
    failure ??= e instanceof ManifestError ? e : new ManifestError(`invalid JSON: ${e.message}`, 1);
  };
  parser.onEnd = () => {
    ended = true;
  };
  for await (const chunk of body) {
    if (ended) {
      if (chunk.toString('utf8').trim() !== '')
        throw new ManifestError('invalid JSON: more data after the end of the document', 1);
      continue;
    }
    sinceValue += chunk.length;
    if (!sawContent && chunk.some((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09))
      sawContent = true;
    try {
      parser.write(chunk);
    } catch (e) {
      failure ??= e;
    }
    if (failure) throw toManifestError(failure);
    if (sinceValue > MAX_RECORD_BYTES)
      throw new ManifestError(`a value longer than ${MAX_RECORD_BYTES} bytes`, 1);
    if (out.length) {
      yield out.join('');
      out = [];
    }
  }
  if (!ended) {
    if (!sawContent) throw new ManifestError('empty manifest', 1);
    throw new ManifestError('invalid JSON: the document ends early', 1);
  }
  if (failure) throw toManifestError(failure);
  ensureHeader();
  if (out.length) yield out.join('');
}

function toManifestError(e: unknown): unknown {
  if (e instanceof ManifestError) return e;
  if (e instanceof Error) return new ManifestError(`invalid JSON: ${e.message}`, 1);
  return e;
}
