/** Treemap of cached bytes by directory, coloured by what dominates: shared / private / unsharable duplicate. */
import { useMemo, useRef } from 'react';
import { hierarchy, treemap, treemapSquarify } from 'd3';
import type { HierarchyRectangularNode } from 'd3';
import { formatBytes } from '@sharemap/sharing';
import type { Report } from '@sharemap/sharing';
import { directoryTree, dominantCategory, type DirNode } from '../lib/derive';
import { CATEGORY_COLOR, CATEGORY_LABEL } from './palette';
import { ExportButtons } from './export';

interface TNode {
  node: DirNode;
  children?: TNode[];
}

const W = 900;
const H = 520;

export function Treemap({
  r,
  rows,
  dir,
  onDir,
  onFile,
}: {
  r: Report;
  rows: Uint32Array;
  dir: string;
  onDir(d: string): void;
  onFile(row: number): void;
}) {
  const svg = useRef<SVGSVGElement>(null);
  const tree = useMemo(() => directoryTree(r, rows, dir, 2), [r, rows, dir]);
  const leaves = useMemo(() => {
    const toT = (n: DirNode): TNode => ({
      node: n,
      children: n.children ? [...n.children.values()].map(toT) : undefined,
    });
    const h = hierarchy<TNode>(toT(tree), (d) => d.children)
      .sum((d) => (d.children && d.children.length ? 0 : d.node.total))
      .sort((a, b) => (b.value ?? 0) - (a.value ?? 0));
    treemap<TNode>().tile(treemapSquarify).size([W, H]).paddingTop(16).paddingInner(1).round(true)(h);
    return h.descendants().filter((d) => d.depth > 0) as unknown as HierarchyRectangularNode<TNode>[];
  }, [tree]);
  const crumbs = dir ? dir.split('/').filter(Boolean) : [];
  return (
    <figure className="chart treemap">
      <figcaption>
        <nav aria-label="Directory" className="crumbs">
          <button type="button" className="linkish" onClick={() => onDir('')}>
            /
          </button>
          {crumbs.map((c, i) => (
            <span key={i}>
              {' '}
              <button
                type="button"
                className="linkish"
                onClick={() => onDir('/' + crumbs.slice(0, i + 1).join('/'))}
              >
                {c}
              </button>{' '}
              /
            </span>
          ))}
          <span className="muted">
            {' '}
            {formatBytes(tree.total)} in {tree.files} rows
          </span>
        </nav>
        <ExportButtons target={svg} name="sharemap-treemap" />
      </figcaption>
      <svg
        ref={svg}
        viewBox={`0 0 ${W} ${H}`}
        role="group"
        aria-label={`Treemap of ${dir || '/'} by cached bytes`}
        className="treemap-svg"
      >
        {leaves.map((d, k) => {
          const n = d.data.node;
          const cat = dominantCategory(n);
          const w = d.x1 - d.x0;
          const h = d.y1 - d.y0;
          const isDir = n.children !== null;
          const parent = d.children && d.children.length > 0;
          return (
            <g
              key={k}
              transform={`translate(${d.x0},${d.y0})`}
              className={isDir ? 'tm-dir' : 'tm-file'}
              tabIndex={parent ? -1 : 0}
              role="button"
              aria-label={`${n.path}: ${formatBytes(n.total)}, mostly ${CATEGORY_LABEL[cat]}`}
              onClick={(e) => {
                e.stopPropagation();
                if (isDir) onDir(n.path);
                else if (n.row !== undefined) onFile(n.row);
              }}
              onKeyDown={(e) => {
                if (e.key === 'Enter') {
                  if (isDir) onDir(n.path);
                  else if (n.row !== undefined) onFile(n.row);
                }
              }}
            >
              <title>{`${n.path}\n${formatBytes(n.total)} cached without sharing\nshared ${formatBytes(n.bytes.shared)}, private ${formatBytes(n.bytes.private)}, unsharable duplicate ${formatBytes(n.bytes.duplicate)}`}</title>
              <rect
                width={w}
                height={h}
                fill={parent ? 'var(--panel)' : CATEGORY_COLOR[cat]}
                stroke="var(--bg)"
                fillOpacity={parent ? 1 : 0.85}
              />
              {w > 40 && h > 13 && (
                <text x={3} y={11} className="tm-label">
                  {n.name.length * 6.5 > w
                    ? n.name.slice(0, Math.max(1, Math.floor(w / 6.5) - 1)) + '…'
                    : n.name}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <div className="legend">
        {(Object.keys(CATEGORY_COLOR) as (keyof typeof CATEGORY_COLOR)[]).map((c) => (
          <span key={c}>
            <i className="sw" style={{ background: CATEGORY_COLOR[c] }} /> {CATEGORY_LABEL[c]}
          </span>
        ))}
      </div>
    </figure>
  );
}
