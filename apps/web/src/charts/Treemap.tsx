/**
 * Treemap of page cache by directory. A box's area is its bytes without sharing or with sharing
 * (switchable), its colour the proportion of its bytes that are in shared files (0 to 100 %, a
 * sequential scale, not the majority class: a box half shared looks half way). Keyboard: Enter
 * opens a box, Escape or Backspace goes up a level, and focus starts on the largest box.
 */
import { useEffect, useMemo, useRef } from 'react';
import { hierarchy, interpolateCividis, treemap, treemapSquarify } from 'd3';
import type { HierarchyRectangularNode } from 'd3';
import { formatBytes, formatPercent } from '@sharemap/sharing';
import type { Report } from '@sharemap/sharing';
import { directoryTree, sharedProportion, type DirNode } from '../lib/derive';
import { ExportButtons } from './export';
import './charts.css';

interface TNode {
  node: DirNode;
  children?: TNode[];
}

export type TreemapSize = 'without' | 'with';

const W = 900;
const H = 520;

/** Cividis from its dark end (nothing shared) to its light end (all shared): colour-blind safe. */
const shareColour = (p: number) => interpolateCividis(0.1 + 0.9 * p);
/** Labels stay readable: light text on the dark end of the scale, dark text on the light end. */
const labelColour = (p: number) => (p < 0.5 ? '#fff' : '#000');

/** The parent of a treemap directory ('' is the root). */
export function parentDir(dir: string): string {
  let end = dir.length;
  while (end > 0 && dir[end - 1] === '/') end--;
  const k = dir.lastIndexOf('/', end - 1);
  return k <= 0 ? '' : dir.slice(0, k);
}

