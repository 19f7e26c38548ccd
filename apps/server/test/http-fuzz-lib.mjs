// HTTP requests as a hostile or careless client sends them, shared by the server's tests
// (hostile.test.ts, robustness.test.ts, http-fuzz.test.ts) and `pnpm fuzz:http`
// (scripts/fuzz-http.mjs): a raw-socket client, valid request templates for every route of
// the OpenAPI description, the malformed classes of docs/development.md#fuzzing-the-server, seeded random mutations, and
// the judgement of an answer. Plain ESM so that the script runs it without a TypeScript step.
// Loopback only: every request goes to 127.0.0.1.
import { connect } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';

// ------------------------------------------------------------------ raw client

/** Parse the first HTTP response in `data` (Content-Length, chunked, or until close). */
export function parseResponse(data, closed = false) {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = data.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '');
  if (!m) return null;
  const headers = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = data.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    const parts = [];
    let off = 0;
    for (;;) {
      const nl = body.indexOf('\r\n', off);
      if (nl < 0) return null;
      const size = parseInt(body.subarray(off, nl).toString('latin1'), 16);
      if (!(size > 0)) break;
      if (body.length < nl + 2 + size) return null;
      parts.push(body.subarray(nl + 2, nl + 2 + size));
      off = nl + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  } else if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (body.length < n) return null;
    body = body.subarray(0, n);
  } else if (!closed && !/^(1\d\d|204|304)$/.test(m[1])) return null;
  const text = body.toString('utf8');
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: Number(m[1]), headers, body: text, json };
}

/**
 * Write `bytes` on a new connection to 127.0.0.1:port. then: 'wait' for the answer, 'abort'
 * (reset the connection at once), or 'trickle' (send opts.trickle one byte every everyMs).
 */
export function rawRequest(port, bytes, opts = {}) {
  const then = opts.then ?? 'wait';
  return new Promise((resolve) => {
    const chunks = [];
    let settled = false;
    let trickleTimer;
    const sock = connect(port, '127.0.0.1');
    const finish = (closed, gaveUp) => {
      if (settled) return;
      settled = true;
      clearTimeout(giveUp);
      clearInterval(trickleTimer);
      const response = parseResponse(Buffer.concat(chunks), true);
      sock.destroy();
      resolve({ response, closed, gaveUp });
    };
    const giveUp = setTimeout(() => finish(false, true), opts.waitMs ?? 30_000);
    sock.on('data', (d) => {
      chunks.push(d);
      const r = parseResponse(Buffer.concat(chunks));
      if (r && r.headers.connection !== 'close' && then !== 'trickle') finish(false, false);
    });
    sock.on('error', () => finish(true, false));
    sock.on('close', () => finish(true, false));
    sock.on('connect', () => {
      sock.write(bytes);
      if (then === 'abort') {
        // A client that goes away: at once, or after abortAfterMs (when the server is reading).
        const abort = () => {
          sock.resetAndDestroy();
          finish(true, false);
        };
        if (opts.abortAfterMs) setTimeout(abort, opts.abortAfterMs);
        else abort();
      } else if (then === 'trickle') {
        const src = opts.trickle ?? Buffer.alloc(0);
        let i = 0;
        trickleTimer = setInterval(() => {
          if (i < src.length && !sock.destroyed) sock.write(src.subarray(i, ++i));
        }, opts.everyMs ?? 50);
      }
    });
  });
}

