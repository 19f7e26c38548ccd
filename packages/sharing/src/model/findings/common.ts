/**
 * What every finding detector (findings/*.ts, registered in ../findings.ts) works from: the
 * analysis context, the report so far, and helpers for the shape all findings share (capped
 * row lists, example lists in messages).
 */
import type { Finding, FindingCode, Report } from '../../report.js';
import type { AnalysisContext } from '../analysis-context.js';
import type { PreparedImage } from '../core.js';
import { isMounted } from '../input.js';
import { rowClasses } from '../file-rows.js';
import { formatBytes } from '../../render/bytes.js';

export const MAX_FINDING_ROWS = 1000;
/** How many example paths a message quotes. */
export const EXAMPLES = 3;

/** Bytes in a finding's message: with units, and exact ("3.6 MiB (3,784,704 bytes)"). */
export const bytesText = (n: number): string => formatBytes(n, { exact: true });

/** One detector: the findings of one code, in a stable order (instances, images, rows). */
export interface FindingDetector {
  code: FindingCode;
  /** The rule of docs/sharing-rules.md (or section of docs) the finding reports on. */
  rule: string;
  detect: (input: FindingInput) => Finding[];
}

export interface FindingInput extends AnalysisContext {
  report: Report;
  files: Report['files'];
  /** Path of row r of the file table. */
  pathOf: (r: number) => string;
  /** How many instances row r stands for: 1, or its class's size in a compact table (`files.rowsOf`). */
  copiesOfRow: (r: number) => number;
  /** The instances row r stands for (itself, or its class in a compact table). */
  instancesOfRow: (r: number) => Iterable<number>;
  /** Indices of the instances that share, per domain label. */
  instancesOfDomain: Map<string, number[]>;
}

export function findingInput(ctx: AnalysisContext, report: Report): FindingInput {
  const { core, prepared, domainLabelOf } = ctx;
  const files = core.files;
  const copies = core.copies;
  const classes = rowClasses(files, ctx.instances.length);
  const instancesOfDomain = new Map<string, number[]>();
  domainLabelOf.forEach((d, i) => {
    if (d === null) return;
    const list = instancesOfDomain.get(d);
    if (list) list.push(i);
    else instancesOfDomain.set(d, [i]);
  });
  return {
    ...ctx,
    report,
    files,
    pathOf: (r) => prepared.images[core.imageOf[files.instance[r]!]!]!.pathAt(files.file[r]!),
    copiesOfRow: copies === null ? () => 1 : (r) => copies[files.instance[r]!]!,
    instancesOfRow: classes === null ? (r) => [files.instance[r]!] : (r) => classes[files.instance[r]!]!,
    instancesOfDomain,
  };
}

/** `rowCount`: the rows counting each instance a row stands for (compact table), default rows.length. */
export function capped(rows: number[], rowCount = rows.length): { rows: number[]; rowCount: number } {
  return {
    rows: rows.length > MAX_FINDING_ROWS ? rows.slice(0, MAX_FINDING_ROWS) : rows,
    rowCount,
  };
}

/** Rows counting each instance a row stands for (compact table). */
export function countRows(x: Pick<FindingInput, 'copiesOfRow'>, rows: readonly number[]): number {
  let n = 0;
  for (const r of rows) n += x.copiesOfRow(r);
  return n;
}

/** "a, b, c and 2 more". */
export function list(items: readonly string[], max = EXAMPLES): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

export function unique<T>(xs: Iterable<T>): T[] {
  return [...new Set(xs)];
}

/** Who reads an image's files: its mounted instances, those that share, their domains and the
 * other images in those domains (the fingerprint findings, R12). */
export interface ImageExposure {
  instIdx: number[];
  sharingIdx: number[];
  doms: string[];
  others: string[];
  /** The rows of the mounted instances for the given files of the image. */
  rowsFor: (fileIdx: number[]) => number[];
}

export function imageExposure(x: FindingInput, img: PreparedImage): ImageExposure {
  const { instances, core, domainLabelOf, files } = x;
  const start = core.rowStart;
  const instIdx = instances
    .map((_, i) => i)
    .filter((i) => core.imageOf[i] === img.index && isMounted(instances[i]!));
  const sharingIdx = instIdx.filter((i) => domainLabelOf[i] !== null);
  const doms = unique(sharingIdx.map((i) => domainLabelOf[i]!));
  const others = unique(
    doms
      .flatMap((d) => (x.instancesOfDomain.get(d) ?? []).map((i) => instances[i]!.imageId))
      .filter((id) => id !== img.entry.id),
  );
  const rowsFor = (fileIdx: number[]): number[] => {
    const set = new Set(fileIdx);
    const rows: number[] = [];
    for (const i of instIdx)
      for (let r = start[i]!; r < start[i + 1]!; r++) if (set.has(files.file[r]!)) rows.push(r);
    return rows;
  };
  return { instIdx, sharingIdx, doms, others, rowsFor };
}
