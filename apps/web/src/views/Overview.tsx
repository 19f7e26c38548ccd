/** Overview: the one-line answer first, then per domain, per instance, per container, per image. */
import { Rule, Term } from '../components/Term';
import { Pager, SortHead, TABLE_PAGE_ROWS, useTableView, type SortKeys } from '../components/TableView';
import {
  formatBytes,
  formatPercent,
  isMounted,
  measuredUpperText,
  measurePair,
  predictedNote,
} from '@sharemap/sharing';
import type { ContainerCost, ReportCost, Totals } from '@sharemap/sharing';
import { useMemo, type ReactNode } from 'react';
import type { ReportHead } from '../lib/head';
import { Bytes, CsvButton, toCsv, ViewLink } from '../components/common';
import { imageName } from '../lib/derive';
import { OciImages } from './OciImages';
import { useStore } from '../state/store';
import type { ViewState } from '../state/url';

function mountedCount(r: ReportHead): number {
  return r.instances.filter(isMounted).length;
}

/** Scenario ids the Overview offers as one click (packages/sharing scenarios.ts). */
const SCN_DIRECTIO = 'directio';
const SCN_LOOP_DIRECTIO = 'loop-directio';
const SCN_MERGE_UNKNOWN = 'merge-unknown';
const SCN_PER_PUBLISHER = 'domain-per-publisher';

/**
 * A horizontal bar of the without-sharing total, against `max`: with-sharing part, never-shared
 * part (R8: the backing file's cache, `extra`) and saved part.
 */
function SavingBar({ t, max, label, extra = 0 }: { t: Totals; max: number; label: string; extra?: number }) {
  const pct = (n: number) => (max > 0 ? (n / max) * 100 : 0);
  return (
    <div
      className="savebar"
      role="img"
      aria-label={`${label}: ${formatBytes(t.bytesWithoutSharing)} without sharing, ${formatBytes(t.bytesWithSharing)} with, ${formatBytes(t.bytesSaved)} saved${extra ? `, plus ${formatBytes(extra)} never shared` : ''}`}
    >
      <span className="seg with" style={{ width: `${pct(t.bytesWithSharing)}%` }} />
      {extra > 0 && <span className="seg unshared" style={{ width: `${pct(extra)}%` }} />}
      <span className="seg saved" style={{ width: `${pct(t.bytesSaved)}%` }} />
    </div>
  );
}

/** "before -> after (±delta)" of a byte figure, shown after a what-if. */
function Change({ before, after, testid }: { before: number; after: number; testid?: string }) {
  const d = after - before;
  return (
    <span className="change" data-testid={testid}>
      <Bytes n={before} /> -&gt; <Bytes n={after} />{' '}
      <span className="delta">
        (<Bytes n={d} signed />)
      </span>
    </span>
  );
}

interface Row {
  key: string;
  label: string;
  t: Totals;
  note?: string;
  /** Fair share and host cost (instances). */
  fair?: number;
  host?: number;
  /** The stored report's figure (before the what-if) of the row's cost. */
  before?: number;
}

/** Instances named in the summary of a long report. */
const SUMMARY_TOP = 5;

/**
 * A long report (more instances than a table page) opens on a summary: how many of what, the
 * instances that cost most and the domains that save most; the tables below are paginated.
 */
