/** Markdown for pull-request comments: headline, per-domain and per-instance tables, top files, findings. */
import { memberCount } from '../model/file-rows.js';
import type { Report } from '../report.js';
import type { ReportDelta } from '../model/compare.js';
import { formatBytes, formatPercent } from './bytes.js';
import {
  bothMeasures,
  headline,
  hostTotalLine,
  instanceState,
  predictedNote,
  topGroups,
  withSharingRange,
  type TopGroup,
} from './common.js';
import { markdownText } from './escape.js';

export interface MarkdownOptions {
  /** Link to the full report. */
  url?: string;
  /** Comparison with a baseline (compareReports(baseline, report)). */
  delta?: ReportDelta;
  /** Rows of "top shared files"; default 10. */
  top?: number;
}

const esc = markdownText;

function signed(bytes: number): string {
  return (bytes > 0 ? '+' : '') + formatBytes(bytes);
}

/**
 * What the Markdown reads of a report: a whole Report, or everything but its per-file parts
 * with the shared inodes that save the most already picked (`topGroups`, as report-wire's
 * summary holds them: at least `top` of them), so that a report too big to parse whole is
 * rendered from its small summary.
 */
export type MarkdownReport =
  | Report
  | (Omit<Report, 'files' | 'groups' | 'paths' | 'measured'> & {
      measured?: Omit<NonNullable<Report['measured']>, 'pagesWithout' | 'pagesWith'>;
      topGroups: TopGroup[];
    });

export function renderMarkdown(report: MarkdownReport, opts: MarkdownOptions = {}): string {
  const out: string[] = ['### sharemap: page cache sharing', '', `**${headline(report)}**`];
  const both = bothMeasures(report);
  if (both) out.push('', both);
  const host = hostTotalLine(report);
  if (host) out.push('', host);
  if (opts.url) out.push('', `[Full report](${opts.url})`);
  const note = predictedNote(report);
  if (note) out.push('', `_${esc(note)}_`);
  if (report.bounds)
    out.push(
      '',
      `Some domains are unknown: ${withSharingRange(report.bounds.best.bytesWithSharing, report.bounds.worst.bytesWithSharing)}.`,
    );
  if (report.orderBounds)
    out.push(
      '',
      `Depends on read order (R5/R6): ${withSharingRange(report.orderBounds.best.bytesWithSharing, report.orderBounds.worst.bytesWithSharing)}.`,
    );
  const d = opts.delta;
  if (d) {
    out.push(
      '',
      `Compared with the baseline: saved ${signed(d.totals.delta.bytesSaved)} (${formatBytes(d.totals.base.bytesSaved)} -> ${formatBytes(d.totals.next.bytesSaved)}); ` +
        `${d.stoppedSharing.length} file(s) stopped sharing, ${d.startedSharing.length} started.`,
    );
    if (d.stoppedSharing.length > 0) {
      out.push('', '| stopped sharing | saved before |', '|---|---:|');
      for (const f of d.stoppedSharing.slice(0, opts.top ?? 10))
        out.push(`| ${esc(f.image)}:${esc(f.path)} | ${formatBytes(f.savedBefore)} |`);
    }
  }
  // Instance states and finding codes are the engine's own words; everything else is escaped.
  out.push('', '| domain | instances | without | with | saved |', '|---|---:|---:|---:|---:|');
  for (const [label, t] of Object.entries(report.perDomain)) {
    const n =
      report.domains.find((x) => x.label === label)?.instanceIds.length ??
      report.instances.filter((i) => !i.inodeShare.effective).length;
    out.push(
      `| ${esc(label)} | ${n} | ${formatBytes(t.bytesWithoutSharing)} | ${formatBytes(t.bytesWithSharing)} | ${formatBytes(t.bytesSaved)} (${formatPercent(t.percentSaved)}) |`,
    );
  }
  const cost = report.cost;
  // With residency data: the fair share of the measured working set too (model/cost.ts).
  const mc = cost?.measured;
  out.push(
    '',
    cost
      ? `| instance | image | domain | state | without | fair share | host cost | ${mc ? 'measured fair share | ' : ''}with (first member pays) |`
      : '| instance | image | domain | state | without | with |',
    cost ? `|---|---|---|---|---:|---:|---:|${mc ? '---:|' : ''}---:|` : '|---|---|---|---|---:|---:|',
  );
  const imageName = new Map(report.images.map((x) => [x.id, x.name]));
  for (const inst of report.instances) {
    const t = report.perInstance[inst.id]!;
    const c = cost?.perInstance[inst.id];
    out.push(
      `| ${esc(inst.label)} | ${esc(imageName.get(inst.imageId) ?? inst.imageId)} | ${esc(inst.domain?.label ?? '-')} | ${instanceState(report, inst.id)} | ${formatBytes(t.bytesWithoutSharing)} | ` +
        (c ? `${formatBytes(c.fairBytes)} | ${formatBytes(c.hostBytes)} | ` : '') +
        (mc ? `${formatBytes(mc.perInstance[inst.id]?.fairBytes ?? 0)} | ` : '') +
        `${formatBytes(t.bytesWithSharing)} |`,
    );
  }
  if (cost && cost.containers.length > 0) {
    out.push(
      '',
      `| container | instances | without | with (alone) | fair share | host cost |${mc ? ' measured fair share |' : ''}`,
      `|---|---:|---:|---:|---:|---:|${mc ? '---:|' : ''}`,
    );
    cost.containers.forEach((c, k) =>
      out.push(
        `| ${esc(c.name)} | ${c.instanceIds.length} | ${formatBytes(c.bytesWithoutSharing)} | ${formatBytes(c.bytesWithSharing)} | ${formatBytes(c.fairBytes)} | ${formatBytes(c.hostBytes)} |` +
          (mc ? ` ${formatBytes(mc.containers[k]?.fairBytes ?? 0)} |` : ''),
      ),
    );
  }
  const n = opts.top ?? 10;
  const top = 'topGroups' in report ? report.topGroups.slice(0, n) : topGroups(report, n);
  if (top.length > 0) {
    out.push('', '| top shared files | members | domain | saved |', '|---|---:|---|---:|');
    for (const g of top)
      out.push(
        `| ${esc(g.file)} | ${memberCount(g.group)} | ${esc(g.group.domain)} | ${formatBytes(g.saved)} |`,
      );
  }
  if (report.findings.length > 0) {
    out.push('', '#### Findings', '');
    const icon = { error: '**error**', warning: 'warning', info: 'info' } as const;
    for (const f of report.findings) out.push(`- ${icon[f.severity]} \`${f.code}\`: ${esc(f.message)}`);
  }
  return out.join('\n') + '\n';
}
