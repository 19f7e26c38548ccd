/**
 * CSV export: one row per (instance, file) of the report's file table, written with the one
 * CSV writer of sharemap (escape.ts: RFC 4180 quoting, CRLF, formula cells neutralised).
 */
import type { Report } from '../report.js';
import { CSV_LINE_END, csvCell, csvLine } from './escape.js';

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

/**
 * The per-file values the CSV reads, row by row: a Report's file table (`reportCsvRows`) or
 * the server's stored columnar parts (report-wire's files encoding), so that a report too big
 * to parse whole is rendered from its compact columns.
 */
export interface CsvRows {
  rows: number;
  instance: ArrayLike<number>;
  file: ArrayLike<number>;
  group: ArrayLike<number>;
  size: ArrayLike<number>;
  pagesWithout: ArrayLike<number>;
  pagesWith: ArrayLike<number>;
  status(row: number): string;
  /** Path `file` of image `imageId` (undefined when the report has none). */
  path(imageId: string, file: number): string | undefined;
  /** Fingerprint of shared inode `group` (>= 0). */
  fingerprint(group: number): string | undefined;
}

/** The CsvRows of a whole Report. */
export function reportCsvRows(report: Pick<Report, 'files' | 'groups' | 'paths'>): CsvRows {
  const f = report.files;
  return {
    rows: f.instance.length,
    instance: f.instance,
    file: f.file,
    group: f.group,
    size: f.size,
    pagesWithout: f.pagesWithout,
    pagesWith: f.pagesWith,
    status: (r) => f.status[r]!,
    path: (imageId, file) => report.paths[imageId]?.[file],
    fingerprint: (g) => report.groups[g]?.fingerprint,
  };
}

/**
 * The CSV line by line (header first), each with its line end: written as a stream. Each line
 * is the cells of `csvLine`, built without a per-row array: the cells that depend on the
 * instance only (id, label, image, domain) and each status are quoted once, and the numbers
 * need no quoting (escape.ts csvCell writes them as they are). 2,000,000 rows took 3.4 us each
 * through csvLine (docs/benchmarks.md#server-2m-2m-records-end-to-end).
 */
export function* csvLines(
  report: Pick<Report, 'images' | 'instances' | 'options'>,
  f: CsvRows,
): Generator<string> {
  const ps = report.options.pageSize;
  const imageName = new Map(report.images.map((x) => [x.id, x.name]));
  // Per instance: the quoted cells before the path, the domain cell after the status.
  const head = report.instances.map(
    (inst) =>
      `${csvCell(inst.id)},${csvCell(inst.label)},${csvCell(imageName.get(inst.imageId) ?? inst.imageId)},`,
  );
  const domain = report.instances.map((inst) =>
    csvCell(inst.inodeShare.effective ? (inst.domain?.label ?? `?${inst.id}`) : ''),
  );
  const statusCell = new Map<string, string>();
  yield csvLine(CSV_COLUMNS);
  for (let r = 0; r < f.rows; r++) {
    const k = f.instance[r]!;
    const inst = report.instances[k]!;
    const group = f.group[r]!;
    const status = f.status(r);
    let st = statusCell.get(status);
    if (st === undefined) statusCell.set(status, (st = csvCell(status)));
    const without = f.pagesWithout[r]!;
    const withShare = f.pagesWith[r]!;
    yield `${head[k]!}${csvCell(f.path(inst.imageId, f.file[r]!) ?? '')},${st},${domain[k]!},${f.size[r]!},${without},${withShare},${without * ps},${withShare * ps},${group},${csvCell((group >= 0 ? f.fingerprint(group) : undefined) ?? '')}${CSV_LINE_END}`;
  }
}

export function reportToCsv(report: Report): string {
  return [...csvLines(report, reportCsvRows(report))].join('');
}
