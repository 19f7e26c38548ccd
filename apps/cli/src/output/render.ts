/**
 * Output of `analyze` and `upload`: human text (default), `--json`, `--markdown` (a
 * pull-request comment), and the GitHub Actions job summary (`$GITHUB_STEP_SUMMARY`).
 */
import { appendFile } from 'node:fs/promises';
import {
  formatBytes,
  markdownText,
  renderMarkdown,
  renderText,
  renderTrustMarkdown,
  renderTrustText,
  terminalText,
  type Report,
  type ReportDelta,
} from '@sharemap/sharing';
import { gateMarkdown, gateText, type GateResult } from '../gate.js';
import type { Io } from '../io.js';
import { JSON_PIECE_BYTES, jsonBytes, type PiecePool } from '@sharemap/report-wire';

export type OutputFormat = 'text' | 'json' | 'markdown';

export interface CliResult {
  report: Report;
  gate: GateResult;
  /** compareReports(baseline, report) when --baseline was given. */
  delta: ReportDelta | null;
  /** Where the baseline came from (file path, report id, URL or name), as given. */
  baseline?: string;
  /** Link to the baseline report when it came from a server. */
  baselineUrl?: string;
  /** upload --save-as: the name now pointing at this report. */
  savedAs?: string;
  /** Link to the report on the server (upload). */
  url?: string;
  /** Server id of the report (upload). */
  id?: string;
  /** --threat-model: text output is the trust write-up; Markdown gets the trust section. */
  threatModel?: boolean;
  /** How each mount configuration was read (the format is detected from its name and content). */
  mountConfigs?: MountConfigRead[];
}

export interface MountConfigRead {
  file: string;
  format: string;
  erofsMounts: number;
}

/** "Mount configurations: fleet.fstab read as fstab (7 erofs mounts)". */
function mountConfigsText(list: MountConfigRead[]): string {
  const one = (m: MountConfigRead) =>
    `${m.file} read as ${m.format} (${m.erofsMounts} erofs mount${m.erofsMounts === 1 ? '' : 's'})`;
  return `Mount configurations: ${list.map(one).join(', ')}\n`;
}

function signed(bytes: number): string {
  return (bytes > 0 ? '+' : '') + formatBytes(bytes);
}

export function deltaText(delta: ReportDelta, baseline: string | undefined, top = 10): string {
  const d = delta.totals;
  const out = [
    `Compared with the baseline${baseline ? ` (${terminalText(baseline)})` : ''}:`,
    `  saved ${signed(d.delta.bytesSaved)}: ${formatBytes(d.base.bytesSaved)} -> ${formatBytes(d.next.bytesSaved)} (${d.base.percentSaved.toFixed(1)} % -> ${d.next.percentSaved.toFixed(1)} %)`,
    `  without sharing ${signed(d.delta.bytesWithoutSharing)}, with sharing ${signed(d.delta.bytesWithSharing)}`,
    `  bytes lost ${formatBytes(delta.bytesLost)}, gained ${formatBytes(delta.bytesGained)}; ${delta.stoppedSharing.length} file(s) stopped sharing, ${delta.startedSharing.length} started`,
  ];
  const worst = [...delta.stoppedSharing].sort((a, b) => b.savedBefore - a.savedBefore).slice(0, top);
  if (worst.length > 0) {
    out.push('  top regressions (stopped sharing):');
    for (const f of worst)
      out.push(`    ${formatBytes(f.savedBefore).padStart(10)}  ${terminalText(`${f.image}:${f.path}`)}`);
  }
  return out.join('\n') + '\n';
}

/** "main: https://host/r/ID" for a baseline from a server, else the reference as given. */
function baselineLabel(r: CliResult): string | undefined {
  if (r.baselineUrl === undefined || r.baseline === r.baselineUrl) return r.baseline;
  return r.baseline === undefined ? r.baselineUrl : `${r.baseline}: ${r.baselineUrl}`;
}