function LongSummary({ head: r }: { head: ReportHead }) {
  const cost = r.cost;
  const costOf = (id: string) => cost?.perInstance[id]?.fairBytes ?? r.perInstance[id]?.bytesWithSharing ?? 0;
  const costly = [...r.instances].sort((a, b) => costOf(b.id) - costOf(a.id)).slice(0, SUMMARY_TOP);
  const domains = Object.entries(r.perDomain)
    .sort((a, b) => b[1].bytesSaved - a[1].bytesSaved)
    .slice(0, SUMMARY_TOP);
  return (
    <section className="long-summary" data-testid="long-summary" aria-label="Summary">
      <h2>Summary</h2>
      <p>
        <span data-testid="summary-counts">
          {r.instances.length} instances in {Object.keys(r.perDomain).length} domains over {r.images.length}{' '}
          images
        </span>
        ; the tables below show {TABLE_PAGE_ROWS} rows at a time, sortable by any column.
      </p>
      <p data-testid="summary-costly">
        Costliest instances ({cost ? <Term k="fairShare">fair share</Term> : 'with sharing'}):{' '}
        {costly.map((i, k) => (
          <span key={i.id}>
            {k > 0 ? ', ' : ''}
            <ViewLink to={{ view: 'files', inst: i.id, img: '', status: 'cached', sel: -1 }}>
              {i.label}
            </ViewLink>{' '}
            <Bytes n={costOf(i.id)} />
          </span>
        ))}
        .
      </p>
      <p data-testid="summary-domains">
        <Term k="domain">Domains</Term> that save most:{' '}
        {domains.map(([label, t], k) => (
          <span key={label}>
            {k > 0 ? ', ' : ''}
            {label} <Bytes n={t.bytesSaved} />
          </span>
        ))}
        .
      </p>
    </section>
  );
}

/** Sort keys of the totals tables (components/TableView.tsx). */
const TOTALS_KEYS: SortKeys<Row> = {
  name: (r) => r.label,
  without: (r) => r.t.bytesWithoutSharing,
  fair: (r) => r.fair ?? -1,
  host: (r) => r.host ?? -1,
  with: (r) => r.t.bytesWithSharing,
  saved: (r) => r.t.bytesSaved,
  percent: (r) => r.t.percentSaved,
};

const CONTAINER_KEYS: SortKeys<ContainerCost> = {
  name: (c) => c.name,
  without: (c) => c.bytesWithoutSharing,
  with: (c) => c.bytesWithSharing,
  // The static fair share; ContainersTable puts the measured one here when it shows that.
  fair: (c) => c.fairBytes,
  host: (c) => c.hostBytes,
};

