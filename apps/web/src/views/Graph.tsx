/**
 * Sharing graph: instances as nodes, shared bytes as weighted edges (d3-force, small sets), and
 * an instance x instance heatmap ordered by domain and image, readable at 200 instances.
 */
import { useMemo, useRef, useState } from 'react';
import {
  forceCenter,
  forceCollide,
  forceLink,
  forceManyBody,
  forceSimulation,
  forceX,
  forceY,
  interpolateCividis,
  scaleSequentialSqrt,
  scaleSqrt,
} from 'd3';
import type { SimulationLinkDatum, SimulationNodeDatum } from 'd3';
import { formatBytes } from '@sharemap/sharing';
import type { Report } from '@sharemap/sharing';
import { Bytes, Empty, ViewLink } from '../components/common';
import { ExportButtons } from '../charts/export';
import { PairsList } from '../charts/PairsList';
import { OKABE_ITO } from '../charts/palette';
import { sharingMatrix } from '../lib/derive';
import { crossDomainMatrix, formatPair } from '../lib/pairs';
import { useContentIds } from '../state/content';
import { Term } from '../components/Term';
import '../charts/charts.css';
import { reportIn } from '../lib/measure';
import { MeasureToggle } from '../components/MeasureToggle';
import { useStore } from '../state/store';

interface N extends SimulationNodeDatum {
  i: number;
  r: number;
}
interface L extends SimulationLinkDatum<N> {
  bytes: number;
}

const FORCE_LIMIT = 80;
/** Matrix pairs listed (as links to their files) under the matrix: its keyboard way in. */
const TOP_PAIRS = 10;
/** The Files view of what a node, an edge or a cell stands for (other file filters cleared). */
const FILES_OF = { view: 'files', q: '', status: '', img: '', tc: '', ov: '', sel: -1 } as const;

function domainColour(r: Report): Map<string, string> {
  return new Map(r.domains.map((d, k) => [d.label, OKABE_ITO[k % (OKABE_ITO.length - 1)]!]));
}

/** Enter or Space on a focused node or edge opens it, as a click does (they are role="link"). */
const onEnter = (go: () => void) => (e: React.KeyboardEvent) => {
  if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    go();
  }
};

/**
 * One edge of the graph as a way in: a wide invisible hit line under the drawn one, focusable,
 * opening the pair's files. `cross`: the same content held in two domains, not shared
 * (docs/sharing-rules.md#r4), drawn in its own style.
 */
function EdgeLink(props: {
  from: { x?: number; y?: number };
  to: { x?: number; y?: number };
  label: string;
  /** The two instance ids, "a,b" (data-pair, read by the e2e tests). */
  pair: string;
  onOpen: () => void;
  cross?: boolean;
  width: number;
  opacity: number;
}) {
  const { from: s, to: t, label, cross = false } = props;
  return (
    <g
      className={cross ? 'edge-hit cross' : 'edge-hit'}
      tabIndex={0}
      role="link"
      aria-label={label}
      data-pair={props.pair}
      onClick={props.onOpen}
      onKeyDown={onEnter(props.onOpen)}
    >
      <line x1={s.x} y1={s.y} x2={t.x} y2={t.y} className="hit" />
      <line
        x1={s.x}
        y1={s.y}
        x2={t.x}
        y2={t.y}
        strokeWidth={props.width}
        className={cross ? 'edge edge-cross' : 'edge'}
        strokeOpacity={props.opacity}
      />
      <title>{label}</title>
    </g>
  );
}

