/** Plain-text summary for terminals (the CLI's default output). */
import { memberCount } from '../model/file-rows.js';
import type { Report } from '../report.js';
import { formatBytes, formatInteger } from './bytes.js';
import {
  bothMeasures,
  headline,
  hostTotalLine,
  instanceState,
  predictedNote,
  topGroups,
  withSharingRange,
} from './common.js';
import { terminalText as tty } from './escape.js';

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}
function lpad(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

export function renderText(report: Report, opts: { top?: number } = {}): string {
  const out: string[] = [headline(report)];
  const both = bothMeasures(report);
  if (both) out.push(`  ${both}`);
  const note = predictedNote(report);
  if (note) out.push(`  ${note}`);
  const t = report.totals;
  out.push(
    `  exact: ${formatInteger(t.bytesWithoutSharing)} / ${formatInteger(t.bytesWithSharing)} / ${formatInteger(t.bytesSaved)} bytes (${report.options.pageSize}-byte pages, working set ${report.options.workingSetFraction})`,
  );
  const host = hostTotalLine(report);
  if (host) out.push(`  ${host}`);
  if (report.bounds)
    out.push(
      `  unknown domains: ${withSharingRange(report.bounds.best.bytesWithSharing, report.bounds.worst.bytesWithSharing)}`,
    );
  if (report.orderBounds)
    out.push(
      `  read order: ${withSharingRange(report.orderBounds.best.bytesWithSharing, report.orderBounds.worst.bytesWithSharing)}`,
    );
  out.push(
    '',
    report.cost
      ? `Instances (without -> with, first member pays; fair share; host cost${report.cost.measured ? '; measured without -> with, fair share' : ''}):`
      : 'Instances:',
  );
  // Labels, names, paths and messages can come from images: no control sequence reaches the terminal.
  const w = Math.max(8, ...report.instances.map((i) => tty(i.label).length));
  for (const inst of report.instances) {
    const x = report.perInstance[inst.id]!;
    const m = report.measured?.perInstance[inst.id];
    const c = report.cost?.perInstance[inst.id];
    const mf = report.cost?.measured?.perInstance[inst.id];
    out.push(
      `  ${pad(tty(inst.label), w)}  ${pad(tty(inst.domain?.label ?? '-'), 8)} ${pad(instanceState(report, inst.id), 24)} ${lpad(formatBytes(x.bytesWithoutSharing), 10)} -> ${lpad(formatBytes(x.bytesWithSharing), 10)}` +
        (c
          ? `  fair ${lpad(formatBytes(c.fairBytes), 10)}  host ${lpad(formatBytes(c.hostBytes), 10)}`
          : '') +
        (m
          ? `  measured ${lpad(formatBytes(m.bytesWithoutSharing), 10)} -> ${lpad(formatBytes(m.bytesWithSharing), 10)}`
          : '') +
        (m && mf ? `  fair ${lpad(formatBytes(mf.fairBytes), 10)}` : ''),
    );
  }
  const caches = report.unsharedCaches.reduce((a, l) => a + l.bytes, 0);
  if (caches > 0)
    out.push(`  + never shared (R8, not in the totals): ${formatBytes(caches)} of backing-file cache`);
  const containers = report.cost?.containers ?? [];
  if (containers.length > 0) {
    const mc = report.cost?.measured?.containers;
    out.push(
      '',
      `Containers (without -> with sharing alone; fair share; host cost${mc ? '; measured fair share' : ''}):`,
    );
    const cw = Math.max(8, ...containers.map((c) => tty(c.name).length));
    containers.forEach((c, k) =>
      out.push(
        `  ${pad(tty(c.name), cw)}  ${lpad(formatBytes(c.bytesWithoutSharing), 10)} -> ${lpad(formatBytes(c.bytesWithSharing), 10)}  fair ${lpad(formatBytes(c.fairBytes), 10)}  host ${lpad(formatBytes(c.hostBytes), 10)}` +
          (mc ? `  measured fair ${lpad(formatBytes(mc[k]?.fairBytes ?? 0), 10)}` : '') +
          `  (${c.instanceIds.length} instance${c.instanceIds.length === 1 ? '' : 's'})`,
      ),
    );
  }
  const top = topGroups(report, opts.top ?? 5);
  if (top.length > 0) {
    out.push('', 'Top shared files:');
    for (const g of top)
      out.push(
        `  ${lpad(formatBytes(g.saved), 10)} saved  ${tty(g.file)} (${memberCount(g.group)} members, ${tty(g.group.domain)})`,
      );
  }
  if (report.findings.length > 0) {
    out.push('', 'Findings:');
    for (const f of report.findings) out.push(`  [${f.severity}] ${f.code}: ${tty(f.message)}`);
  }
  return out.join('\n') + '\n';
}
