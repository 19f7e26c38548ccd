/** What `analyze` and `upload` share: baseline loading, gate, output, job summary, exit code. */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { compareReports, type Report } from '@sharemap/sharing';
import type { ServerClient } from '../client.js';
import { EXIT_GATE_FAILED, EXIT_OK, inputError } from '../errors.js';
import { evaluateGate } from '../gate.js';
import { readReportFile, reportFromJson } from '../inputs.js';
import type { Io } from '../io.js';
import type { Settings } from '../options.js';
import { renderResult, writeStepSummary, type CliResult, type OutputFormat } from '../output/render.js';
import { writeLines } from '../write.js';

export const REPORT_ID_RE = /^[A-Za-z0-9_-]{1,128}$/;

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

/**
 * `--baseline REF`: an existing file (a report JSON, e.g. `analyze --json` output), a report
 * link, or a report id fetched from the server.
 */
export async function loadBaseline(
  ref: string,
  io: Io,
  client: ServerClient | null,
  makeClient?: (base: string) => ServerClient,
): Promise<Report> {
  const path = resolve(io.cwd, ref);
  if (existsSync(path)) return readReportFile(path);
  const rid = reportIdOf(ref);
  if (!rid) throw inputError(`--baseline ${ref}: no such file, and not a report id or link`);
  let c = client;
  if (rid.base && makeClient && (!c || !rid.base.startsWith(c.base))) c = makeClient(rid.base);
  if (!c)
    throw inputError(
      `--baseline ${ref}: no such file; to fetch report "${rid.id}" from a server, give --server URL`,
    );
  const json = await c.request<unknown>('GET', `/api/reports/${encodeURIComponent(rid.id)}`, {
    what: `baseline report ${rid.id}`,
  });
  return reportFromJson(json, `baseline report ${rid.id}`);
}

export async function finish(
  io: Io,
  report: Report,
  settings: Settings,
  format: OutputFormat,
  extra: { baseline?: Report | null; baselineRef?: string; url?: string; id?: string; jsonOut?: string } = {},
): Promise<number> {
  const delta = extra.baseline ? compareReports(extra.baseline, report) : null;
  const gate = evaluateGate(report, settings.thresholds, delta);
  const result: CliResult = { report, gate, delta };
  if (extra.baselineRef !== undefined) result.baseline = extra.baselineRef;
  if (extra.url !== undefined) result.url = extra.url;
  if (extra.id !== undefined) result.id = extra.id;
  if (extra.jsonOut !== undefined) {
    const path = resolve(io.cwd, extra.jsonOut);
    try {
      await writeFile(path, renderResult(result, 'json'));
    } catch (e) {
      throw inputError(`--json-out ${extra.jsonOut}: cannot write: ${(e as Error).message}`);
    }
  }
  await writeLines(io.stdout, [renderResult(result, format)]);
  await writeStepSummary(io, result);
  if (!gate.passed) {
    const failed = gate.checks.filter((x) => !x.ok);
    io.stderr.write(`sharemap: gate failed: ${failed.map((c) => `${c.id} (${c.message})`).join('; ')}\n`);
    return EXIT_GATE_FAILED;
  }
  return EXIT_OK;
}
