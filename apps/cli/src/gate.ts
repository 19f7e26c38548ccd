/**
 * The CI gate: thresholds (from .sharemap.yml and flags) evaluated on a report and, with a
 * baseline, on the delta. Pure: report in, list of checks out. A failed check means exit 1.
 *
 * Figures used (docs/cli.md):
 *  - saved percent / bytes: `report.totals` (with unknown domains these are the worst case, R11);
 *  - unsharable duplicate bytes: sum of `bytes` over `unsharable-duplicate` findings;
 *  - unfingerprinted files: regular files without a fingerprint, summed over images;
 *  - bytes lost / files that stopped sharing: `compareReports(baseline, report)`.
 */
import {
  formatBytes,
  formatInteger,
  formatPercent,
  type Report,
  type ReportDelta,
  type TrustPolicy,
} from '@sharemap/sharing';
import type { Thresholds } from './config.js';
import { inputError } from './errors.js';

export interface GateCheck {
  /** The threshold's key in .sharemap.yml (`failOn:<code>` for findings). */
  id: string;
  ok: boolean;
  /** Set when the check could not run (e.g. baseline thresholds without --baseline); counts as ok. */
  skipped?: string;
  actual: number;
  limit: number;
  message: string;
}

export interface GateResult {
  passed: boolean;
  checks: GateCheck[];
}

export function unsharableDuplicateBytes(report: Report): number {
  return report.findings
    .filter((f) => f.code === 'unsharable-duplicate')
    .reduce((a, f) => a + (f.bytes ?? 0), 0);
}

export function unfingerprintedFiles(report: Report): number {
  return report.images.reduce((a, i) => a + Math.max(0, i.regularFiles - i.fingerprintedFiles), 0);
}

export function hasThresholds(t: Thresholds): boolean {
  return Object.entries(t).some(
    ([k, v]) => v !== undefined && !(k === 'failOn' && Array.isArray(v) && v.length === 0),
  );
}