/** An HTTP/1.1 request as bytes; Content-Length from the body unless a length header is given. */
export function httpRequest(method, target, headers = {}, body = '') {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const h = { host: '127.0.0.1', ...headers };
  const lower = Object.keys(h).map((k) => k.toLowerCase());
  if (!lower.includes('content-length') && !lower.includes('transfer-encoding'))
    if (b.length || method !== 'GET') h['content-length'] = b.length;
  const head = `${method} ${target} HTTP/1.1\r\n${Object.entries(h)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), b]);
}

/**
 * `/api/health` answers 200, and the best of `probes` round trips is under `ms`: an event loop
 * blocked for seconds (a super-linear regex, a synchronous parse of a huge body) fails it, a
 * loaded machine does not (the best probe took 176 ms at a load average of 30 on 2 cores, so
 * the bound is far above any scheduling delay).
 */
export const HEALTH_BOUND_MS = 2000;
export async function healthy(port, probes = 3, ms = HEALTH_BOUND_MS) {
  let best = Infinity;
  let ok = true;
  for (let i = 0; i < probes; i++) {
    const t = performance.now();
    const r = await rawRequest(port, httpRequest('GET', '/api/health'), { waitMs: 10_000 });
    best = Math.min(best, performance.now() - t);
    if (r.response?.status !== 200) ok = false;
  }
  return { ok: ok && best < ms, alive: ok, bestMs: best };
}

// ------------------------------------------------------------------ routes

/** `/api/images/{id}` -> `/api/images/<ids.image>`; the OpenAPI paths with real resources. */
export function fillPath(p, ids) {
  return p.replace(/\{(\w+)\}/g, (_m, name) => {
    if (name === 'name') return ids.name;
    if (p.startsWith('/api/images')) return ids.image;
    if (p.startsWith('/api/manifests')) return ids.manifest;
    if (p.startsWith('/api/mount-configs')) return ids.mountConfig;
    return ids.report;
  });
}

/** Every operation of the OpenAPI document: { method, path, template, body types }. */
export function operations(doc, ids) {
  const out = [];
  for (const [p, ops] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(ops))
      out.push({
        method: method.toUpperCase(),
        path: p,
        target: fillPath(p, ids),
        bodyTypes: op.requestBody ? Object.keys(op.requestBody.content) : [],
      });
  return out;
}

const BOUNDARY = 'fuzzboundary';

function filePart(field, filename, content) {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    content,
    Buffer.from('\r\n'),
  ]);
}

/** A valid request for an operation (what a careful client sends), as { headers, body, query }. */
export function validRequest(op, fx) {
  const auth = fx.adminToken ? { authorization: `Bearer ${fx.adminToken}` } : {};
  const json = (v) => ({
    headers: { ...auth, 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify(v)),
  });
  switch (`${op.method} ${op.path}`) {
    case 'POST /api/images':
      return {
        headers: { ...auth, 'content-type': 'application/octet-stream' },
        body: fx.image,
        query: '?name=fuzz.img',
      };
    case 'POST /api/images/{id}/devices':
      return {
        headers: { ...auth, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        body: Buffer.concat([
          filePart('dev', 'dev.img', Buffer.alloc(4096, 1)),
          Buffer.from(`--${BOUNDARY}--\r\n`),
        ]),
      };
    case 'POST /api/manifests':
      return {
        headers: { ...auth, 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
        body: gzipSync(fx.manifestNdjson),
      };
    case 'POST /api/mount-configs':
      return {
        headers: { ...auth, 'content-type': 'text/plain' },
        body: Buffer.from(fx.fstab),
        query: '?name=fstab',
      };
    case 'POST /api/reports':
      return json({ images: [fx.ids.image] });
    case 'PUT /api/report-names/{name}':
      return json({ reportId: fx.ids.report });
    case 'POST /api/tokens':
      return json({ name: 'fuzz' });
    default:
      return { headers: { ...auth }, body: Buffer.alloc(0) };
  }
}

// ------------------------------------------------------------------ malformed classes

/**
 * The malformed classes (docs/development.md#fuzzing-the-server) for one operation: each { name, bytes, then, trickle? }.
 * Body classes apply to operations with a request body; the others to every operation.
 */
export function malformedClasses(op, fx) {
  const v = validRequest(op, fx);
  const target = op.target + (v.query ?? '');
  const auth = v.headers.authorization ? { authorization: v.headers.authorization } : {};
  const out = [];
  const req = (headers, body, q = target) => httpRequest(op.method, q, headers, body);
  // A malformed percent-encoding in the path: in a parameter where there is one, else appended.
  const badPath = /\{\w+\}/.test(op.path)
    ? op.path.replace(/\{\w+\}/, '%ZZ').replace(/\{(\w+)\}/g, (m) => fillPath(m, fx.ids))
    : op.target + '%E0%A4%A';
  out.push({
    name: 'percent-encoding',
    bytes: httpRequest(op.method, badPath, { ...auth }, ''),
    then: 'wait',
  });
  // A client that goes away right after its request line and headers.
  out.push({
    name: 'aborted connection',
    bytes: httpRequest(
      op.method,
      target,
      { ...v.headers, 'content-length': v.body.length + 1000 },
      v.body.subarray(0, v.body.length >> 1),
    ),
    then: 'abort',
  });
  if (!op.bodyTypes.length) return out;
  const withType = (type, extra = {}) => ({ ...auth, 'content-type': type, ...extra });
  const multipart = `multipart/form-data; boundary=${BOUNDARY}`;
  out.push({
    name: 'truncated multipart',
    bytes: req(withType(multipart), filePart('image', 'a.img', fx.image.subarray(0, 20_000))),
    then: 'wait',
  });
  out.push({
    name: 'truncated multipart, aborted',
    bytes: req(
      withType(multipart, { 'content-length': 200_000 }),
      filePart('image', 'a.img', fx.image.subarray(0, 20_000)),
    ),
    then: 'abort',
  });
  out.push({
    name: 'trickling sender',
    bytes: req({ ...v.headers, 'content-length': v.body.length + 100_000 }, v.body.subarray(0, 1)),
    then: 'trickle',
    trickle: Buffer.alloc(100_000, 0x20),
  });
  out.push({
    name: 'gzip decompression bomb',
    bytes: req({ ...v.headers, 'content-encoding': 'gzip' }, fx.bomb),
    then: 'wait',
  });
  const garbage = Buffer.from('not compressed, whatever the header says');
  for (const enc of ['gzip', 'deflate', 'br'])
    out.push({
      name: `corrupt ${enc} body`,
      bytes: req({ ...v.headers, 'content-encoding': enc }, garbage),
      then: 'wait',
    });
  out.push({
    name: 'unknown content encoding',
    bytes: req({ ...v.headers, 'content-encoding': 'zstd' }, v.body),
    then: 'wait',
  });
  out.push({ name: 'wrong content type', bytes: req(withType('image/png'), v.body), then: 'wait' });
  out.push({
    name: 'invalid JSON',
    bytes: req(withType('application/json'), '{"images": [1, '),
    then: 'wait',
  });
  out.push({
    name: 'declared length past every limit',
    bytes: req({ ...v.headers, 'content-length': 2 ** 40 }, ''),
    then: 'wait',
    waitMs: 15_000,
  });
  return out;
}

/** A gzip body of `mib` MiB of spaces (about 1000:1). */
export function makeBomb(mib = 64) {
  return gzipSync(Buffer.alloc(mib * 1024 * 1024, 0x20), { level: 9 });
}

// ------------------------------------------------------------------ mutations

/** mulberry32: a small seeded PRNG (the same cases for the same seed). */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), pick: (xs) => xs[Math.floor(next() * xs.length)] };
}

const HEADER_NAMES = [
  'content-type',
  'content-encoding',
  'content-length',
  'transfer-encoding',
  'authorization',
  'expect',
  'host',
];
const HEADER_VALUES = [
  '',
  'application/json',
  'multipart/form-data',
  'multipart/form-data; boundary=',
  'gzip',
  'deflate',
  'br',
  'gzip, gzip',
  '-1',
  '0',
  '99999999999999999999',
  'chunked',
  'Bearer',
  'Bearer x',
  '100-continue',
  '\u00ff\u00fe',
  'a'.repeat(9000),
];

/**
 * One random mutation of a valid request: the ops applied (for the saved case) and the bytes.
 * Mutations: body bytes flipped, truncated or extended; headers changed, dropped or repeated;
 * the target with junk or percent-escapes; compressed or chunked framing; an early abort.
 */
export function mutate(op, fx, r) {
  const v = validRequest(op, fx);
  let headers = { ...v.headers };
  let body = Buffer.from(v.body);
  let target = op.target + (v.query ?? '');
  let then = 'wait';
  const ops = [];
  const n = 1 + r.int(3);
  for (let i = 0; i < n; i++) {
    const kind = r.int(11);
    if (kind === 0 && body.length) {
      const at = r.int(body.length);
      body[at] ^= 1 << r.int(8);
      ops.push(`flip byte ${at}`);
    } else if (kind === 1 && body.length) {
      const len = r.int(body.length);
      body = body.subarray(0, len);
      ops.push(`truncate body to ${len}`);
    } else if (kind === 2) {
      const k = r.pick(HEADER_NAMES);
      const val = r.pick(HEADER_VALUES);
      headers[k] = val;
      ops.push(`header ${k}: ${val.slice(0, 40)}`);
    } else if (kind === 3) {
      const k = r.pick(Object.keys(headers));
      if (k) delete headers[k];
      ops.push(`drop header ${k}`);
    } else if (kind === 4) {
      const junk = r.pick([
        '%',
        '%ZZ',
        '%00',
        '/..',
        '/%2e%2e',
        '?format=%ZZ',
        '?limit=-1&limit=2',
        '/' + 'a'.repeat(5000),
        '%C0%AF',
        '?name=%00',
      ]);
      target += junk;
      ops.push(`target + ${junk.slice(0, 20)}`);
    } else if (kind === 5) {
      const enc = r.pick(['gzip', 'deflate', 'br']);
      const z = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync }[enc];
      body = z(body);
      headers['content-encoding'] = enc;
      ops.push(`compress ${enc}`);
    } else if (kind === 6) {
      const extra = r.int(4096);
      body = Buffer.concat([body, Buffer.alloc(extra, r.int(256))]);
      ops.push(`append ${extra} bytes`);
    } else if (kind === 7) {
      headers['content-length'] = String(Math.max(0, body.length + r.int(2000) - 1000));
      ops.push(`content-length ${headers['content-length']}`);
    } else if (kind === 8) {
      // Chunked framing, sometimes with a bad chunk size.
      const bad = r.int(3) === 0;
      body = Buffer.concat([
        Buffer.from(`${bad ? 'zz' : body.length.toString(16)}\r\n`),
        body,
        Buffer.from('\r\n0\r\n\r\n'),
      ]);
      delete headers['content-length'];
      headers['transfer-encoding'] = 'chunked';
      ops.push(`chunked${bad ? ' (bad size)' : ''}`);
    } else if (kind === 9) {
      then = 'abort';
      ops.push('abort after sending');
    } else {
      // (HEAD has no body to judge.)
      const method = r.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
      op = { ...op, method };
      ops.push(`method ${method}`);
    }
  }
  return {
    route: `${op.method} ${op.path}`,
    ops,
    bytes: httpRequest(op.method, target, headers, body),
    then,
  };
}

// ------------------------------------------------------------------ judgement

/**
 * What is wrong with an answer, or null: a 5xx other than 503, an error without a JSON body
 * naming it (Node's own answers to unparsable HTTP or a bad Expect — 400/408/413/417/431/505 without a body — are
 * fine), or no answer at all to a request we did not abort.
 */
export function judge(result, then) {
  const r = result.response;
  if (then === 'abort') return null;
  if (!r) return result.gaveUp ? 'no answer (timed out)' : null;
  if (r.status >= 500 && r.status !== 503 && r.status !== 505)
    return `status ${r.status}: ${r.body.slice(0, 200)}`;
  if (r.status >= 400) {
    const nodeOwn = r.body === '' && [400, 408, 413, 414, 417, 431, 505].includes(r.status);
    if (!nodeOwn) {
      const e = r.json?.error;
      if (!e || typeof e.code !== 'string' || typeof e.message !== 'string' || !e.message)
        return `status ${r.status} without a JSON error: ${r.body.slice(0, 200)}`;
    }
  }
  return null;
}

/** Resources the templates point at: an uploaded image (scanned), a manifest, a mount config, a report, a name. */
export async function prepare(base, fx) {
  const auth = fx.adminToken ? { authorization: `Bearer ${fx.adminToken}` } : {};
  const post = async (url, headers, body) => {
    const res = await fetch(base + url, { method: 'POST', headers: { ...auth, ...headers }, body });
    const j = await res.json();
    if (res.status >= 300) throw new Error(`${url}: ${res.status} ${JSON.stringify(j)}`);
    return j;
  };
  const image = await post(
    '/api/images?name=app.img',
    { 'content-type': 'application/octet-stream' },
    fx.image,
  );
  for (let i = 0; i < 600; i++) {
    const st = await (await fetch(`${base}/api/images/${image.id}`)).json();
    if (st.status === 'ready') break;
    if (st.status === 'failed') throw new Error('the fixture image failed to scan');
    await new Promise((ok) => setTimeout(ok, 100));
  }
  const manifest = await post(
    '/api/manifests',
    { 'content-type': 'application/x-ndjson' },
    fx.manifestNdjson,
  );
  const mount = await post('/api/mount-configs?name=fstab', { 'content-type': 'text/plain' }, fx.fstab);
  const report = await post(
    '/api/reports',
    { 'content-type': 'application/json' },
    JSON.stringify({ images: [image.id] }),
  );
  const named = await fetch(`${base}/api/report-names/main`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ reportId: report.id }),
  });
  if (named.status >= 300) throw new Error(`naming the report: ${named.status}`);
  return { image: image.id, manifest: manifest.id, mountConfig: mount.id, report: report.id, name: 'main' };
}

// ------------------------------------------------------------------ the fuzz loop

/**
 * Random mutations of valid requests to every operation, from `seed`, until `maxCases` or
 * `deadlineMs` (wall clock). After each case: the answer is judged and /api/health must
 * answer. Returns the findings ({ seed, index, route, ops, then, bytes (base64), finding }).
 */
export async function fuzzRun({ port, fx, ops, seed, maxCases = Infinity, deadlineMs, waitMs = 15_000 }) {
  const r = rng(seed);
  const findings = [];
  const end = Date.now() + deadlineMs;
  let cases = 0;
  for (; cases < maxCases && Date.now() < end; cases++) {
    const m = mutate(r.pick(ops), fx, r);
    const result = await rawRequest(port, m.bytes, { then: m.then, waitMs });
    let finding = judge(result, m.then);
    const h = await healthy(port, 1, Infinity);
    if (!h.alive) finding = `${finding ? finding + '; ' : ''}the server stopped answering /api/health`;
    if (finding)
      findings.push({
        seed,
        index: cases,
        route: m.route,
        ops: m.ops,
        then: m.then,
        bytes: m.bytes.toString('base64'),
        finding,
      });
    if (!h.alive) break;
  }
  return { cases, findings };
}