export function Treemap({
  r,
  rows,
  dir,
  size,
  onDir,
  onFile,
  onSize,
}: {
  r: Report;
  rows: Uint32Array;
  dir: string;
  size: TreemapSize;
  onDir(d: string): void;
  onFile(row: number): void;
  onSize(s: TreemapSize): void;
}) {
  const svg = useRef<SVGSVGElement>(null);
  const tree = useMemo(() => directoryTree(r, rows, dir, 2), [r, rows, dir]);
  const valueOf = (n: DirNode) => (size === 'with' ? n.withTotal : n.total);
  const { parents, boxes } = useMemo(() => {
    const toT = (n: DirNode): TNode => ({
      node: n,
      children: n.children ? [...n.children.values()].map(toT) : undefined,
    });
    const h = hierarchy<TNode>(toT(tree), (d) => d.children)
      .sum((d) => (d.children && d.children.length ? 0 : size === 'with' ? d.node.withTotal : d.node.total))
      .sort((a, b) => (b.value ?? 0) - (a.value ?? 0));
    treemap<TNode>().tile(treemapSquarify).size([W, H]).paddingTop(16).paddingInner(1).round(true)(h);
    const all = h.descendants().filter((d) => d.depth > 0) as unknown as HierarchyRectangularNode<TNode>[];
    const isParent = (d: HierarchyRectangularNode<TNode>) => !!d.children && d.children.length > 0;
    // Parents are drawn first (their boxes hold the others); the boxes one can open follow,
    // largest first, so Tab goes from the largest box down.
    return {
      parents: all.filter(isParent),
      boxes: all
        .filter((d) => !isParent(d) && (d.value ?? 0) > 0)
        .sort((a, b) => (b.value ?? 0) - (a.value ?? 0)),
    };
  }, [tree, size]);
  const largest = useRef<SVGGElement>(null);
  const focusLargest = useRef(false);
  // Focus starts on the largest box after moving between levels (not on first paint: the page's own focus stays).
  useEffect(() => {
    if (focusLargest.current) largest.current?.focus();
    focusLargest.current = false;
  }, [boxes]);
  const go = (d: string) => {
    focusLargest.current = true;
    onDir(d);
  };
  const open = (n: DirNode) => {
    if (n.children !== null) go(n.path);
    else if (n.row !== undefined) onFile(n.row);
  };
  const crumbs = dir ? dir.split('/').filter(Boolean) : [];
  const label = (n: DirNode) => {
    const p = sharedProportion(n);
    return `${n.path}: ${formatBytes(valueOf(n))} ${size === 'with' ? 'with' : 'without'} sharing, ${formatPercent(p * 100)} shared`;
  };
  return (
    <figure className="chart treemap">
      <figcaption>
        <nav aria-label="Directory" className="crumbs">
          <button type="button" className="linkish" onClick={() => go('')}>
            /
          </button>
          {crumbs.map((c, i) => (
            <span key={i}>
              {' '}
              <button
                type="button"
                className="linkish"
                onClick={() => go('/' + crumbs.slice(0, i + 1).join('/'))}
              >
                {c}
              </button>{' '}
              /
            </span>
          ))}
          <span className="muted" data-testid="treemap-total">
            {' '}
            {formatBytes(valueOf(tree))} {size === 'with' ? 'with' : 'without'} sharing in {tree.files} rows
          </span>
        </nav>
        <span className="seg-buttons" role="group" aria-label="Box size">
          {(['without', 'with'] as const).map((s) => (
            <button
              key={s}
              type="button"
              className={size === s ? 'btn small active' : 'btn small'}
              aria-pressed={size === s}
              data-testid={`treemap-size-${s}`}
              onClick={() => onSize(s)}
            >
              Size: {s} sharing
            </button>
          ))}
        </span>{' '}
        <ExportButtons target={svg} name="sharemap-treemap" />
      </figcaption>
      <svg
        ref={svg}
        viewBox={`0 0 ${W} ${H}`}
        role="group"
        aria-label={`Treemap of ${dir || '/'} by bytes ${size} sharing; Enter opens a box, Escape or Backspace goes up`}
        className="treemap-svg"
        onKeyDown={(e) => {
          if ((e.key === 'Escape' || e.key === 'Backspace') && dir) {
            e.preventDefault();
            go(parentDir(dir));
          }
        }}
      >
        {parents.map((d, k) => {
          const n = d.data.node;
          return (
            <g key={`p${k}`} transform={`translate(${d.x0},${d.y0})`} className="tm-dir">
              <title>{label(n)}</title>
              <rect
                width={d.x1 - d.x0}
                height={d.y1 - d.y0}
                fill="var(--panel)"
                stroke="var(--bg)"
                onClick={() => go(n.path)}
              />
              {d.x1 - d.x0 > 40 && (
                <text x={3} y={11} className="tm-label">
                  {n.name}
                </text>
              )}
            </g>
          );
        })}
        {boxes.map((d, k) => {
          const n = d.data.node;
          const p = sharedProportion(n);
          const w = d.x1 - d.x0;
          const h = d.y1 - d.y0;
          return (
            <g
              key={n.path}
              ref={k === 0 ? largest : undefined}
              transform={`translate(${d.x0},${d.y0})`}
              className={`tm-box ${n.children !== null ? 'tm-dir' : 'tm-file'}`}
              tabIndex={0}
              role="button"
              aria-label={label(n)}
              data-path={n.path}
              data-bytes={valueOf(n)}
              data-shared={n.bytes.shared}
              data-total={n.total}
              onClick={(e) => {
                e.stopPropagation();
                open(n);
              }}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  open(n);
                }
              }}
            >
              <title>{`${label(n)}\n${formatBytes(n.total)} without sharing, ${formatBytes(n.withTotal)} with\nshared ${formatBytes(n.bytes.shared)}, private ${formatBytes(n.bytes.private)}, unsharable duplicate ${formatBytes(n.bytes.duplicate)}`}</title>
              <rect width={w} height={h} fill={shareColour(p)} stroke="var(--bg)" />
              {w > 40 && h > 13 && (
                <text x={3} y={11} className="tm-label" style={{ fill: labelColour(p) }}>
                  {n.name.length * 6.5 > w
                    ? n.name.slice(0, Math.max(1, Math.floor(w / 6.5) - 1)) + '…'
                    : n.name}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <div className="legend tm-legend" data-testid="treemap-legend">
        <span>Colour: bytes in shared files, of the box's bytes without sharing:</span>
        <span>0 %</span>
        <span
          className="gradient"
          style={{
            background: `linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map(shareColour).join(',')})`,
          }}
        />
        <span>100 %</span>
        <span className="muted">Area: bytes {size} sharing.</span>
      </div>
    </figure>
  );
}
