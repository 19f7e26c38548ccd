/**
 * What `analyze` and `upload` share: baseline loading (file, link, id or name), report names,
 * gate, output, job summary, exit code.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  applyTrustPolicy,
  compareReports,
  headline,
  reportNameProblem,
  type Report,
} from '@sharemap/sharing';
import { JSON_PIECE_BYTES, PiecePool } from '@sharemap/report-wire';
import type { ServerClient } from '../client.js';
import { EXIT_GATE_FAILED, EXIT_OK, inputError, serverError } from '../errors.js';
import { evaluateGate } from '../gate.js';
import { readReportFile, reportFromJson } from '../inputs.js';
import type { Io } from '../io.js';
import type { OutputFiles, Settings } from '../options.js';
import { loadTemplate, renderHtml } from '../output/html.js';
import { renderJunit } from '../output/junit.js';
import {
  renderResult,
  resultJsonChunks,
  writeStepSummary,
  type CliResult,
  type MountConfigRead,
  type OutputFormat,
} from '../output/render.js';
import { writeLines, writePieces } from '../write.js';

/** A report id as the server makes them: 22 characters of base64url (128 random bits). */
export const REPORT_ID_RE = /^[A-Za-z0-9_-]{22}$/;

/** Report id from a report link (`https://host/r/ID`, `.../api/reports/ID`) or a bare id. */
export function reportIdOf(ref: string): { id: string; base?: string } | null {
  if (/^https?:\/\//.test(ref)) {
    let u: URL;
    try {
      u = new URL(ref);
    } catch {
      return null;
    }
    const m = /^(.*?)\/(?:r|reports|api\/reports)\/([A-Za-z0-9_-]+)\/?$/.exec(u.pathname);
    if (!m) return null;
    return { id: m[2]!, base: `${u.origin}${m[1]}` };
  }
  return REPORT_ID_RE.test(ref) ? { id: ref } : null;
}

export interface Baseline {
  report: Report;
  /** Link to the baseline report when it came from a server. */
  url?: string;
  /** The report a name pointed at. */
  id?: string;
}

interface NameReply {
  reportId?: unknown;
  url?: unknown;
}

async function fetchReport(c: ServerClient, id: string, what: string): Promise<Report | null> {
  const json = await c.request<unknown>('GET', `/api/reports/${encodeURIComponent(id)}`, {
    what,
    nullOn404: true,
  });
  return json === null ? null : reportFromJson(json, what);
}

/**
 * `--baseline REF`, in this order: an existing file (a report JSON, e.g. `analyze --json`
 * output); a report link (fetched from its host); a report id (the server's id format);
 * otherwise a report name (`main`) resolved on the server. An id that the server does not
 * know is tried as a name too.
 */
export async function loadBaseline(
  ref: string,
  io: Io,
  client: ServerClient | null,
  /** A client for the host of a report link; `withToken` only when it is the configured server. */
  makeClient?: (base: string, withToken: boolean) => ServerClient,
): Promise<Baseline> {
  const path = resolve(io.cwd, ref);
  if (existsSync(path)) return { report: await readReportFile(path) };
  const rid = reportIdOf(ref);
  const nameProblem = reportNameProblem(ref);
  if (!rid && nameProblem !== undefined)
    throw inputError(`--baseline ${ref}: no such file, and not a report link, id or name`);
  let c = client;
  if (rid?.base) {
    if (makeClient && (!c || !rid.base.startsWith(c.base))) {
      // The token belongs to the configured server; a link to another host is a capability of
      // its own and is fetched without it, so a pasted link cannot collect the CI token.
      const sameServer = c !== null && new URL(rid.base).origin === new URL(c.base).origin;
      c = makeClient(rid.base, sameServer);
    }
  }
  if (!c)
    throw inputError(
      `--baseline ${ref}: no such file; to fetch the report ${rid ? `"${rid.id}"` : `named "${ref}"`} from a server, give --server URL (or server: in .sharemap.yml)`,
    );
  if (rid) {
    const what = `baseline report ${rid.id}`;
    const report = await fetchReport(c, rid.id, what);
    if (report) return { report, url: c.url(`/r/${rid.id}`), id: rid.id };
    if (rid.base || nameProblem !== undefined)
      throw inputError(`${what}: not found on the sharemap server at ${c.base}`);
  }
  // A report name; its characters need no escaping in a URL path.
  const named = await c.request<NameReply | null>('GET', `/api/report-names/${ref}`, {
    what: `baseline name "${ref}"`,
    nullOn404: true,
  });
  if (named === null) {
    const hint = /\.(json|gz)$/i.test(ref) ? '' : ` (upload --save-as ${ref} names a report)`;
    throw inputError(
      `--baseline ${ref}: ${rid ? 'no report has this id or name' : `no such file, and no report is named "${ref}"`} on the sharemap server at ${c.base}${hint}`,
    );
  }
  if (typeof named.reportId !== 'string' || !REPORT_ID_RE.test(named.reportId))
    throw serverError(`baseline name "${ref}": the server's reply has no report id`);
  const what = `baseline report ${named.reportId} (named "${ref}")`;
  const report = await fetchReport(c, named.reportId, what);
  if (!report) throw inputError(`${what}: not found on the sharemap server at ${c.base}`);
  const url = typeof named.url === 'string' ? c.url(named.url) : c.url(`/r/${named.reportId}`);
  return { report, url, id: named.reportId };
}