function ForceGraph({ r }: { r: Report }) {
  const svg = useRef<SVGSVGElement>(null);
  const [hover, setHover] = useState(-1);
  const setView = useStore((s) => s.setView);
  const { n, m } = sharingMatrix(r);
  const { ids } = useContentIds();
  // Same content in two domains (not shared, R4): drawn between the laid-out nodes, no force of its own.
  const cross = useMemo(() => {
    if (!ids) return [];
    const x = crossDomainMatrix(r, ids);
    const out: { a: number; b: number; bytes: number }[] = [];
    for (let a = 0; a < n; a++)
      for (let b = a + 1; b < n; b++) if (x[a * n + b]! > 0) out.push({ a, b, bytes: x[a * n + b]! });
    return out;
  }, [r, ids, n]);
  const openPair = (a: number, b: number) =>
    setView({ ...FILES_OF, inst: '', pair: formatPair(r.instances[a]!.id, r.instances[b]!.id) }, true);
  const openInstance = (i: number) => setView({ ...FILES_OF, pair: '', inst: r.instances[i]!.id }, true);
  const W = 860;
  const H = 560;
  const colours = domainColour(r);
  const layout = useMemo(() => {
    const maxSelf = Math.max(1, ...r.instances.map((_, i) => m[i * n + i]!));
    const rs = scaleSqrt().domain([0, maxSelf]).range([6, 30]);
    const nodes: N[] = r.instances.map((_, i) => ({ i, r: rs(m[i * n + i]!) }));
    const links: L[] = [];
    for (let a = 0; a < n; a++)
      for (let b = a + 1; b < n; b++)
        if (m[a * n + b]! > 0) links.push({ source: a, target: b, bytes: m[a * n + b]! });
    const maxL = Math.max(1, ...links.map((l) => l.bytes));
    const sim = forceSimulation(nodes)
      .force(
        'link',
        forceLink<N, L>(links)
          .strength((l) => 0.2 + 0.8 * (l.bytes / maxL))
          .distance(110),
      )
      .force('charge', forceManyBody().strength(-260))
      .force(
        'collide',
        forceCollide<N>((d) => d.r + 6),
      )
      .force('center', forceCenter(W / 2, H / 2))
      // Weak gravity keeps instances that share nothing near the middle instead of at the edges.
      .force('x', forceX(W / 2).strength(0.06))
      .force('y', forceY(H / 2).strength(0.08))
      .stop();
    for (let k = 0; k < 300; k++) sim.tick();
    for (const d of nodes) {
      d.x = Math.max(d.r + 4, Math.min(W - d.r - 4, d.x!));
      d.y = Math.max(d.r + 14, Math.min(H - d.r - 14, d.y!));
    }
    const ws = scaleSqrt().domain([0, maxL]).range([0.5, 12]);
    return { nodes, links, ws };
  }, [r, m, n]);
  return (
    <figure className="chart">
      <figcaption>
        Nodes are instances (area: cached bytes without sharing, colour: <Term k="domain" />
        ); an edge's width is the bytes two instances share. Click a node or an edge (or focus it and press
        Enter) for its files. <ExportButtons target={svg} name="sharemap-graph" />
      </figcaption>
      <svg
        ref={svg}
        viewBox={`0 0 ${W} ${H}`}
        className="graph-svg"
        role="group"
        aria-label="Sharing graph of instances"
      >
        {cross.map((c, k) => {
          const on = hover < 0 || hover === c.a || hover === c.b;
          return (
            <EdgeLink
              key={`x${k}`}
              from={layout.nodes[c.a]!}
              to={layout.nodes[c.b]!}
              label={`${r.instances[c.a]!.label} ↔ ${r.instances[c.b]!.label}: ${formatBytes(c.bytes)} of the same content, not shared: different domains`}
              pair={`${r.instances[c.a]!.id},${r.instances[c.b]!.id}`}
              onOpen={() => openPair(c.a, c.b)}
              cross
              width={Math.max(1.5, layout.ws(c.bytes) / 2)}
              opacity={on ? 0.9 : 0.15}
            />
          );
        })}
        {layout.links.map((l, k) => {
          const s = l.source as N;
          const t = l.target as N;
          const on = hover < 0 || hover === s.i || hover === t.i;
          return (
            <EdgeLink
              key={k}
              from={s}
              to={t}
              label={`${r.instances[s.i]!.label} ↔ ${r.instances[t.i]!.label}: ${formatBytes(l.bytes)} shared`}
              pair={`${r.instances[s.i]!.id},${r.instances[t.i]!.id}`}
              onOpen={() => openPair(s.i, t.i)}
              width={layout.ws(l.bytes)}
              opacity={on ? 0.55 : 0.08}
            />
          );
        })}
        {layout.nodes.map((d) => {
          const inst = r.instances[d.i]!;
          const off = !inst.inodeShare.effective;
          return (
            <g
              key={d.i}
              transform={`translate(${d.x},${d.y})`}
              onMouseEnter={() => setHover(d.i)}
              onMouseLeave={() => setHover(-1)}
              onFocus={() => setHover(d.i)}
              onBlur={() => setHover(-1)}
              onClick={() => openInstance(d.i)}
              onKeyDown={onEnter(() => openInstance(d.i))}
              tabIndex={0}
              role="link"
              data-instance={inst.id}
              className="node"
              aria-label={`${inst.label}: ${formatBytes(m[d.i * n + d.i]!)} cached${off ? ', inode_share off' : ''}`}
            >
              <circle
                r={d.r}
                fill={off ? 'var(--muted-bg)' : (colours.get(inst.domain?.label ?? '') ?? OKABE_ITO[7])}
                stroke="var(--fg)"
                strokeWidth={off ? 1 : 0.5}
                strokeDasharray={off ? '3 2' : undefined}
              />
              <text y={d.r + 12} textAnchor="middle" className="node-label">
                {inst.label.split('/').pop()}
              </text>
              <title>{`${inst.label} (${inst.id})\n${formatBytes(m[d.i * n + d.i]!)} cached without sharing${off ? '\ninode_share off' : `\ndomain ${inst.domain?.label ?? 'unknown'}`}`}</title>
            </g>
          );
        })}
      </svg>
      <div className="legend">
        {r.domains.map((d) => (
          <span key={d.label}>
            <i className="sw" style={{ background: colours.get(d.label) }} /> {d.label}
          </span>
        ))}
        <span>
          <i className="sw dashed" /> <Term k="inodeShare" /> off
        </span>
        <span>
          <i className="sw-line" /> shared bytes (width)
        </span>
        <span data-testid="legend-cross">
          <i className="sw-line cross" /> <Term k="crossDomain">same content, not shared</Term>: different
          domains
        </span>
      </div>
    </figure>
  );
}

