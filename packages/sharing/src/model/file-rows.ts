/**
 * Reading a file table that may be compact (version 2, `FileTable.rowsOf`,
 * docs/metrics.md#compact-file-table): a row of a lead instance stands for the lead and every
 * instance of its class. These helpers give the per-instance view's counts without building it.
 */
import type { FileTable, SharedGroup } from '../report.js';

/**
 * Per instance: how many instances its rows stand for (1 + the instances it leads; 0 for an
 * instance whose rows are another's). null when every instance has rows of its own.
 */
export function rowCopies(files: Pick<FileTable, 'rowsOf'>, instanceCount: number): Int32Array | null {
  const rowsOf = files.rowsOf;
  if (!rowsOf) return null;
  const copies = new Int32Array(instanceCount);
  for (let i = 0; i < instanceCount; i++) {
    const lead = rowsOf[i] ?? i;
    copies[lead] = copies[lead]! + 1;
  }
  return copies;
}

/**
 * Per lead instance: the other instances its rows stand for, ascending (empty for the others).
 * null when every instance has rows of its own.
 */
export function copiesOf(files: Pick<FileTable, 'rowsOf'>, instanceCount: number): number[][] | null {
  const rowsOf = files.rowsOf;
  if (!rowsOf) return null;
  const out: number[][] = Array.from({ length: instanceCount }, () => []);
  for (let i = 0; i < instanceCount; i++) {
    const lead = rowsOf[i] ?? i;
    if (lead !== i) out[lead]!.push(i);
  }
  return out;
}

/** Members of a shared inode, counting every instance of a compact table. */
export function memberCount(g: Pick<SharedGroup, 'members' | 'memberCount'>): number {
  return g.memberCount ?? g.members.length;
}

/** Rejected candidates of a shared inode, counting every instance of a compact table. */
export function rejectedCount(g: Pick<SharedGroup, 'rejected' | 'rejectedCount'>): number {
  return g.rejectedCount ?? g.rejected.length;
}

/**
 * Per instance with rows: the instances its rows stand for, ascending, itself first (compact
 * table); null when every instance has rows of its own.
 */
export function rowClasses(files: Pick<FileTable, 'rowsOf'>, instanceCount: number): Int32Array[] | null {
  const copies = copiesOf(files, instanceCount);
  if (!copies) return null;
  return copies.map((others, i) => (files.rowsOf![i] === i ? Int32Array.from([i, ...others]) : new Int32Array(0)));
}

/** Visits each member instance of a shared inode (rows of a compact table stand for several). */
export function forEachMemberInstance(
  g: Pick<SharedGroup, 'members'>,
  rowInstance: readonly number[],
  classes: readonly Int32Array[] | null,
  visit: (instance: number, row: number) => void,
): void {
  for (const row of g.members) {
    const i = rowInstance[row]!;
    if (classes === null) visit(i, row);
    else for (const c of classes[i]!) visit(c, row);
  }
}
