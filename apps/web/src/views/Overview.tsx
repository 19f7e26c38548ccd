/** Overview: the one-line answer first, then per domain, per instance, per image. */
import { formatBytes, formatPercent, isMounted } from '@sharemap/sharing';
import type { Totals } from '@sharemap/sharing';
import type { ReportHead } from '../lib/head';
import { Bytes, CsvButton, toCsv, ViewLink } from '../components/common';
import { imageName } from '../lib/derive';

function mountedCount(r: ReportHead): number {
  return r.instances.filter(isMounted).length;
}

/** A horizontal bar: with-sharing part and saved part of the without-sharing total, against `max`. */
function SavingBar({ t, max, label }: { t: Totals; max: number; label: string }) {
  const w = max > 0 ? (t.bytesWithSharing / max) * 100 : 0;
  const s = max > 0 ? (t.bytesSaved / max) * 100 : 0;
  return (
    <div
      className="savebar"
      role="img"
      aria-label={`${label}: ${formatBytes(t.bytesWithoutSharing)} without sharing, ${formatBytes(t.bytesWithSharing)} with, ${formatBytes(t.bytesSaved)} saved`}
    >
      <span className="seg with" style={{ width: `${w}%` }} />
      <span className="seg saved" style={{ width: `${s}%` }} />
    </div>
  );
}