export function resultText(r: CliResult): string {
  let s = r.threatModel
    ? r.report.trust
      ? renderTrustText(r.report.trust)
      : 'The report has no trust model (a report from an older server?).\n'
    : renderText(r.report);
  if (r.url) s = `Report: ${terminalText(r.url)}\n` + s;
  if (r.delta) s += '\n' + deltaText(r.delta, baselineLabel(r));
  if (r.mountConfigs?.length) s += '\n' + mountConfigsText(r.mountConfigs);
  const g = gateText(r.gate);
  if (g) s += '\n' + g;
  return s;
}

export function resultMarkdown(r: CliResult): string {
  const md = renderMarkdown(r.report, {
    ...(r.url ? { url: r.url } : {}),
    ...(r.delta ? { delta: r.delta } : {}),
  });
  const lines = md.split('\n');
  // Gate verdict right under the title, details at the end.
  if (r.gate.checks.length > 0) {
    const failed = r.gate.checks.filter((c) => !c.ok).length;
    const verdict = r.gate.passed
      ? `:white_check_mark: **Gate passed** (${r.gate.checks.length} check${r.gate.checks.length === 1 ? '' : 's'})`
      : `:x: **Gate failed**: ${failed} of ${r.gate.checks.length} checks failed`;
    lines.splice(1, 0, '', verdict);
  }
  let out = lines.join('\n');
  if (r.delta) {
    const link = r.baselineUrl ? ` ([${markdownText(r.baseline ?? 'report')}](${r.baselineUrl}))` : '';
    out += `\nBytes lost since the baseline${link}: ${formatBytes(r.delta.bytesLost)}, gained: ${formatBytes(r.delta.bytesGained)}.\n`;
  }
  // The trust section: asked for, or a trust policy was evaluated (the sign-off).
  if (r.report.trust && (r.threatModel || r.report.trust.policy)) out += renderTrustMarkdown(r.report.trust);
  out += gateMarkdown(r.gate);
  return out;
}

export function resultJson(r: CliResult): string {
  return JSON.stringify(resultJsonValue(r)) + '\n';
}

/**
 * resultJson() as UTF-8 pieces (report-wire's jsonBytes): what `--json` writes, so a 2M-row
 * report is never one string, and no string is encoded again at the write.
 */
export function* resultJsonChunks(r: CliResult, pool: PiecePool | null = null): Generator<Uint8Array> {
  yield* jsonBytes(resultJsonValue(r), JSON_PIECE_BYTES, pool);
  yield NEWLINE;
}

const NEWLINE = new Uint8Array([0x0a]);

/** The report with the CLI's additions (gate, delta, links): the value `--json` prints. */
function resultJsonValue(r: CliResult): Record<string, unknown> {
  const extra: Record<string, unknown> = { gate: r.gate, delta: r.delta };
  if (r.baseline !== undefined) extra.baseline = r.baseline;
  if (r.baselineUrl !== undefined) extra.baselineUrl = r.baselineUrl;
  if (r.savedAs !== undefined) extra.savedAs = r.savedAs;
  if (r.url !== undefined) extra.url = r.url;
  if (r.id !== undefined) extra.id = r.id;
  if (r.mountConfigs !== undefined) extra.mountConfigs = r.mountConfigs;
  // The report's own properties as they are (not `{ ...r.report }`, which would read its
  // groups as objects: the engine's report keeps them as columns, which jsonBytes writes).
  const out = Object.defineProperties({}, Object.getOwnPropertyDescriptors(r.report)) as Record<
    string,
    unknown
  >;
  return Object.assign(out, extra);
}

export function renderResult(r: CliResult, format: OutputFormat): string {
  if (format === 'json') return resultJson(r);
  if (format === 'markdown') return resultMarkdown(r);
  return resultText(r);
}

/** Append the markdown summary to $GITHUB_STEP_SUMMARY when set (GitHub Actions job summary). */
export async function writeStepSummary(io: Io, r: CliResult): Promise<void> {
  const file = io.env.GITHUB_STEP_SUMMARY;
  if (!file) return;
  try {
    await appendFile(file, resultMarkdown(r) + '\n');
  } catch (e) {
    io.stderr.write(
      `sharemap: warning: cannot append to GITHUB_STEP_SUMMARY (${file}): ${(e as Error).message}\n`,
    );
  }
}
