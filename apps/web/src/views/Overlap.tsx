/** Overlap: an UpSet-style chart (drawn here with d3 scales) of which image combinations share content. */
import { useRef, useState } from 'react';
import { scaleBand, scaleLinear } from 'd3';
import { formatBytes } from '@sharemap/sharing';
import type { Report } from '@sharemap/sharing';
import { CsvButton, Empty, toCsv } from '../components/common';
import { ExportButtons } from '../charts/export';
import { overlapSets } from '../lib/derive';
import { useStore } from '../state/store';
import '../charts/charts.css';

const MAX_COMBOS = 30;

export default function Overlap({ report: r }: { report: Report }) {
  const svg = useRef<SVGSVGElement>(null);
  const [metric, setMetric] = useState<'saved' | 'bytes'>('saved');
  const setView = useStore((s) => s.setView);
  // A column opens its contents in the Files view (other file filters cleared).
  const openSet = (images: string[]) =>
    setView(
      {
        view: 'files',
        q: '',
        status: '',
        inst: '',
        img: '',
        tc: '',
        pair: '',
        sel: -1,
        ov: images.join(','),
      },
      true,
    );
  const all = overlapSets(r).filter((s) => s.images.length > 0);
  if (all.length === 0) return <Empty>No content appears in more than one place: nothing overlaps.</Empty>;
  const sets = [...all].sort((a, b) => b[metric] - a[metric] || b.count - a.count).slice(0, MAX_COMBOS);
  const images = r.images.filter((im) => sets.some((s) => s.images.includes(im.id)));
  const setSize = new Map(
    images.map((im) => [im.id, all.filter((s) => s.images.includes(im.id)).reduce((a, s) => a + s.bytes, 0)]),
  );
  const left = 380;
  const top = 230;
  const colW = 26;
  const rowH = 22;
  const W = left + sets.length * colW + 20;
  const H = top + images.length * rowH + 20;
  const x = scaleBand<number>()
    .domain(sets.map((_, i) => i))
    .range([left, left + sets.length * colW])
    .padding(0.2);
  const y = scaleLinear()
    .domain([0, Math.max(1, ...sets.map((s) => s[metric]))])
    .range([top - 10, 70]);
  const sx = scaleLinear()
    .domain([0, Math.max(1, ...setSize.values())])
    .range([0, 110]);
  return (
    <figure className="chart">
      <figcaption>
        Each column is a combination of images that hold the same content (a shared inode and its duplicates);
        bars show{' '}
        <label>
          <select
            aria-label="Bar measure"
            value={metric}
            onChange={(e) => setMetric(e.target.value as 'saved' | 'bytes')}
          >
            <option value="saved">bytes saved by sharing</option>
            <option value="bytes">bytes of content (one copy)</option>
          </select>
        </label>
        . Left bars: content per image. Click a column (or focus it and press Enter) for its files.{' '}
        <ExportButtons target={svg} name="sharemap-overlap" />{' '}
        <CsvButton
          name="sharemap-overlap.csv"
          build={() =>
            toCsv(
              ['images', 'contents', 'bytes', 'bytes_saved'],
              all.map((s) => [
                s.images.map((i) => r.images.find((x) => x.id === i)?.name ?? i).join(' & '),
                s.count,
                s.bytes,
                s.saved,
              ]),
            )
          }
        />
      </figcaption>
      <svg
        ref={svg}
        width={W}
        height={H}
        viewBox={`0 0 ${W} ${H}`}
        role="group"
        aria-label="UpSet chart of content shared across images"
        className="upset-svg"
      >
        {sets.map((s, i) => {
          const names = s.images.map((id) => r.images.find((q) => q.id === id)?.name ?? id).join(' ∩ ');
          return (
            <g
              key={i}
              className="upset-col"
              tabIndex={0}
              role="link"
              aria-label={`${names}: ${s.count} contents, ${formatBytes(s.bytes)}, saves ${formatBytes(s.saved)}`}
              data-images={s.images.join(',')}
              onClick={() => openSet(s.images)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  openSet(s.images);
                }
              }}
            >
              {/* The whole column (bar and dots) is the target. */}
              <rect x={x(i)} y={60} width={x.bandwidth()} height={H - 60} fill="transparent" />
              <rect
                x={x(i)}
                y={y(s[metric])}
                width={x.bandwidth()}
                height={top - 10 - y(s[metric])}
                className="bar"
              >
                <title>{`${names}\n${s.count} contents, ${formatBytes(s.bytes)}, saves ${formatBytes(s.saved)}`}</title>
              </rect>
              {sets.length <= 20 && (
                <text
                  transform={`translate(${x(i)! + x.bandwidth() / 2},${y(s[metric]) - 4}) rotate(-60)`}
                  className="bar-label"
                >
                  {formatBytes(s[metric])}
                </text>
              )}
            </g>
          );
        })}
        {images.map((im, j) => (
          <g key={im.id} transform={`translate(0,${top + j * rowH})`}>
            {j % 2 === 0 && (
              <rect x={left - 4} y={0} width={sets.length * colW + 8} height={rowH} className="stripe" />
            )}
            <text x={left - 8} y={rowH / 2} textAnchor="end" dominantBaseline="middle" className="set-label">
              {im.name}
            </text>
            <rect x={4} y={5} width={sx(setSize.get(im.id) ?? 0)} height={rowH - 10} className="set-bar">
              <title>{`${im.name}: ${formatBytes(setSize.get(im.id) ?? 0)} of overlapping content`}</title>
            </rect>
            {/* The set size written on its bar (not only on hover). */}
            <text
              x={8 + sx(setSize.get(im.id) ?? 0)}
              y={rowH / 2}
              dominantBaseline="middle"
              className="set-value"
              data-image={im.id}
              data-bytes={setSize.get(im.id) ?? 0}
            >
              {formatBytes(setSize.get(im.id) ?? 0)}
            </text>
            {sets.map((s, i) => (
              <circle
                key={i}
                cx={x(i)! + x.bandwidth() / 2}
                cy={rowH / 2}
                r={6}
                className={s.images.includes(im.id) ? 'dot on' : 'dot'}
              />
            ))}
          </g>
        ))}
        {sets.map((s, i) => {
          const js = images.map((im, j) => (s.images.includes(im.id) ? j : -1)).filter((j) => j >= 0);
          if (js.length < 2) return null;
          const cx = x(i)! + x.bandwidth() / 2;
          return (
            <line
              key={i}
              x1={cx}
              x2={cx}
              y1={top + js[0]! * rowH + rowH / 2}
              y2={top + js[js.length - 1]! * rowH + rowH / 2}
              className="dot-line"
            />
          );
        })}
      </svg>
    </figure>
  );
}
