/**
 * Sortable, paginated tables of the Overview: a click on a column head sorts by it (again:
 * the other way), and a table longer than TABLE_PAGE_ROWS shows one page at a time with
 * "Show all", so a report of 120 instances opens on its summary, not on a screen of rows.
 */
import { useMemo, useState, type ReactNode } from 'react';
import { formatInteger } from '@sharemap/sharing';

/** Rows a table shows at a time before it is paginated. */
export const TABLE_PAGE_ROWS = 20;

export type SortKeys<T> = Record<string, (row: T) => number | string>;

export interface TableView<T> {
  /** The rows of the current page, in the current order. */
  visible: T[];
  total: number;
  sort: { key: string; desc: boolean } | null;
  setSort(key: string): void;
  page: number;
  pages: number;
  setPage(p: number): void;
  all: boolean;
  setAll(all: boolean): void;
}

export function useTableView<T>(rows: T[], keys: SortKeys<T>): TableView<T> {
  const [sort, setSortState] = useState<{ key: string; desc: boolean } | null>(null);
  const [page, setPage] = useState(0);
  const [all, setAll] = useState(false);
  const sorted = useMemo(() => {
    const fn = sort ? keys[sort.key] : undefined;
    if (!sort || !fn) return rows;
    const dir = sort.desc ? -1 : 1;
    // Stable: equal keys keep the table's own order.
    return rows
      .map((row, i) => ({ row, i, k: fn(row) }))
      .sort((a, b) => (a.k < b.k ? -dir : a.k > b.k ? dir : a.i - b.i))
      .map((x) => x.row);
  }, [rows, sort, keys]);
  const pages = Math.max(1, Math.ceil(rows.length / TABLE_PAGE_ROWS));
  const p = Math.min(page, pages - 1);
  const visible = all || pages === 1 ? sorted : sorted.slice(p * TABLE_PAGE_ROWS, (p + 1) * TABLE_PAGE_ROWS);
  return {
    visible,
    total: rows.length,
    sort,
    // Numbers sort largest first on the first click, text A to Z.
    setSort: (key) => {
      const first = rows[0];
      const numeric = first !== undefined && typeof keys[key]?.(first) === 'number';
      setSortState((s) => (s?.key === key ? { key, desc: !s.desc } : { key, desc: numeric }));
      setPage(0);
    },
    page: p,
    pages,
    setPage,
    all,
    setAll,
  };
}

/**
 * A sortable column head. `label` names the column (the button's words); `term`, when given, is
 * shown instead (a glossary term: interactive itself, so the sort button stands beside it).
 */
export function SortHead<T>({
  t,
  k,
  label,
  term,
  num,
}: {
  t: TableView<T>;
  k: string;
  label: string;
  term?: ReactNode;
  num?: boolean;
}) {
  const active = t.sort?.key === k;
  const arrow = active ? (t.sort!.desc ? '▼' : '▲') : '';
  return (
    <th
      scope="col"
      className={num ? 'num' : undefined}
      aria-sort={active ? (t.sort!.desc ? 'descending' : 'ascending') : 'none'}
    >
      {term ? (
        <>
          {term}{' '}
          <button
            type="button"
            className="sort-btn"
            aria-label={`Sort by ${label}`}
            data-sort={k}
            onClick={() => t.setSort(k)}
          >
            {arrow || '↕'}
          </button>
        </>
      ) : (
        <button type="button" className="sort-btn" data-sort={k} onClick={() => t.setSort(k)}>
          {label} {arrow}
        </button>
      )}
    </th>
  );
}

/** Page buttons under a table longer than one page; nothing for a short table. */
export function Pager<T>({ t, what }: { t: TableView<T>; what: string }) {
  if (t.pages <= 1) return null;
  const from = t.all ? 1 : t.page * TABLE_PAGE_ROWS + 1;
  const to = t.all ? t.total : Math.min(t.total, (t.page + 1) * TABLE_PAGE_ROWS);
  return (
    <div className="pager small" role="group" aria-label={`Pages of ${what}`} data-testid="pager">
      <span data-testid="pager-range">
        {what} {formatInteger(from)}–{formatInteger(to)} of {formatInteger(t.total)}
      </span>{' '}
      {!t.all && (
        <>
          <button
            type="button"
            className="btn small"
            disabled={t.page === 0}
            onClick={() => t.setPage(t.page - 1)}
          >
            Previous
          </button>{' '}
          <button
            type="button"
            className="btn small"
            disabled={t.page >= t.pages - 1}
            onClick={() => t.setPage(t.page + 1)}
          >
            Next
          </button>{' '}
        </>
      )}
      <button type="button" className="btn small" onClick={() => t.setAll(!t.all)}>
        {t.all ? `Show ${TABLE_PAGE_ROWS} at a time` : `Show all ${formatInteger(t.total)}`}
      </button>
    </div>
  );
}
