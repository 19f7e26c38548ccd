/**
 * The measured working set (docs/metrics.md, docs/working-set.md): the page accounting of
 * `totals` again, with each file's resident pages (from fincore, vmtouch, pcstat, an access
 * list or a host snapshot) in place of its static page count. A step after the sharing core:
 * it reads the core's rows and shared-inode groups and changes neither.
 *
 * - A row holds pages only where the static accounting gives it some (a mounted instance's
 *   regular file, the first path of a hard-linked inode: R1, R8, R10); its measured pages are
 *   its resident pages clamped to the file's pages (R7: ceil(size / pageSize)); no data = 0.
 * - Hard links (R10): one inode, one page cache, whatever path a tool named. A residency input
 *   lists one path per inode (fincore and vmtouch walk paths, `collect` keeps each inode once),
 *   so the data of any path of a hard-linked inode is the inode's: the largest count over its
 *   paths goes to its first path, the row that holds its pages.
 * - Without sharing each instance keeps the pages it reported.
 * - Coverage bounds: `totals` counts files without data as not resident (the lower bound);
 *   `upper` counts them fully resident (their static pages), the same accounting otherwise.
 * - With sharing a shared inode (a group's members) holds one page cache (docs/format.md#sharing-key): its
 *   resident pages are counted once, charged to the first member like `pagesWith`. On a host
 *   that shares, every member reports that same page cache, so summing members would count it
 *   once per member (the double-count trap). Counted: the largest count any member reports;
 *   from a host that did not share, the union of the members' pages lies between that and the
 *   sum (page-level data would be needed to know it).
 */
import type { FileTable, MeasuredWorkingSet, ReportInstance, ResidencyInput } from '../report.js';
import { pagesOf, PageSums, totalsOf } from './accounting.js';
import type { Prepared } from './core.js';
import type { SharedGroupColumns } from './group-columns.js';

/** Rows whose status holds no page cache in any accounting (not mounted, not regular, repeated hard link). */
function holdsPages(status: FileTable['status'][number]): boolean {
  return status !== 'not-mounted' && status !== 'private-not-regular' && status !== 'hardlink';
}

export function measureWorkingSet(
  residency: ResidencyInput,
  prepared: Prepared,
  instances: readonly ReportInstance[],
  imageOf: Int32Array,
  files: FileTable,
  groups: SharedGroupColumns,
  pageSize: number,
): MeasuredWorkingSet {
  const rows = files.instance.length;
  const without = new Array<number>(rows).fill(0);
  const withSharing = new Array<number>(rows).fill(0);
  // The upper bound's pages: a row without data counts all its pages.
  const upperWithout = new Array<number>(rows).fill(0);
  let files_ = 0;
  let bytes = 0;
  let filesWithData = 0;
  let bytesWithData = 0;
  // Entries matched per instance, to count the ones that named nothing.
  const matched = new Map<string, Set<string>>();
  // The other paths of each hard-linked inode, by its first path's row (R10).
  const linksOf = new Map<number, number[]>();
  files.hardlinks.primary.forEach((primary, k) => {
    const links = linksOf.get(primary);
    if (links) links.push(files.hardlinks.row[k]!);
    else linksOf.set(primary, [files.hardlinks.row[k]!]);
  });
  for (let row = 0; row < rows; row++) {
    if (!holdsPages(files.status[row]!)) continue;
    const size = files.size[row]!;
    if (size <= 0) continue;
    const inst = instances[files.instance[row]!]!;
    const img = prepared.images[imageOf[files.instance[row]!]!]!;
    files_++;
    bytes += size;
    const filePages = pagesOf(size, pageSize);
    upperWithout[row] = filePages;
    const data = residency.instances[inst.id];
    if (!data) continue;
    let resident: number | 'all' | undefined;
    for (const r of [row, ...(linksOf.get(row) ?? [])]) {
      const path = img.pathAt(files.file[r]!);
      if (!Object.prototype.hasOwnProperty.call(data, path)) continue;
      const pages = data[path]!;
      resident =
        resident === undefined
          ? pages
          : resident === 'all' || pages === 'all'
            ? 'all'
            : Math.max(resident, pages);
      let m = matched.get(inst.id);
      if (!m) matched.set(inst.id, (m = new Set()));
      m.add(path);
    }
    if (resident === undefined) continue;
    filesWithData++;
    bytesWithData += size;
    const pages = resident === 'all' ? filePages : Math.min(resident, filePages);
    without[row] = pages;
    withSharing[row] = pages;
    upperWithout[row] = pages;
  }
  const upperWith = upperWithout.slice();
  // A shared inode's pages once: the largest member count, on its first member (members are in row order).
  const onceEach = (w: number[], out: number[]) => {
    const { memberStart, memberRows } = groups;
    for (let g = 0; g < groups.count; g++) {
      const from = memberStart[g]!;
      const to = memberStart[g + 1]!;
      if (to - from < 2) continue;
      let most = 0;
      for (let k = from; k < to; k++) most = Math.max(most, w[memberRows[k]!]!);
      out[memberRows[from]!] = most;
      for (let k = from + 1; k < to; k++) out[memberRows[k]!] = 0;
    }
  };
  onceEach(without, withSharing);
  onceEach(upperWithout, upperWith);
  let upperSumWithout = 0;
  let upperSumWith = 0;
  for (let row = 0; row < rows; row++) {
    upperSumWithout += upperWithout[row]!;
    upperSumWith += upperWith[row]!;
  }
  const perInstance = new PageSums();
  let sumWithout = 0;
  let sumWith = 0;
  for (const inst of instances) perInstance.touch(inst.id);
  for (let row = 0; row < rows; row++) {
    if (without[row] === 0 && withSharing[row] === 0) continue;
    perInstance.add(instances[files.instance[row]!]!.id, without[row]!, withSharing[row]!);
    sumWithout += without[row]!;
    sumWith += withSharing[row]!;
  }
  let unmatchedEntries = 0;
  for (const [id, data] of Object.entries(residency.instances))
    unmatchedEntries += Object.keys(data).length - (matched.get(id)?.size ?? 0);
  return {
    totals: totalsOf(sumWithout, sumWith, pageSize),
    upper: totalsOf(upperSumWithout, upperSumWith, pageSize),
    perInstance: perInstance.toRecord(pageSize),
    coverage: { files: files_, bytes, filesWithData, bytesWithData, unmatchedEntries },
    pagesWithout: without,
    pagesWith: withSharing,
    sources: [...(residency.sources ?? [])],
  };
}