/** `upload --save-as NAME`: point the name at the new report (set or move it). */
export async function saveAs(c: ServerClient, name: string, reportId: string): Promise<void> {
  await c.request<unknown>('PUT', `/api/report-names/${name}`, {
    body: JSON.stringify({ reportId }),
    headers: { 'content-type': 'application/json' },
    what: `--save-as ${name}`,
  });
}

/** Writes one of the output files; a failure is bad input (exit 2) naming the option. */
async function writeOutput(
  io: Io,
  option: string,
  file: string,
  data: string | Uint8Array | Iterable<string> | Iterable<Uint8Array>,
): Promise<void> {
  try {
    await writeFile(resolve(io.cwd, file), data);
  } catch (e) {
    throw inputError(`${option} ${file}: cannot write: ${(e as Error).message}`);
  }
}

export async function finish(
  io: Io,
  report: Report,
  settings: Settings,
  format: OutputFormat,
  extra: {
    baseline?: Baseline | null;
    baselineRef?: string;
    url?: string;
    id?: string;
    savedAs?: string;
    /** --threat-model: print the trust write-up (text) or add its section (Markdown). */
    threatModel?: boolean;
    mountConfigs?: MountConfigRead[];
  } & OutputFiles = {},
): Promise<number> {
  const delta = extra.baseline ? compareReports(extra.baseline.report, report) : null;
  // The trust policy's result goes into the report, so the printed/JSON sign-off carries it.
  if (settings.trust && report.trust) applyTrustPolicy(report.trust, settings.trust);
  const gate = evaluateGate(report, settings.thresholds, delta, settings.trust);
  const result: CliResult = { report, gate, delta };
  if (extra.threatModel) result.threatModel = true;
  if (extra.baselineRef !== undefined) result.baseline = extra.baselineRef;
  if (extra.baseline?.url !== undefined) result.baselineUrl = extra.baseline.url;
  if (extra.savedAs !== undefined) result.savedAs = extra.savedAs;
  if (extra.url !== undefined) result.url = extra.url;
  if (extra.id !== undefined) result.id = extra.id;
  if (extra.mountConfigs !== undefined) result.mountConfigs = extra.mountConfigs;
  // JSON goes out in pieces (resultJsonChunks): a report of millions of rows is never one string.
  if (extra.jsonOut !== undefined)
    await writeOutput(io, '--json-out', extra.jsonOut, resultJsonChunks(result));
  if (extra.junitOut !== undefined)
    await writeOutput(io, '--junit', extra.junitOut, renderJunit(report, gate, delta, headline(report)));
  if (extra.htmlOut !== undefined)
    await writeOutput(io, '--html', extra.htmlOut, renderHtml(await loadTemplate(io.env), report));
  if (format === 'json') {
    // Pieces the stream has written are filled again (write.ts writePieces).
    const pool = new PiecePool(JSON_PIECE_BYTES, 8);
    await writePieces(io.stdout, resultJsonChunks(result, pool), (p) => pool.give(p));
  } else await writeLines(io.stdout, [renderResult(result, format)]);
  await writeStepSummary(io, result);
  if (!gate.passed) {
    const failed = gate.checks.filter((x) => !x.ok);
    io.stderr.write(`sharemap: gate failed: ${failed.map((c) => `${c.id} (${c.message})`).join('; ')}\n`);
    return EXIT_GATE_FAILED;
  }
  return EXIT_OK;
}