function TotalsTable({
  rows,
  caption,
  kind,
}: {
  rows: { key: string; label: string; t: Totals; note?: string }[];
  caption: string;
  kind: 'inst' | 'dom' | 'img';
}) {
  const max = Math.max(1, ...rows.map((r) => r.t.bytesWithoutSharing));
  return (
    <table className="grid totals-table">
      <caption>
        {caption}{' '}
        <CsvButton
          name={`sharemap-${kind}.csv`}
          build={() =>
            toCsv(
              ['name', 'bytes_without_sharing', 'bytes_with_sharing', 'bytes_saved', 'percent_saved'],
              rows.map((r) => [
                r.label,
                r.t.bytesWithoutSharing,
                r.t.bytesWithSharing,
                r.t.bytesSaved,
                r.t.percentSaved.toFixed(2),
              ]),
            )
          }
        />
      </caption>
      <thead>
        <tr>
          <th scope="col">{kind === 'inst' ? 'Instance' : kind === 'dom' ? 'Domain' : 'Image'}</th>
          <th scope="col" className="num">
            Without sharing
          </th>
          <th scope="col" className="num">
            With
          </th>
          <th scope="col" className="num">
            Saved
          </th>
          <th scope="col" className="num">
            %
          </th>
          <th scope="col" className="barcol">
            <span className="sr-only">Bar</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key}>
            <th scope="row">
              {kind === 'inst' ? (
                <ViewLink to={{ view: 'files', inst: r.key, img: '', status: 'cached', sel: -1 }}>
                  {r.label}
                </ViewLink>
              ) : kind === 'img' ? (
                <ViewLink to={{ view: 'files', img: r.key, inst: '', status: 'cached', sel: -1 }}>
                  {r.label}
                </ViewLink>
              ) : (
                r.label
              )}
              {r.note && <span className="muted"> {r.note}</span>}
            </th>
            <td className="num">
              <Bytes n={r.t.bytesWithoutSharing} />
            </td>
            <td className="num">
              <Bytes n={r.t.bytesWithSharing} />
            </td>
            <td className="num">
              <Bytes n={r.t.bytesSaved} />
            </td>
            <td className="num">{formatPercent(r.t.percentSaved)}</td>
            <td className="barcol">
              <SavingBar t={r.t} max={max} label={r.label} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * Both measures when the report has residency data (docs/working-set.md): the static bound
 * (every file read) and the measured working set, each "without -> with, percent saved".
 */
function Measures({ head: r }: { head: ReportHead }) {
  const m = r.measured!;
  const pair = (t: Totals) =>
    `${formatBytes(t.bytesWithoutSharing)} -> ${formatBytes(t.bytesWithSharing)}, ${formatPercent(t.percentSaved)}`;
  const c = m.coverage;
  return (
    <p className="measures" data-testid="measures">
      static: <strong data-testid="measure-static">{pair(r.totals)}</strong>; measured:{' '}
      <strong data-testid="measure-measured">{pair(m.totals)}</strong>{' '}
      <span className="muted" data-testid="measure-coverage">
        (residency data for {c.filesWithData} of {c.files} files, {formatBytes(c.bytesWithData)} of{' '}
        {formatBytes(c.bytes)})
      </span>
    </p>
  );
}

/** Everything here comes from the report's head: it renders before the file table loads. */
export function Overview({ head: r }: { head: ReportHead }) {
  const t = r.totals;
  const n = mountedCount(r);
  const names = imageName(r);
  const top = r.topGroups;
  const errors = r.findings.filter((f) => f.severity === 'error').length;
  const warnings = r.findings.filter((f) => f.severity === 'warning').length;
  const base = { inst: '', img: '', q: '', sel: -1, view: 'files' as const };
  return (
    <div className="overview">
      <p className="headline" data-testid="headline">
        <ViewLink to={{ view: 'instances' }} className="num-link">
          <span data-testid="instances-count">{n}</span> instance{n === 1 ? '' : 's'}
        </ViewLink>
        ,{' '}
        <ViewLink
          to={{ ...base, status: 'cached', sort: '-size' }}
          className="num-link"
          title="Files in page cache without sharing"
        >
          <strong data-testid="bytes-without">
            <Bytes n={t.bytesWithoutSharing} />
          </strong>
        </ViewLink>{' '}
        of page cache without sharing,{' '}
        <ViewLink
          to={{ ...base, status: 'held', sort: '-cached' }}
          className="num-link"
          title="Files holding page cache with sharing"
        >
          <strong data-testid="bytes-with">
            <Bytes n={t.bytesWithSharing} />
          </strong>
        </ViewLink>{' '}
        with,{' '}
        <ViewLink
          to={{ ...base, status: 'saving', sort: '-saved' }}
          className="num-link saved"
          title="Files whose sharing saves memory"
        >
          <strong data-testid="bytes-saved">
            <Bytes n={t.bytesSaved} />
          </strong>{' '}
          saved
        </ViewLink>{' '}
        (<span data-testid="percent-saved">{formatPercent(t.percentSaved)}</span>)
      </p>
      {r.measured && <Measures head={r} />}
      <div className="big-bar">
        <SavingBar t={t} max={t.bytesWithoutSharing} label="All instances" />
        <div className="legend">
          <span>
            <i className="sw with" /> with sharing
          </span>
          <span>
            <i className="sw saved" /> saved by sharing
          </span>
          <span className="muted">
            page size {r.options.pageSize} B, working set {Math.round(r.options.workingSetFraction * 100)} %
          </span>
        </div>
      </div>
      {(r.bounds || r.orderBounds) && (
        <div className="callout">
          {r.bounds && (
            <p>
              Some instances have no known domain: memory with sharing lies between{' '}
              <Bytes n={r.bounds.best.bytesWithSharing} /> (all unknown instances in one domain) and{' '}
              <Bytes n={r.bounds.worst.bytesWithSharing} /> (each alone).{' '}
              <ViewLink to={{ view: 'instances' }}>Assign domains</ViewLink> to get one figure.
            </p>
          )}
          {r.orderBounds && (
            <p>
              Read order matters for some contents: with sharing between{' '}
              <Bytes n={r.orderBounds.best.bytesWithSharing} /> and{' '}
              <Bytes n={r.orderBounds.worst.bytesWithSharing} />.
            </p>
          )}
        </div>
      )}
      {r.findings.length > 0 && (
        <p>
          <ViewLink to={{ view: 'findings' }}>
            {errors} error{errors === 1 ? '' : 's'}, {warnings} warning{warnings === 1 ? '' : 's'}
          </ViewLink>{' '}
          in the findings.
        </p>
      )}
      <div className="two-col">
        <TotalsTable
          caption="Per domain"
          kind="dom"
          rows={Object.entries(r.perDomain).map(([k, t]) => ({
            key: k,
            label: k,
            t,
            note: r.domains.find((d) => d.label === k)?.unknown ? '(unknown)' : undefined,
          }))}
        />
        <TotalsTable
          caption="Per image"
          kind="img"
          rows={Object.entries(r.perImage).map(([k, t]) => ({ key: k, label: names.get(k) ?? k, t }))}
        />
      </div>
      <TotalsTable
        caption="Per instance"
        kind="inst"
        rows={r.instances.map((i) => ({
          key: i.id,
          label: i.label,
          t: r.perInstance[i.id] ?? zero,
          note: `${i.id} · ${names.get(i.imageId) ?? i.imageId}${i.domain ? ` · ${i.domain.label}` : ''}`,
        }))}
      />
      {top.length > 0 && (
        <table className="grid">
          <caption>Contents that save the most</caption>
          <thead>
            <tr>
              <th scope="col">First member</th>
              <th scope="col" className="num">
                Copies
              </th>
              <th scope="col">Domain</th>
              <th scope="col">aops</th>
              <th scope="col" className="num">
                Saved
              </th>
            </tr>
          </thead>
          <tbody>
            {top.map((g) => (
              <tr key={g.group.members[0]}>
                <td>
                  <ViewLink
                    to={{ view: 'files', sel: g.group.members[0]!, q: '', inst: '', img: '', status: '' }}
                  >
                    {g.file}
                  </ViewLink>
                </td>
                <td className="num">{g.group.members.length}</td>
                <td>{g.group.domain}</td>
                <td>{g.group.aops}</td>
                <td className="num">
                  <Bytes n={g.saved} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {r.unsharedCaches.length > 0 && (
        <details className="unshared">
          <summary>
            Page cache that never shares (R8): <Bytes n={r.unsharedCaches.reduce((a, u) => a + u.bytes, 0)} />
          </summary>
          <ul>
            {r.unsharedCaches.map((u, k) => (
              <li key={k}>
                {u.instanceId} {u.kind}: <Bytes n={u.bytes} /> <span className="muted">{u.note}</span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

const zero: Totals = {
  pagesWithoutSharing: 0,
  pagesWithSharing: 0,
  bytesWithoutSharing: 0,
  bytesWithSharing: 0,
  bytesSaved: 0,
  percentSaved: 0,
};