/** The domain an instance is ordered and labelled by in the matrix. */
function domainKey(i: Report['instances'][number]): string {
  return i.inodeShare.effective ? (i.domain?.label ?? `?${i.id}`) : '(not sharing)';
}

function Heatmap({ r }: { r: Report }) {
  const svg = useRef<SVGSVGElement>(null);
  const { n, m } = sharingMatrix(r);
  const setView = useStore((s) => s.setView);
  const [hover, setHover] = useState<[number, number] | null>(null);
  // Order: by domain, then image, then id, so domains show as blocks on the diagonal and the
  // instances of one image (which share most) sit together inside them.
  const order = useMemo(
    () =>
      r.instances
        .map((_, i) => i)
        .sort((a, b) => {
          const A = r.instances[a]!;
          const B = r.instances[b]!;
          const da = A.inodeShare.effective ? (A.domain?.label ?? '\uffff') : '\uffff\uffff';
          const db = B.inodeShare.effective ? (B.domain?.label ?? '\uffff') : '\uffff\uffff';
          return (
            (da < db ? -1 : da > db ? 1 : 0) ||
            (A.imageId < B.imageId ? -1 : A.imageId > B.imageId ? 1 : 0) ||
            a - b
          );
        }),
    [r],
  );
  // Runs of one domain along the axes: labelled blocks when instances are too many to name each.
  const blocks = useMemo(() => {
    const out: { label: string; from: number; to: number }[] = [];
    order.forEach((i, k) => {
      const d = domainKey(r.instances[i]!);
      const last = out[out.length - 1];
      if (last && last.label === d) last.to = k + 1;
      else out.push({ label: d, from: k, to: k + 1 });
    });
    return out;
  }, [r, order]);
  const cell = Math.max(4, Math.min(26, Math.floor(760 / Math.max(1, n))));
  const labels = cell >= 9;
  const margin = labels ? 150 : 120;
  const size = cell * n;
  let max = 1;
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) if (a !== b) max = Math.max(max, m[a * n + b]!);
  // Reversed cividis from zero: little sharing is pale, much is dark (colour-blind safe, both themes).
  const colour = scaleSequentialSqrt((t: number) => interpolateCividis(1 - t * 0.9)).domain([0, max]);
  const pairText = (a: number, b: number) =>
    `${r.instances[a]!.label} ↔ ${r.instances[b]!.label}: ${formatBytes(m[a * n + b]!)} shared`;
  const openPair = (a: number, b: number) =>
    setView({ ...FILES_OF, inst: '', pair: formatPair(r.instances[a]!.id, r.instances[b]!.id) }, true);
  const cells: React.ReactNode[] = [];
  const top: [number, number, number][] = [];
  for (let x = 0; x < n; x++)
    for (let y = 0; y < n; y++) {
      const a = order[y]!;
      const b = order[x]!;
      if (a === b) continue;
      const v = m[a * n + b]!;
      if (v <= 0) continue;
      if (a < b) top.push([a, b, v]);
      cells.push(
        <rect
          key={`${x}.${y}`}
          x={x * cell}
          y={y * cell}
          width={cell - (cell > 4 ? 1 : 0)}
          height={cell - (cell > 4 ? 1 : 0)}
          fill={colour(v)}
          className="hm-cell"
          data-pair={`${r.instances[a]!.id},${r.instances[b]!.id}`}
          onMouseEnter={() => setHover([a, b])}
          onClick={() => openPair(a, b)}
        >
          <title>{pairText(a, b)}</title>
        </rect>,
      );
    }
  top.sort((p, q) => q[2] - p[2] || p[0] - q[0] || p[1] - q[1]);
  const short = (i: number) => {
    const l = r.instances[i]!.label;
    return l.length > 22 ? '…' + l.slice(-21) : l;
  };
  const shortDomain = (d: string) => (d.length > 18 ? d.slice(0, 17) + '…' : d);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => t * t * max);
  return (
    <figure className="chart">
      <figcaption>
        Bytes of page cache each pair of instances shares (rows and columns ordered by <Term k="domain" /> and
        image; a cell opens the pair's files). <ExportButtons target={svg} name="sharemap-matrix" />
      </figcaption>
      <p className="muted small" aria-live="polite" data-testid="matrix-hover">
        {hover
          ? pairText(hover[0], hover[1])
          : 'Hover a cell for the pair and its shared bytes; click it for the files.'}
      </p>
      <svg
        ref={svg}
        width={size + margin + 10}
        height={size + margin + 10}
        viewBox={`0 0 ${size + margin + 10} ${size + margin + 10}`}
        className="heatmap-svg"
        role="group"
        aria-label={`Instance by instance sharing matrix, ${n} instances`}
        onMouseLeave={() => setHover(null)}
      >
        <g transform={`translate(${margin},${margin})`}>
          <rect width={size} height={size} className="hm-bg" />
          {order.map((i, k) => (
            <rect
              key={`d${k}`}
              x={k * cell}
              y={k * cell}
              width={cell - 1}
              height={cell - 1}
              className="hm-diag"
            />
          ))}
          {cells}
          {hover && (
            <g className="hm-cross" pointerEvents="none">
              <rect x={0} y={order.indexOf(hover[0]) * cell} width={size} height={cell} />
              <rect x={order.indexOf(hover[1]) * cell} y={0} width={cell} height={size} />
            </g>
          )}
          {labels
            ? order.map((i, k) => (
                <g key={`l${k}`}>
                  <text
                    x={-4}
                    y={k * cell + cell / 2}
                    textAnchor="end"
                    dominantBaseline="middle"
                    className={`hm-label${hover && hover[0] === i ? ' hot' : ''}`}
                  >
                    {short(i)}
                  </text>
                  <text
                    transform={`translate(${k * cell + cell / 2},-4) rotate(-60)`}
                    className={`hm-label${hover && hover[1] === i ? ' hot' : ''}`}
                  >
                    {short(i)}
                  </text>
                </g>
              ))
            : blocks.map((bl, k) => (
                // Too many instances to name each: the axes name the domain blocks, hover names the pair.
                <g key={`b${k}`} data-testid="matrix-axis-block">
                  <line x1={-6} x2={-6} y1={bl.from * cell + 1} y2={bl.to * cell - 1} className="hm-block" />
                  <line y1={-6} y2={-6} x1={bl.from * cell + 1} x2={bl.to * cell - 1} className="hm-block" />
                  {(bl.to - bl.from) * cell >= 10 && (
                    <>
                      <text
                        x={-10}
                        y={((bl.from + bl.to) / 2) * cell}
                        textAnchor="end"
                        dominantBaseline="middle"
                        className="hm-label"
                      >
                        {shortDomain(bl.label)} ({bl.to - bl.from})
                      </text>
                      <text
                        transform={`translate(${((bl.from + bl.to) / 2) * cell},-10) rotate(-60)`}
                        className="hm-label"
                      >
                        {shortDomain(bl.label)}
                      </text>
                    </>
                  )}
                </g>
              ))}
        </g>
      </svg>
      <div className="legend hm-legend" data-testid="matrix-legend">
        <span>Bytes shared by the pair:</span>
        <span className="hm-scale">
          <span
            className="gradient"
            style={{ background: `linear-gradient(to right, ${ticks.map((v) => colour(v)).join(',')})` }}
          />
          <span className="hm-ticks">
            {ticks.map((v, k) => (
              <span key={k} data-bytes={Math.round(v)}>
                {formatBytes(Math.round(v))}
              </span>
            ))}
          </span>
        </span>
        <span>
          <i className="sw hm-none" /> nothing shared
        </span>
      </div>
      {top.length > 0 && (
        <details className="hm-top">
          <summary>The {Math.min(TOP_PAIRS, top.length)} pairs that share most</summary>
          <ol>
            {top.slice(0, TOP_PAIRS).map(([a, b, v]) => (
              <li key={`${a}.${b}`}>
                <ViewLink
                  to={{ ...FILES_OF, inst: '', pair: formatPair(r.instances[a]!.id, r.instances[b]!.id) }}
                >
                  {r.instances[a]!.label} ↔ {r.instances[b]!.label}
                </ViewLink>
                : <Bytes n={v} />
              </li>
            ))}
          </ol>
        </details>
      )}
    </figure>
  );
}