export function evaluateGate(
  report: Report,
  t: Thresholds,
  delta?: ReportDelta | null,
  /** The trust policy: its checks (`report.trust.policy`, docs/trust.md#policy) join the gate. */
  trust?: TrustPolicy,
): GateResult {
  const checks: GateCheck[] = [];
  // --measure measured: the saving checks read the measured working set (docs/working-set.md).
  const measured = t.measure === 'measured';
  if (measured && !report.measured && (t.minSavedPercent !== undefined || t.minSavedBytes !== undefined))
    throw inputError(
      '--measure measured needs residency data (--residency FILE, or a host snapshot as --mounts)',
    );
  const tot = measured ? report.measured!.totals : report.totals;
  const what = measured ? 'of the measured working set' : 'of page cache';
  if (t.minSavedPercent !== undefined) {
    const ok = tot.percentSaved >= t.minSavedPercent;
    checks.push({
      id: 'minSavedPercent',
      ok,
      actual: tot.percentSaved,
      limit: t.minSavedPercent,
      message: `saved ${formatPercent(tot.percentSaved)} ${what} ${ok ? '>=' : '<'} minimum ${formatPercent(t.minSavedPercent)}`,
    });
  }
  if (t.minSavedBytes !== undefined) {
    const ok = tot.bytesSaved >= t.minSavedBytes;
    checks.push({
      id: 'minSavedBytes',
      ok,
      actual: tot.bytesSaved,
      limit: t.minSavedBytes,
      message: `saved ${formatBytes(tot.bytesSaved)}${measured ? ` ${what}` : ''} ${ok ? '>=' : '<'} minimum ${formatBytes(t.minSavedBytes)}`,
    });
  }
  if (t.maxUnsharableDuplicateBytes !== undefined) {
    const v = unsharableDuplicateBytes(report);
    const ok = v <= t.maxUnsharableDuplicateBytes;
    checks.push({
      id: 'maxUnsharableDuplicateBytes',
      ok,
      actual: v,
      limit: t.maxUnsharableDuplicateBytes,
      message: `${formatBytes(v)} of duplicate content cannot share ${ok ? '<=' : '>'} maximum ${formatBytes(t.maxUnsharableDuplicateBytes)}`,
    });
  }
  if (t.maxUnfingerprintedFiles !== undefined) {
    const v = unfingerprintedFiles(report);
    const ok = v <= t.maxUnfingerprintedFiles;
    checks.push({
      id: 'maxUnfingerprintedFiles',
      ok,
      actual: v,
      limit: t.maxUnfingerprintedFiles,
      message: `${formatInteger(v)} regular file(s) without a fingerprint ${ok ? '<=' : '>'} maximum ${formatInteger(t.maxUnfingerprintedFiles)}`,
    });
  }
  for (const [id, limit, what] of [
    ['maxBytesLost', t.maxBytesLost, 'bytes lost'],
    ['maxFilesStoppedSharing', t.maxFilesStoppedSharing, 'files that stopped sharing'],
  ] as const) {
    if (limit === undefined) continue;
    if (!delta) {
      checks.push({
        id,
        ok: true,
        skipped: 'no --baseline given',
        actual: 0,
        limit,
        message: `${what}: not checked (no --baseline given)`,
      });
      continue;
    }
    if (id === 'maxBytesLost') {
      const lost = Math.max(0, -delta.totals.delta.bytesSaved);
      const ok = lost <= limit;
      checks.push({
        id,
        ok,
        actual: lost,
        limit,
        message: `saved ${lost > 0 ? `${formatBytes(lost)} less` : `${formatBytes(delta.totals.delta.bytesSaved)} more`} than the baseline${lost > 0 ? ` ${ok ? '<=' : '>'} maximum loss ${formatBytes(limit)}` : ''}`,
      });
    } else {
      const n = delta.stoppedSharing.length;
      const ok = n <= limit;
      checks.push({
        id,
        ok,
        actual: n,
        limit,
        message: `${formatInteger(n)} file(s) stopped sharing since the baseline ${ok ? '<=' : '>'} maximum ${formatInteger(limit)}`,
      });
    }
  }
  for (const code of t.failOn ?? []) {
    const hits = report.findings.filter((f) => f.code === code);
    const ok = hits.length === 0;
    checks.push({
      id: `failOn:${code}`,
      ok,
      actual: hits.length,
      limit: 0,
      message: ok ? `no ${code} finding` : `${hits.length} ${code} finding(s): ${hits[0]!.message}`,
    });
  }
  if (trust && Object.keys(trust).length > 0) {
    const result = report.trust?.policy;
    if (!result)
      checks.push({
        id: 'trust',
        ok: false,
        actual: 1,
        limit: 0,
        message:
          'the report has no trust model to evaluate the trust policy on (a report from an older server?)',
      });
    for (const c of result?.checks ?? [])
      checks.push({
        id: c.id,
        ok: c.ok,
        actual: c.ok ? 0 : 1,
        limit: 0,
        message: `${c.message} (${c.ruleRef})`,
      });
  }
  return { passed: checks.every((c) => c.ok), checks };
}

/** Text lines for terminals and logs. */
export function gateText(g: GateResult): string {
  if (g.checks.length === 0) return '';
  const out = [`Gate: ${g.passed ? 'PASSED' : 'FAILED'}`];
  for (const c of g.checks)
    out.push(`  ${c.skipped ? 'skip' : c.ok ? 'ok  ' : 'FAIL'}  ${c.id}: ${c.message}`);
  return out.join('\n') + '\n';
}

function esc(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Markdown section appended to the PR comment. */
export function gateMarkdown(g: GateResult): string {
  if (g.checks.length === 0) return '';
  const out = [
    '',
    `#### Gate: ${g.passed ? 'passed :white_check_mark:' : 'failed :x:'}`,
    '',
    '| check | result | |',
    '|---|---|---|',
  ];
  for (const c of g.checks)
    out.push(`| \`${c.id}\` | ${c.skipped ? 'skipped' : c.ok ? 'ok' : '**failed**'} | ${esc(c.message)} |`);
  return out.join('\n') + '\n';
}
