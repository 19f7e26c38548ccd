/**
 * CSV export: one row per (instance, file) of the report's file table, written with the one
 * CSV writer of sharemap (escape.ts: RFC 4180 quoting, CRLF, formula cells neutralised).
 */
import type { Report } from '../report.js';
import { csvLine } from './escape.js';

export const CSV_COLUMNS = [
  'instance',
  'instance_label',
  'image',
  'path',
  'status',
  'domain',
  'size',
  'pages_without',
  'pages_with',
  'bytes_without',
  'bytes_with',
  'group',
  'fingerprint',
] as const;

export function reportToCsv(report: Report): string {
  const f = report.files;
  const ps = report.options.pageSize;
  const imageName = new Map(report.images.map((x) => [x.id, x.name]));
  const lines: string[] = [csvLine(CSV_COLUMNS)];
  for (let r = 0; r < f.instance.length; r++) {
    const inst = report.instances[f.instance[r]!]!;
    const g = f.group[r]! >= 0 ? report.groups[f.group[r]!] : undefined;
    lines.push(
      csvLine([
        inst.id,
        inst.label,
        imageName.get(inst.imageId) ?? inst.imageId,
        report.paths[inst.imageId]?.[f.file[r]!] ?? '',
        f.status[r]!,
        inst.inodeShare.effective ? (inst.domain?.label ?? `?${inst.id}`) : '',
        f.size[r]!,
        f.pagesWithout[r]!,
        f.pagesWith[r]!,
        f.pagesWithout[r]! * ps,
        f.pagesWith[r]! * ps,
        f.group[r]!,
        g?.fingerprint ?? '',
      ]),
    );
  }
  return lines.join('');
}
