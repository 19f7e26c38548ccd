/**
 * `--junit FILE`: the gate as JUnit XML, the format test reporters read (GitLab's
 * `artifacts:reports:junit`, GitHub test-report actions), so a CI shows the gate natively.
 *
 * Structure (the common JUnit schema: testsuites > testsuite > testcase > failure|skipped):
 *  - suite `sharemap.thresholds`: one test case per threshold that is set (minSavedPercent, ...);
 *  - suite `sharemap.findings`: one test case per finding class of `failOn` (a class present in
 *    the report fails its case).
 * A failed case's `failure` carries the figure and the threshold in `message` and, in its text,
 * the top offending files (largest first), so a reviewer sees what to fix without the report.
 */
import { formatBytes, type Report, type ReportDelta } from '@sharemap/sharing';
import type { GateCheck, GateResult } from '../gate.js';

/** Offending files listed per failed case (the full list is in the report). */
export const JUNIT_TOP_FILES = 10;

/** XML 1.0 forbids most control characters even when escaped: they are dropped. */
// eslint-disable-next-line no-control-regex
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function xmlEscape(s: string): string {
  return s
    .replace(XML_INVALID, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\r?\n/g, '&#10;');
}

/** Text content (newlines kept). */
function xmlText(s: string): string {
  return s.replace(XML_INVALID, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

interface Offender {
  label: string;
  bytes: number;
}

/** `image:path` of a row of the file table. */
function rowLabel(r: Report, row: number): string {
  const inst = r.instances[r.files.instance[row]!];
  const path = inst ? r.paths[inst.imageId]?.[r.files.file[row]!] : undefined;
  return `${inst?.imageId ?? '?'}:${path ?? `#${row}`} (${inst?.label ?? '?'})`;
}

function topRows(r: Report, rows: Iterable<number>, n = JUNIT_TOP_FILES): Offender[] {
  const best: Offender[] = [];
  const seen = new Set<number>();
  for (const row of rows) {
    if (seen.has(row)) continue;
    seen.add(row);
    const bytes = r.files.size[row] ?? 0;
    if (best.length === n && bytes <= best[n - 1]!.bytes) continue;
    best.push({ label: rowLabel(r, row), bytes });
    best.sort((a, b) => b.bytes - a.bytes);
    if (best.length > n) best.pop();
  }
  return best;
}

/** Rows whose status is in `statuses` (the files that keep a threshold from passing). */
function* rowsWithStatus(r: Report, statuses: (s: string) => boolean): Generator<number> {
  const st = r.files.status;
  for (let i = 0; i < st.length; i++) if (statuses(st[i]!) && (r.files.size[i] ?? 0) > 0) yield i;
}

/** The files to name for a failed check (largest first). */
export function offenders(r: Report, c: GateCheck, delta: ReportDelta | null): Offender[] {
  switch (c.id) {
    case 'minSavedPercent':
    case 'minSavedBytes':
      // Regular files that stayed private: what could have shared.
      return topRows(
        r,
        rowsWithStatus(r, (s) => s.startsWith('private-') && s !== 'private-not-regular'),
      );
    case 'maxUnfingerprintedFiles':
      return topRows(
        r,
        rowsWithStatus(r, (s) => s === 'private-no-fingerprint'),
      );
    case 'maxUnsharableDuplicateBytes':
      return topRows(
        r,
        r.findings.filter((f) => f.code === 'unsharable-duplicate').flatMap((f) => f.rows ?? []),
      );
    case 'maxBytesLost':
    case 'maxFilesStoppedSharing':
      return [...(delta?.stoppedSharing ?? [])]
        .sort((a, b) => b.savedBefore - a.savedBefore)
        .slice(0, JUNIT_TOP_FILES)
        .map((f) => ({ label: `${f.image}:${f.path}`, bytes: f.savedBefore }));
    default: {
      const code = c.id.startsWith('failOn:') ? c.id.slice('failOn:'.length) : null;
      if (code === null) return [];
      return topRows(
        r,
        r.findings.filter((f) => f.code === code).flatMap((f) => f.rows ?? []),
      );
    }
  }
}

/** The failure's text: figure and threshold, the findings' messages, the offending files. */
function failureText(r: Report, c: GateCheck, delta: ReportDelta | null): string {
  const lines = [`${c.id}: ${c.message}`, `actual: ${c.actual}, limit: ${c.limit}`];
  if (c.id.startsWith('failOn:')) {
    const code = c.id.slice('failOn:'.length);
    for (const f of r.findings.filter((x) => x.code === code))
      lines.push(`- [${f.severity}] ${f.message}${f.bytes ? ` (${formatBytes(f.bytes)})` : ''}`);
  }
  const top = offenders(r, c, delta);
  if (top.length > 0) {
    const stopped = c.id === 'maxBytesLost' || c.id === 'maxFilesStoppedSharing';
    lines.push(
      stopped ? 'top files that stopped sharing (bytes they saved):' : 'top offending files (size):',
    );
    for (const o of top) lines.push(`  ${formatBytes(o.bytes).padStart(10)}  ${o.label}`);
  }
  return lines.join('\n');
}

function testcase(r: Report, c: GateCheck, suite: string, delta: ReportDelta | null): string {
  const head = `    <testcase classname="${xmlEscape(suite)}" name="${xmlEscape(c.id)}" time="0"`;
  if (c.skipped) return `${head}>\n      <skipped message="${xmlEscape(c.skipped)}"/>\n    </testcase>`;
  if (c.ok) return `${head}>\n      <system-out>${xmlText(c.message)}</system-out>\n    </testcase>`;
  return [
    `${head}>`,
    `      <failure type="${c.id.startsWith('failOn:') ? 'finding' : 'threshold'}" message="${xmlEscape(c.message)}">${xmlText(failureText(r, c, delta))}</failure>`,
    '    </testcase>',
  ].join('\n');
}

function suite(
  r: Report,
  name: string,
  checks: GateCheck[],
  delta: ReportDelta | null,
  timestamp: string,
  properties: Record<string, string> = {},
): string {
  const failures = checks.filter((c) => !c.ok).length;
  const skipped = checks.filter((c) => c.skipped).length;
  const cases = checks.map((c) => testcase(r, c, name, delta));
  return [
    `  <testsuite name="${name}" tests="${checks.length}" failures="${failures}" errors="0" skipped="${skipped}" time="0" timestamp="${xmlEscape(timestamp)}">`,
    ...(Object.keys(properties).length > 0
      ? [
          '    <properties>',
          ...Object.entries(properties).map(
            ([k, v]) => `      <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`,
          ),
          '    </properties>',
        ]
      : []),
    ...cases,
    '  </testsuite>',
  ].join('\n');
}

/** The gate as a JUnit XML document. `headline` goes into the suites' properties. */
export function renderJunit(
  r: Report,
  gate: GateResult,
  delta: ReportDelta | null,
  headline: string,
): string {
  const thresholds = gate.checks.filter((c) => !c.id.startsWith('failOn:'));
  const findings = gate.checks.filter((c) => c.id.startsWith('failOn:'));
  // JUnit timestamps are ISO 8601 without a zone designator.
  const ts = r.createdAt.replace(/(\.\d+)?Z$/, '');
  const failures = gate.checks.filter((c) => !c.ok).length;
  const skipped = gate.checks.filter((c) => c.skipped).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="sharemap" tests="${gate.checks.length}" failures="${failures}" errors="0" skipped="${skipped}" time="0">`,
    suite(r, 'sharemap.thresholds', thresholds, delta, ts, { headline }),
    suite(r, 'sharemap.findings', findings, delta, ts),
    '</testsuites>',
    '',
  ].join('\n');
}
