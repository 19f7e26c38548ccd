/**
 * Files: a hand-rolled virtualized table over the columnar file table (millions of rows),
 * sort/filter/search, a directory treemap, and the detail of one row with its explanation.
 */
import { useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import {
  explainFile,
  formatBytes,
  formatFingerprint,
  formatInteger,
  memberCount,
  partyLabels,
  rejectedCount,
  trustCellRows,
} from '@sharemap/sharing';
import type { Report } from '@sharemap/sharing';
import { Bytes, Empty, toCsv, download, ViewLink } from '../components/common';
import {
  imageName,
  overlapSetOf,
  queryRows,
  relatedRows,
  rowPath,
  rowView,
  STATUS_FILTERS,
  STATUS_LABEL,
} from '../lib/derive';
import { pairFiles, parsePair } from '../lib/pairs';
import { useContentIds } from '../state/content';
import { RuleText, Term } from '../components/Term';
import { useStore } from '../state/store';
import type { StatusFilter } from '../state/url';
import { Treemap } from '../charts/Treemap';
import { MeasureToggle } from '../components/MeasureToggle';
import { reportIn } from '../lib/measure';
import { timing } from '../lib/timing';
import './trust.css';

const RH = 28;
/** Browsers cap element heights (~33M px in Chromium): beyond this the scrollbar maps proportionally. */
const MAX_SCROLL_PX = 8_000_000;

const COLUMNS: { key: string; label: string; num?: boolean }[] = [
  { key: 'path', label: 'Path' },
  { key: 'instance', label: 'Instance' },
  { key: 'status', label: 'Status' },
  { key: 'size', label: 'Size', num: true },
  { key: 'cached', label: 'With sharing', num: true },
  { key: 'saved', label: 'Saved', num: true },
];

function VirtualTable({
  r,
  rows,
  sel,
  onSelect,
}: {
  r: Report;
  rows: Uint32Array;
  sel: number;
  onSelect(row: number): void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(560);
  const f = rowView(r);
  const ps = r.options.pageSize;
  const n = rows.length;
  const full = n * RH;
  const virt = Math.min(full, MAX_SCROLL_PX);
  // The sticky header row sits in the scroll container above the rows: the rows' own viewport
  // is one row shorter.
  const bodyHeight = Math.max(RH, height - RH);
  const ratio = virt > bodyHeight ? (full - bodyHeight) / (virt - bodyHeight) : 1;
  const offset = scrollTop * ratio;
  const start = Math.max(0, Math.floor(offset / RH));
  const count = Math.ceil(height / RH) + 2;
  const end = Math.min(n, start + count);
  const shift = scrollTop + start * RH - offset;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  useEffect(() => {
    if (box.current) box.current.scrollTop = 0;
    setScrollTop(0);
  }, [rows]);

  const selIndex = useMemo(() => (sel >= 0 ? rows.indexOf(sel) : -1), [rows, sel]);
  const scrollToIndex = (i: number) => {
    const el = box.current;
    if (!el) return;
    const top = (i * RH) / ratio;
    if (i < start + 1 || i >= start + count - 3) el.scrollTop = Math.max(0, top - bodyHeight / 2);
  };
  const onKey = (e: React.KeyboardEvent) => {
    let i = selIndex;
    if (e.key === 'ArrowDown') i = Math.min(n - 1, i + 1);
    else if (e.key === 'ArrowUp') i = Math.max(0, i - 1);
    else if (e.key === 'PageDown') i = Math.min(n - 1, i + Math.floor(height / RH));
    else if (e.key === 'PageUp') i = Math.max(0, i - Math.floor(height / RH));
    else if (e.key === 'Home') i = 0;
    else if (e.key === 'End') i = n - 1;
    else return;
    e.preventDefault();
    if (i >= 0 && i < n) {
      onSelect(rows[i]!);
      scrollToIndex(i);
    }
  };
  const inst = r.instances;
  return (
    <div className="vtable">
      {/* ARIA grid pattern: the one focusable, scrolling element is the grid; its keyboard
          cursor (the selected row) is announced through aria-activedescendant, and the header
          row is inside it (sticky), so every row has the grid as its parent. */}
      <div
        className="vbody"
        role="grid"
        aria-rowcount={n + 1}
        aria-label="Files"
        aria-multiselectable="false"
        ref={box}
        tabIndex={0}
        data-testid="files-body"
        onScroll={(e) => setScrollTop((e.target as HTMLDivElement).scrollTop)}
        onKeyDown={onKey}
        aria-activedescendant={selIndex >= start && selIndex < end ? `row-${sel}` : undefined}
      >
        <div className="vrow vhead" role="row" aria-rowindex={1}>
          {COLUMNS.map((c) => (
            <SortHeader key={c.key} col={c} />
          ))}
        </div>
        <div style={{ height: virt, position: 'relative' }}>
          <div style={{ position: 'absolute', top: shift, left: 0, right: 0 }}>
            {Array.from({ length: end - start }, (_, k) => {
              const i = start + k;
              const row = rows[i]!;
              const st = f.status(row);
              const saved = (f.pagesWithout(row) - f.pagesWith(row)) * ps;
              return (
                <div
                  key={row}
                  id={`row-${row}`}
                  role="row"
                  aria-rowindex={i + 2}
                  aria-selected={row === sel}
                  className={`vrow${row === sel ? ' selected' : ''}`}
                  onClick={() => onSelect(row)}
                  data-row={row}
                >
                  <span role="gridcell" className="c-path" title={rowPath(r, row)}>
                    {rowPath(r, row)}
                  </span>
                  <span role="gridcell" className="c-instance">
                    {inst[f.instance(row)]!.label}
                  </span>
                  <span role="gridcell" className={`c-status st-${st}`}>
                    {STATUS_LABEL[st]}
                  </span>
                  <span role="gridcell" className="num" title={`${formatInteger(f.size(row))} bytes`}>
                    {formatBytes(f.size(row))}
                  </span>
                  <span role="gridcell" className="num">
                    {formatBytes(f.pagesWith(row) * ps)}
                  </span>
                  <span role="gridcell" className="num">
                    {saved ? formatBytes(saved) : ''}
                  </span>
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </div>
  );
}

function SortHeader({ col }: { col: { key: string; label: string; num?: boolean } }) {
  const sort = useStore((s) => s.v.sort);
  const setView = useStore((s) => s.setView);
  const active = sort.replace(/^-/, '') === col.key;
  const desc = sort.startsWith('-');
  return (
    <span
      role="columnheader"
      className={col.num ? 'num' : ''}
      aria-sort={active ? (desc ? 'descending' : 'ascending') : 'none'}
    >
      <button
        type="button"
        className="sort-btn"
        onClick={() => setView({ sort: active && desc ? col.key : `-${col.key}` })}
      >
        {col.label} {active ? (desc ? '▼' : '▲') : ''}
      </button>
    </span>
  );
}

function Detail({ r, row }: { r: Report; row: number }) {
  const setView = useStore((s) => s.setView);
  const names = imageName(r);
  const f = rowView(r);
  if (row < 0 || row >= f.count)
    return <Empty>Select a row to see which instances hold the file and why it is (not) shared.</Empty>;
  // Residency per instance (docs/working-set.md): each holder row's resident pages.
  const m = r.measured?.pagesWithout ? r.measured : undefined;
  const inst = r.instances[f.instance(row)]!;
  const g = f.group(row) >= 0 ? r.groups[f.group(row)] : undefined;
  const path = rowPath(r, row);
  let explanation: string;
  try {
    explanation = explainFile(r, f.source(row), f.instance(row));
  } catch (e) {
    explanation = (e as Error).message;
  }
  // Every instance holding this content: the shared group's rows, else the same path on every instance.
  let holders = relatedRows(r, row);
  if (holders.length === 1) {
    holders = [];
    for (let k = 0; k < f.count; k++)
      if (f.file(k) === f.file(row) && r.instances[f.instance(k)]!.imageId === inst.imageId) holders.push(k);
    for (let k = 0; k < f.count && holders.length < 500; k++)
      if (
        r.instances[f.instance(k)]!.imageId !== inst.imageId &&
        f.size(k) === f.size(row) &&
        rowPath(r, k) === path
      )
        holders.push(k);
  }
  return (
    <aside className="detail" aria-label="File detail" data-testid="file-detail">
      <h3 className="detail-path">{path}</h3>
      <dl>
        <dt>Image</dt>
        <dd>{names.get(inst.imageId) ?? inst.imageId}</dd>
        <dt>Instance</dt>
        <dd>
          {inst.label} ({inst.id})
        </dd>
        <dt>Status</dt>
        <dd>
          <span className={`c-status st-${f.status(row)}`}>{STATUS_LABEL[f.status(row)]}</span>
        </dd>
        <dt>Size</dt>
        <dd>
          <Bytes n={f.size(row)} /> ({formatInteger(f.size(row))} bytes)
        </dd>
        <dt>Page cache</dt>
        <dd>
          <Bytes n={f.pagesWithout(row) * r.options.pageSize} /> without sharing,{' '}
          <Bytes n={f.pagesWith(row) * r.options.pageSize} /> with
        </dd>
        {m && (
          <>
            <dt>Measured</dt>
            <dd data-testid="detail-measured">
              <Bytes n={m.pagesWithout[row]! * r.options.pageSize} /> resident without sharing,{' '}
              <Bytes n={m.pagesWith[row]! * r.options.pageSize} /> with
            </dd>
          </>
        )}
        {g && (
          <>
            <dt>
              <Term k="fingerprint">Fingerprint</Term>
            </dt>
            <dd>
              <code className="fp">{formatFingerprint(g.fingerprint)}</code>
            </dd>
            <dt>
              <Term k="sharedInode">Shared inode</Term>
            </dt>
            <dd>
              <Term k="domain" /> {g.domain}, <Term k="aops">{g.aops}</Term>, {memberCount(g)} member
              {memberCount(g) === 1 ? '' : 's'}
              {rejectedCount(g) ? `, ${rejectedCount(g)} rejected` : ''}
              {g.orderDependent ? ', order-dependent' : ''}
            </dd>
          </>
        )}
      </dl>
      <p className="explanation" data-testid="explanation">
        <strong>Why: </strong>
        <RuleText text={explanation} />
      </p>
      <h4>
        Held by {holders.length} instance row{holders.length === 1 ? '' : 's'}
      </h4>
      <ul className="holders">
        {holders.slice(0, 200).map((k) => {
          const i = r.instances[f.instance(k)]!;
          return (
            <li key={k}>
              <button
                type="button"
                className={`linkish${k === row ? ' current' : ''}`}
                onClick={() => setView({ sel: k })}
              >
                {i.label}
              </button>{' '}
              <span className="muted">
                {names.get(i.imageId)}:{rowPath(r, k)}
              </span>{' '}
              <span className={`c-status st-${f.status(k)}`}>{STATUS_LABEL[f.status(k)]}</span>
              {m && (
                <span className="muted" data-testid="holder-resident">
                  {' '}
                  · resident {formatBytes(m.pagesWithout[k]! * r.options.pageSize)}
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </aside>
  );
}

function instIndexOf(r: Report, id: string): number {
  return r.instances.findIndex((i) => i.id === id);
}

export default function Files({ report }: { report: Report }) {
  const v = useStore((s) => s.v);
  // Bytes, sort and treemap in the chosen measure; the detail explains the report itself.
  const r = reportIn(report, v.measure);
  const setView = useStore((s) => s.setView);
  const [q, setQ] = useState(v.q);
  const dq = useDeferredValue(q);
  useEffect(() => setQ(v.q), [v.q]);
  useEffect(() => {
    if (dq !== v.q) {
      const t = setTimeout(() => setView({ q: dq, sel: -1 }), 200);
      return () => clearTimeout(t);
    }
  }, [dq]);
  // A trust matrix cell (`tc`, from the Trust view): only its reading rows, recomputed uncapped.
  const cell = useMemo(() => {
    const k = v.tc.indexOf('>');
    if (k <= 0) return null;
    const supplier = v.tc.slice(0, k);
    const reader = v.tc.slice(k + 1);
    // A compact table's reading rows stand for every instance of their class.
    const view = rowView(r);
    return {
      supplier,
      reader,
      rows: new Set(trustCellRows(r, supplier, reader).flatMap((row) => view.copies(row))),
    };
  }, [r, v.tc]);
  // A graph edge or matrix cell (`pair`): the files two instances share or hold as the same content.
  const pairIds = useMemo(() => (v.pair ? parsePair(v.pair) : null), [v.pair]);
  const contents = useContentIds(pairIds !== null);
  const pair = useMemo(
    () => (pairIds ? pairFiles(r, pairIds[0], pairIds[1], contents.ids) : null),
    [r, pairIds, contents.ids],
  );
  // An Overlap column (`ov`): the contents held by exactly these images.
  const combo = useMemo(() => {
    if (!v.ov) return null;
    const set = overlapSetOf(r, v.ov);
    const rows = new Set<number>();
    const view = rowView(r);
    for (const gi of set?.groups ?? []) {
      const g = r.groups[gi]!;
      for (const row of view.members(g)) rows.add(row);
      for (const row of view.rejected(g)) rows.add(row);
    }
    return { set, rows };
  }, [r, v.ov]);
  const rows = useMemo(() => {
    const t = performance.now();
    let out = queryRows(r, { q: v.q, status: v.status, inst: v.inst, img: v.img, sort: v.sort });
    if (cell) out = out.filter((row) => cell.rows.has(row));
    if (v.pair) out = pair ? out.filter((row) => pair.rows.has(row)) : out.slice(0, 0);
    if (combo) out = out.filter((row) => combo.rows.has(row));
    timing('files:query', t);
    return out;
  }, [r, v.q, v.status, v.inst, v.img, v.sort, cell, v.pair, pair, combo]);
  const parties = useMemo(() => (r.trust ? partyLabels(r.trust) : new Map<string, string>()), [r]);
  const names = imageName(r);
  const ps = r.options.pageSize;
  const sumWithout = useMemo(() => {
    let a = 0;
    let b = 0;
    const f = rowView(r);
    for (let k = 0; k < rows.length; k++) {
      a += f.pagesWithout(rows[k]!);
      b += f.pagesWith(rows[k]!);
    }
    return { without: a * ps, with: b * ps };
  }, [r, rows, ps]);
  const exportCsv = () => {
    const f = rowView(r);
    const out: (string | number)[][] = [];
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k]!;
      const inst = r.instances[f.instance(row)]!;
      out.push([
        inst.id,
        names.get(inst.imageId) ?? inst.imageId,
        rowPath(r, row),
        f.status(row),
        f.size(row),
        f.pagesWithout(row) * ps,
        f.pagesWith(row) * ps,
      ]);
    }
    download(
      'sharemap-files.csv',
      toCsv(
        ['instance', 'image', 'path', 'status', 'size', 'bytes_without_sharing', 'bytes_with_sharing'],
        out,
      ),
      'text/csv',
    );
  };
  return (
    <div className="files">
      <div className="toolbar" role="search">
        <label>
          <span className="sr-only">Search paths</span>
          <input
            type="search"
            placeholder="Search paths…"
            value={q}
            onChange={(e) => setQ(e.target.value)}
            data-testid="files-search"
          />
        </label>
        <label>
          Status{' '}
          <select
            value={v.status}
            onChange={(e) => setView({ status: e.target.value as StatusFilter, sel: -1 })}
            data-testid="files-status"
          >
            {STATUS_FILTERS.map((s) => (
              <option key={s.id} value={s.id}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Instance{' '}
          <select value={v.inst} onChange={(e) => setView({ inst: e.target.value, sel: -1 })}>
            <option value="">all</option>
            {r.instances.map((i) => (
              <option key={i.id} value={i.id}>
                {i.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Image{' '}
          <select value={v.img} onChange={(e) => setView({ img: e.target.value, sel: -1 })}>
            <option value="">all</option>
            {r.images.map((i) => (
              <option key={i.id} value={i.id}>
                {i.name}
              </option>
            ))}
          </select>
        </label>
        <span className="seg-buttons" role="group" aria-label="Files view">
          <button
            type="button"
            className={v.fv === 'table' ? 'btn small active' : 'btn small'}
            aria-pressed={v.fv === 'table'}
            onClick={() => setView({ fv: 'table' }, true)}
          >
            Table
          </button>
          <button
            type="button"
            className={v.fv === 'treemap' ? 'btn small active' : 'btn small'}
            aria-pressed={v.fv === 'treemap'}
            onClick={() => setView({ fv: 'treemap' }, true)}
          >
            Treemap
          </button>
        </span>
        <MeasureToggle r={report} />
        <button type="button" className="btn small" onClick={exportCsv}>
          Export CSV
        </button>
      </div>
      {cell && (
        <p className="trust-cell-filter small" data-testid="files-trust-cell">
          Files behind the trust cell: pages published by{' '}
          <strong>{parties.get(cell.supplier) ?? cell.supplier}</strong> read by instances of{' '}
          <strong>{parties.get(cell.reader) ?? cell.reader}</strong> (R5, R12) ·{' '}
          <ViewLink to={{ tc: '', sel: -1 }}>show all files</ViewLink>
        </p>
      )}
      {v.pair && (
        <p className="chart-filter small" data-testid="files-pair">
          {pair && pairIds ? (
            <>
              Files behind the pair <strong>{r.instances[instIndexOf(r, pairIds[0])]!.label}</strong> and{' '}
              <strong>{r.instances[instIndexOf(r, pairIds[1])]!.label}</strong>:{' '}
              {formatInteger(pair.sharedContents)} shared content{pair.sharedContents === 1 ? '' : 's'},{' '}
              <span data-testid="pair-shared">
                <Bytes n={pair.sharedBytes} />
              </span>{' '}
              shared
              {pair.crossBytes === null ? (
                contents.error ? (
                  ` (same content in other domains unknown: ${contents.error})`
                ) : (
                  ' (looking for the same content in other domains…)'
                )
              ) : pair.crossBytes > 0 ? (
                <>
                  ; {formatInteger(pair.crossContents)} <Term k="crossDomain">same content, not shared</Term>{' '}
                  (different <Term k="domain">domains</Term>):{' '}
                  <span data-testid="pair-cross">
                    <Bytes n={pair.crossBytes} />
                  </span>
                </>
              ) : null}
            </>
          ) : (
            `No such pair of instances: ${v.pair}`
          )}{' '}
          · <ViewLink to={{ pair: '', sel: -1 }}>show all files</ViewLink>
        </p>
      )}
      {combo && (
        <p className="chart-filter small" data-testid="files-overlap">
          {combo.set ? (
            <>
              Contents held by exactly{' '}
              <strong>{combo.set.images.map((id) => names.get(id) ?? id).join(' ∩ ')}</strong>:{' '}
              {formatInteger(combo.set.count)} content{combo.set.count === 1 ? '' : 's'}, saving{' '}
              <Bytes n={combo.set.saved} />
            </>
          ) : (
            `No content is held by exactly these images: ${v.ov}`
          )}{' '}
          · <ViewLink to={{ ov: '', sel: -1 }}>show all files</ViewLink>
        </p>
      )}
      <p className="muted small" data-testid="files-count" aria-live="polite">
        {formatInteger(rows.length)} of {formatInteger(rowView(r).count)} rows ·{' '}
        {formatBytes(sumWithout.without)} without sharing, {formatBytes(sumWithout.with)} with
        {(v.q || v.status || v.inst || v.img) && (
          <>
            {' · '}
            <ViewLink to={{ q: '', status: '', inst: '', img: '', sel: -1 }}>clear filters</ViewLink>
          </>
        )}
      </p>
      <div className="files-main">
        {rows.length === 0 ? (
          <Empty>No rows match.</Empty>
        ) : v.fv === 'treemap' ? (
          <Treemap
            r={r}
            rows={rows}
            dir={v.dir}
            size={v.tms}
            onDir={(dir) => setView({ dir }, true)}
            onFile={(row) => setView({ sel: row })}
            onSize={(tms) => setView({ tms }, true)}
          />
        ) : (
          <VirtualTable r={r} rows={rows} sel={v.sel} onSelect={(row) => setView({ sel: row })} />
        )}
        <Detail r={report} row={v.sel} />
      </div>
    </div>
  );
}