function TotalsTable({
  rows,
  caption,
  kind,
  withCost,
  whatIf,
}: {
  rows: Row[];
  caption: string;
  kind: 'inst' | 'dom' | 'img';
  withCost?: boolean;
  whatIf?: boolean;
}) {
  const max = Math.max(1, ...rows.map((r) => r.t.bytesWithoutSharing));
  const cost = withCost === true;
  const tv = useTableView(rows, TOTALS_KEYS);
  const name = kind === 'inst' ? 'Instance' : kind === 'dom' ? 'Domain' : 'Image';
  return (
    <>
      <table className="grid totals-table" data-testid={`table-${kind}`}>
        <caption>
          {caption}{' '}
          <CsvButton
            name={`sharemap-${kind}.csv`}
            build={() =>
              toCsv(
                [
                  'name',
                  'bytes_without_sharing',
                  'bytes_with_sharing',
                  'bytes_saved',
                  'percent_saved',
                  ...(cost ? ['fair_share_bytes', 'host_bytes'] : []),
                ],
                rows.map((r) => [
                  r.label,
                  r.t.bytesWithoutSharing,
                  r.t.bytesWithSharing,
                  r.t.bytesSaved,
                  r.t.percentSaved.toFixed(2),
                  ...(cost ? [r.fair ?? '', r.host ?? ''] : []),
                ]),
              )
            }
          />
        </caption>
        <thead>
          <tr>
            <SortHead
              t={tv}
              k="name"
              label={name}
              term={kind === 'dom' ? <Term k="domain">Domain</Term> : undefined}
            />
            <SortHead t={tv} k="without" label="Without sharing" num />
            {cost && (
              <>
                <SortHead
                  t={tv}
                  k="fair"
                  label="Fair share"
                  term={<Term k="fairShare">Fair share</Term>}
                  num
                />
                <SortHead t={tv} k="host" label="Host cost" term={<Term k="hostCost">Host cost</Term>} num />
              </>
            )}
            {whatIf && (
              <th scope="col" className="num">
                {cost ? 'Fair share before -> after' : 'With sharing before -> after'}
              </th>
            )}
            <SortHead
              t={tv}
              k="with"
              label={cost ? 'First member pays' : 'With'}
              term={cost ? <Term k="firstMember">First member pays</Term> : undefined}
              num
            />
            <SortHead t={tv} k="saved" label="Saved" num />
            <SortHead t={tv} k="percent" label="%" num />
            <th scope="col" className="barcol">
              <span className="sr-only">Bar</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {tv.visible.map((r) => (
            <tr key={r.key} data-key={r.key}>
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
              {cost && (
                <td className="num" data-testid="fair">
                  {r.fair === undefined ? '–' : <Bytes n={r.fair} />}
                </td>
              )}
              {cost && (
                <td className="num" data-testid="host">
                  {r.host === undefined ? '–' : <Bytes n={r.host} />}
                </td>
              )}
              {whatIf && (
                <td className="num" data-testid="row-change">
                  {r.before === undefined ? (
                    'added'
                  ) : (
                    <Change
                      before={r.before}
                      after={cost ? (r.fair ?? r.t.bytesWithSharing) : r.t.bytesWithSharing}
                    />
                  )}
                </td>
              )}
              <td className="num" data-testid="first-member">
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
      <Pager t={tv} what={kind === 'inst' ? 'instances' : kind === 'dom' ? 'domains' : 'images'} />
    </>
  );
}

/** Containers (overlay mounts above the instances): memory alone, and their fair share of the host's. */
function ContainersTable({ cost, labelOf }: { cost: ReportCost; labelOf: Map<string, string> }) {
  // Measure "measured" (the Instances and Files views' switch): fair shares of the measured working set.
  const measured = useStore((s) => s.v.measure) === 'measured' ? cost.measured : undefined;
  // The fair share shown (static or measured), by container name: the column sorts by it too.
  const { fairOf, keys } = useMemo(() => {
    const byName = measured ? new Map(measured.containers.map((x) => [x.name, x.fairBytes])) : null;
    const fairOf = (c: ContainerCost) => (byName ? (byName.get(c.name) ?? 0) : c.fairBytes);
    return { fairOf, keys: { ...CONTAINER_KEYS, fair: fairOf } };
  }, [measured]);
  const tv = useTableView(cost.containers, keys);
  return (
    <>
      <table className="grid containers-table" data-testid="table-containers">
        <caption>
          Per container (overlay mounts above the instances){' '}
          <CsvButton
            name="sharemap-containers.csv"
            build={() =>
              toCsv(
                [
                  'container',
                  'instances',
                  'bytes_without_sharing',
                  'bytes_with_sharing',
                  measured ? 'measured_fair_share_bytes' : 'fair_share_bytes',
                  'host_bytes',
                ],
                cost.containers.map((c) => [
                  c.name,
                  c.instanceIds.join(' '),
                  c.bytesWithoutSharing,
                  c.bytesWithSharing,
                  fairOf(c),
                  c.hostBytes,
                ]),
              )
            }
          />
        </caption>
        <thead>
          <tr>
            <SortHead t={tv} k="name" label="Container" />
            <th scope="col">Instances</th>
            <SortHead t={tv} k="without" label="Without sharing" num />
            <SortHead t={tv} k="with" label="With sharing (alone)" num />
            <SortHead
              t={tv}
              k="fair"
              label={measured ? 'Fair share (measured)' : 'Fair share'}
              term={<Term k="fairShare">{measured ? 'Fair share (measured)' : 'Fair share'}</Term>}
              num
            />
            <SortHead t={tv} k="host" label="Host cost" term={<Term k="hostCost">Host cost</Term>} num />
          </tr>
        </thead>
        <tbody>
          {tv.visible.map((c) => (
            <tr key={c.name} data-key={c.name}>
              <th scope="row">{c.name}</th>
              <td>{c.instanceIds.map((id) => labelOf.get(id) ?? id).join(', ')}</td>
              <td className="num">
                <Bytes n={c.bytesWithoutSharing} />
              </td>
              <td className="num">
                <Bytes n={c.bytesWithSharing} />
              </td>
              <td className="num" data-testid="fair">
                <Bytes n={fairOf(c)} />
              </td>
              <td className="num" data-testid="host">
                <Bytes n={c.hostBytes} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager t={tv} what="containers" />
    </>
  );
}

/** A button that applies one scenario (added to the URL's `scn`, recomputed in the browser). */
function ScenarioButton({ id, children, testid }: { id: string; children: ReactNode; testid: string }) {
  const scn = useStore((s) => s.v.scn);
  const setView = useStore((s) => s.setView);
  const on = scn.includes(id);
  return (
    <button
      type="button"
      className="btn small"
      data-testid={testid}
      disabled={on}
      onClick={() => setView({ scn: [...scn, id] }, true)}
    >
      {on ? 'Applied: ' : ''}
      {children}
    </button>
  );
}

/**
 * What the host's page cache really holds for these mounts: the image files' data with sharing
 * plus the page cache that never shares (R8), with the what-ifs that remove the backing files' cache.
 */
function HostTotal({ head: r, base }: { head: ReportHead; base: ReportHead | null }) {
  const host = r.cost!.host;
  const before = base?.cost?.host;
  return (
    <div className="host-total" data-testid="host-total">
      <p>
        <Term k="hostTotal">Host page cache</Term> for these mounts:{' '}
        <strong data-testid="host-with">
          <Bytes n={host.bytesWithSharing} />
        </strong>{' '}
        with sharing (
        <span data-testid="host-files">
          <Bytes n={r.totals.bytesWithSharing} />
        </span>{' '}
        of image files
        {host.backingFileBytes > 0 && (
          <>
            {' '}
            +{' '}
            <span data-testid="host-backing">
              <Bytes n={host.backingFileBytes} />
            </span>{' '}
            of backing-file cache
          </>
        )}
        {host.unsharedBytes > host.backingFileBytes && (
          <>
            {' '}
            + <Bytes n={host.unsharedBytes - host.backingFileBytes} /> of metadata
          </>
        )}
        ),{' '}
        <span data-testid="host-without">
          <Bytes n={host.bytesWithoutSharing} />
        </span>{' '}
        without.
        {before && before.bytesWithSharing !== host.bytesWithSharing && (
          <>
            {' '}
            Before -&gt; after:{' '}
            <Change before={before.bytesWithSharing} after={host.bytesWithSharing} testid="host-change" />
          </>
        )}
      </p>
      {host.backingFileBytes > 0 && (
        <p className="muted small">
          File-backed mounts without <code>directio</code> keep the raw image in the backing file
          system&apos;s page cache too (<Rule code="R8" />, never shared). Remove it:{' '}
          <ScenarioButton id={SCN_DIRECTIO} testid="apply-directio">
            mount with directio
          </ScenarioButton>{' '}
          <ScenarioButton id={SCN_LOOP_DIRECTIO} testid="apply-loop-directio">
            loop devices with direct I/O
          </ScenarioButton>
        </p>
      )}
    </div>
  );
}

/**
 * Both measures when the report has residency data (docs/working-set.md): the static bound
 * (every file read) and the measured working set, each "without -> with, percent saved", with
 * the measured figures' upper bound when coverage is partial.
 */
function Measures({ head: r }: { head: ReportHead }) {
  const m = r.measured!;
  const c = m.coverage;
  // The upper bound when coverage is partial: files without data fully resident.
  const upper = measuredUpperText(m);
  return (
    <p className="measures" data-testid="measures">
      static: <strong data-testid="measure-static">{measurePair(r.totals)}</strong>; measured:{' '}
      <strong data-testid="measure-measured">{measurePair(m.totals)}</strong>{' '}
      <span className="muted" data-testid="measure-coverage">
        (residency data for {c.filesWithData} of {c.files} files, {formatBytes(c.bytesWithData)} of{' '}
        {formatBytes(c.bytes)})
      </span>
      {upper && (
        <span className="muted" data-testid="measure-upper">
          ; {upper}
        </span>
      )}
    </p>
  );
}

/** A headline figure that links to the files behind it (Files view filtered and sorted). */
function FigureLink({
  status,
  sort,
  title,
  testid,
  bytes,
  saved = false,
}: {
  status: ViewState['status'];
  sort: string;
  title: string;
  testid: string;
  bytes: number;
  saved?: boolean;
}) {
  return (
    <ViewLink
      to={{ inst: '', img: '', q: '', sel: -1, view: 'files', status, sort }}
      className={saved ? 'num-link saved' : 'num-link'}
      title={title}
    >
      <strong data-testid={testid}>
        <Bytes n={bytes} />
      </strong>
      {saved ? ' saved' : ''}
    </ViewLink>
  );
}

/** Everything here comes from the report's head: it renders before the file table loads. */
export function Overview({ head: r, base = null }: { head: ReportHead; base?: ReportHead | null }) {
  const t = r.totals;
  const n = mountedCount(r);
  const names = imageName(r);
  const top = r.topGroups;
  const errors = r.findings.filter((f) => f.severity === 'error').length;
  const warnings = r.findings.filter((f) => f.severity === 'warning').length;
  const cost = r.cost;
  const unshared = cost?.host.unsharedBytes ?? r.unsharedCaches.reduce((a, u) => a + u.bytes, 0);
  /** Unknown domains whose ends differ: the headline gives the range itself (R11). */
  const range =
    r.bounds && r.bounds.best.bytesWithSharing !== r.bounds.worst.bytesWithSharing ? r.bounds : undefined;
  const labelOf = new Map(r.instances.map((i) => [i.id, i.label]));
  // Images predicted from OCI archives (docs/oci.md) are labelled so everywhere, as in the CLI.
  const predicted = predictedNote(r);
  const predictedIds = new Set(r.images.filter((i) => i.predicted).map((i) => i.id));
  return (
    <div className="overview">
      <p className="headline" data-testid="headline">
        <ViewLink to={{ view: 'instances' }} className="num-link">
          <span data-testid="instances-count">{n}</span> instance{n === 1 ? '' : 's'}
        </ViewLink>
        ,{' '}
        <FigureLink
          status="cached"
          sort="-size"
          title="Files in page cache without sharing"
          testid="bytes-without"
          bytes={t.bytesWithoutSharing}
        />{' '}
        of page cache without sharing,{' '}
        {range ? (
          <>
            <strong data-testid="range-with">
              <span data-testid="range-with-best">
                <Bytes n={range.best.bytesWithSharing} />
              </span>
              {' – '}
              <span data-testid="range-with-worst">
                <Bytes n={range.worst.bytesWithSharing} />
              </span>
            </strong>{' '}
            with,{' '}
            <strong data-testid="range-saved" className="saved-range">
              <Bytes n={range.worst.bytesSaved} />
              {' – '}
              <Bytes n={range.best.bytesSaved} />
            </strong>{' '}
            saved (
            <span data-testid="range-percent">
              {formatPercent(range.worst.percentSaved)} – {formatPercent(range.best.percentSaved)}
            </span>
            ), depending on the unknown domains
          </>
        ) : (
          <>
            <FigureLink
              status="held"
              sort="-cached"
              title="Files holding page cache with sharing"
              testid="bytes-with"
              bytes={t.bytesWithSharing}
            />{' '}
            with,{' '}
            <FigureLink
              status="saving"
              sort="-saved"
              title="Files whose sharing saves memory"
              testid="bytes-saved"
              bytes={t.bytesSaved}
              saved
            />{' '}
            (<span data-testid="percent-saved">{formatPercent(t.percentSaved)}</span>)
          </>
        )}
      </p>
      {predicted && (
        <p className="callout" data-testid="predicted-note">
          {predicted}
        </p>
      )}
      {base && (
        <p className="whatif-delta" data-testid="whatif-delta">
          What-if, before -&gt; after: with sharing{' '}
          <Change before={base.totals.bytesWithSharing} after={t.bytesWithSharing} testid="change-with" />,
          saved <Change before={base.totals.bytesSaved} after={t.bytesSaved} testid="change-saved" />
          {base.totals.bytesWithoutSharing !== t.bytesWithoutSharing && (
            <>
              , without sharing{' '}
              <Change
                before={base.totals.bytesWithoutSharing}
                after={t.bytesWithoutSharing}
                testid="change-without"
              />
            </>
          )}
          .
        </p>
      )}
      {cost && <HostTotal head={r} base={base} />}
      {r.measured && <Measures head={r} />}
      <div className="big-bar">
        <SavingBar t={t} max={t.bytesWithoutSharing + unshared} label="All instances" extra={unshared} />
        <div className="legend">
          <span>
            <i className="sw with" /> with sharing
          </span>
          {unshared > 0 && (
            <span>
              <i className="sw unshared" /> never shared (backing-file cache, R8)
            </span>
          )}
          <span>
            <i className="sw saved" /> saved by sharing
          </span>
          <span className="muted">
            page size {r.options.pageSize} B, working set{' '}
            {Math.round(r.options.workingSetFraction * 1000) / 10} %
          </span>
        </div>
      </div>
      {(r.bounds || r.orderBounds) && (
        <div className="callout">
          {r.bounds && (
            <p data-testid="unknown-domains">
              Some instances have no known <Term k="domain" />: memory with sharing lies between{' '}
              <Bytes n={r.bounds.best.bytesWithSharing} /> (best placement) and{' '}
              <Bytes n={r.bounds.worst.bytesWithSharing} /> (worst); the tables put each alone.{' '}
              <ViewLink to={{ view: 'instances' }}>Assign domains</ViewLink> to get one figure, or try:{' '}
              <ScenarioButton id={SCN_MERGE_UNKNOWN} testid="apply-merge-unknown">
                all unknown instances in one domain
              </ScenarioButton>{' '}
              <ScenarioButton id={SCN_PER_PUBLISHER} testid="apply-per-publisher">
                one domain per publisher
              </ScenarioButton>
            </p>
          )}
          {r.orderBounds && (
            <p>
              <Term k="readOrder">Read order</Term> matters for some contents: with sharing between{' '}
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
      {r.instances.length > TABLE_PAGE_ROWS && <LongSummary head={r} />}
      <div className="two-col">
        <TotalsTable
          caption="Per domain"
          kind="dom"
          whatIf={base !== null}
          rows={Object.entries(r.perDomain).map(([k, t]) => ({
            key: k,
            label: k,
            t,
            note: r.domains.find((d) => d.label === k)?.unknown ? '(unknown)' : undefined,
            before: base?.perDomain[k]?.bytesWithSharing,
          }))}
        />
        <TotalsTable
          caption="Per image"
          kind="img"
          whatIf={base !== null}
          rows={Object.entries(r.perImage).map(([k, t]) => ({
            key: k,
            label: names.get(k) ?? k,
            t,
            ...(predictedIds.has(k) ? { note: '(predicted)' } : {}),
            before: base?.perImage[k]?.bytesWithSharing,
          }))}
        />
      </div>
      <TotalsTable
        caption={
          cost
            ? 'Per instance: what it costs (fair share: each shared page divided among its members; first member pays: the old view)'
            : 'Per instance'
        }
        kind="inst"
        withCost={cost !== undefined}
        whatIf={base !== null}
        rows={r.instances.map((i) => {
          const c = cost?.perInstance[i.id];
          const row: Row = {
            key: i.id,
            label: i.label,
            t: r.perInstance[i.id] ?? zero,
            note: `${i.id} · ${names.get(i.imageId) ?? i.imageId}${i.domain ? ` · ${i.domain.label}` : ''}`,
          };
          if (c) {
            row.fair = c.fairBytes;
            row.host = c.hostBytes;
          }
          if (base) {
            const b = base.cost?.perInstance[i.id]?.fairBytes ?? base.perInstance[i.id]?.bytesWithSharing;
            if (b !== undefined) row.before = b;
          }
          return row;
        })}
      />
      {cost && cost.containers.length > 0 && <ContainersTable cost={cost} labelOf={labelOf} />}
      {top.length > 0 && (
        <table className="grid">
          <caption>Contents that save the most</caption>
          <thead>
            <tr>
              <th scope="col">
                <Term k="firstMember">First member</Term>
              </th>
              <th scope="col" className="num">
                Copies
              </th>
              <th scope="col">
                <Term k="domain">Domain</Term>
              </th>
              <th scope="col">
                <Term k="aops">aops</Term>
              </th>
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
            Page cache that never shares (R8): <Bytes n={unshared} />
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
      <OciImages images={r.images} />
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