export default function Graph({ report }: { report: Report }) {
  const gm = useStore((s) => s.v.gm);
  // Edge widths, node sizes and matrix cells in the chosen measure (lib/measure.ts).
  const r = reportIn(
    report,
    useStore((s) => s.v.measure),
  );
  const setView = useStore((s) => s.setView);
  if (r.instances.length === 0) return <Empty>No instances.</Empty>;
  const tooMany = r.instances.length > FORCE_LIMIT;
  const mode = tooMany ? 'matrix' : gm;
  return (
    <div>
      <div className="toolbar">
        <span className="seg-buttons" role="group" aria-label="Graph mode">
          <button
            type="button"
            disabled={tooMany}
            className={mode === 'force' ? 'btn small active' : 'btn small'}
            aria-pressed={mode === 'force'}
            onClick={() => setView({ gm: 'force' }, true)}
          >
            Graph
          </button>
          <button
            type="button"
            className={mode === 'matrix' ? 'btn small active' : 'btn small'}
            aria-pressed={mode === 'matrix'}
            onClick={() => setView({ gm: 'matrix' }, true)}
          >
            Matrix
          </button>
        </span>
        {tooMany && (
          <span className="muted small">
            {r.instances.length} instances: the matrix stays readable where a graph would not.
          </span>
        )}
        <MeasureToggle r={report} />
        <ViewLink to={{ view: 'instances' }}>Assign domains…</ViewLink>
      </div>
      {mode === 'force' ? <ForceGraph r={r} /> : <Heatmap r={r} />}
      <PairsList r={r} />
    </div>
  );
}
