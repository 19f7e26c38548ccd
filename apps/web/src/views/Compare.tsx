/** Compare: this report (new) against a baseline report id: totals delta, files that stopped or started sharing. */
import { useEffect, useState } from 'react';
import { compareReports, formatPercent } from '@sharemap/sharing';
import type { EntityDelta, Report } from '@sharemap/sharing';
import { loadFullReport } from '../state/files';
import { Bytes, CsvButton, Empty, ErrorBox, Loading, toCsv } from '../components/common';
import { useStore } from '../state/store';
import { recentReports } from '../state/recent';

function idOf(s: string): string {
  const m = /\/r\/([A-Za-z0-9_-]+)/.exec(s);
  return (m ? m[1]! : s).trim();
}

export default function Compare({ report: r }: { report: Report }) {
  const base = useStore((s) => s.v.base);
  const reportId = useStore((s) => s.reportId);
  const setView = useStore((s) => s.setView);
  const [text, setText] = useState(base);
  const [baseReport, setBase] = useState<Report | null>(null);
  const [err, setErr] = useState('');
  useEffect(() => {
    setBase(null);
    setErr('');
    if (!base) return;
    loadFullReport(base).then(setBase, (e: Error) => setErr(e.message));
  }, [base]);
  const recent = recentReports().filter((x) => x.id !== reportId);
  const delta = baseReport ? compareReports(baseReport, r) : null;
  return (
    <div>
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setView({ base: idOf(text) }, true);
        }}
      >
        <label>
          Baseline report (id or link){' '}
          <input value={text} onChange={(e) => setText(e.target.value)} list="recent-reports" size={36} />
        </label>
        <datalist id="recent-reports">
          {recent.map((x) => (
            <option key={x.id} value={x.id}>
              {x.headline}
            </option>
          ))}
        </datalist>
        <button className="btn small" type="submit">
          Compare
        </button>
      </form>
      {!base && (
        <Empty>Pick a baseline (an earlier report) to see what this report gained or lost against it.</Empty>
      )}
      {base && !baseReport && !err && <Loading what="baseline" />}
      {err && <ErrorBox title="Cannot load the baseline" message={err} />}
      {delta && (
        <>
          <table className="grid">
            <thead>
              <tr>
                <th scope="col" />
                <th scope="col" className="num">
                  Baseline
                </th>
                <th scope="col" className="num">
                  This report
                </th>
                <th scope="col" className="num">
                  Δ
                </th>
              </tr>
            </thead>
            <tbody>
              {(['bytesWithoutSharing', 'bytesWithSharing', 'bytesSaved'] as const).map((k) => (
                <tr key={k}>
                  <th scope="row">
                    {k === 'bytesWithoutSharing'
                      ? 'Without sharing'
                      : k === 'bytesWithSharing'
                        ? 'With sharing'
                        : 'Saved'}
                  </th>
                  <td className="num">
                    <Bytes n={delta.totals.base[k]} />
                  </td>
                  <td className="num">
                    <Bytes n={delta.totals.next[k]} />
                  </td>
                  <td className="num">
                    <Bytes n={delta.totals.delta[k]} signed />
                  </td>
                </tr>
              ))}
              <tr>
                <th scope="row">Saved %</th>
                <td className="num">{formatPercent(delta.totals.base.percentSaved)}</td>
                <td className="num">{formatPercent(delta.totals.next.percentSaved)}</td>
                <td className="num">{delta.totals.delta.percentSaved.toFixed(1)} pt</td>
              </tr>
            </tbody>
          </table>
          <EntityTable caption="Images" testid="compare-images" rows={delta.images} />
          <EntityTable caption="Instances" testid="compare-instances" rows={delta.instances} />
          <p data-testid="compare-lost-gained">
            Bytes of savings lost <Bytes n={delta.bytesLost} />, gained <Bytes n={delta.bytesGained} />
            {delta.bytesLost + delta.bytesGained > 0
              ? ', file by file in the tables below.'
              : ': no file saves more or less than before.'}
          </p>
          {(['stoppedSharing', 'startedSharing', 'changedSharing'] as const).map((k) => (
            <table className="grid" key={k} data-testid={`compare-${k}`}>
              <caption>
                {k === 'stoppedSharing'
                  ? 'Stopped sharing'
                  : k === 'startedSharing'
                    ? 'Started sharing'
                    : 'Still sharing, saving more or less'}{' '}
                ({delta[k].length}){' '}
                <CsvButton
                  name={`sharemap-${k}.csv`}
                  build={() =>
                    toCsv(
                      ['image', 'path', 'saved_before', 'saved_after'],
                      delta[k].map((d) => [d.image, d.path, d.savedBefore, d.savedAfter]),
                    )
                  }
                />
              </caption>
              <thead>
                <tr>
                  <th scope="col">Image</th>
                  <th scope="col">Path</th>
                  <th scope="col" className="num">
                    Saved before
                  </th>
                  <th scope="col" className="num">
                    Saved after
                  </th>
                </tr>
              </thead>
              <tbody>
                {delta[k].slice(0, 200).map((d) => (
                  <tr key={d.image + d.path}>
                    <td>{d.image}</td>
                    <td>{d.path}</td>
                    <td className="num">
                      <Bytes n={d.savedBefore} />
                    </td>
                    <td className="num">
                      <Bytes n={d.savedAfter} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
        </>
      )}
    </div>
  );
}

/** Images or instances added, removed or changed between the two reports. */
function EntityTable({ caption, rows, testid }: { caption: string; rows: EntityDelta[]; testid: string }) {
  return (
    <table className="grid" data-testid={testid}>
      <caption>
        {caption}: {rows.filter((x) => x.change === 'added').length} added,{' '}
        {rows.filter((x) => x.change === 'removed').length} removed,{' '}
        {rows.filter((x) => x.change === 'changed').length} changed
      </caption>
      {rows.length > 0 && (
        <>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Change</th>
              <th scope="col" className="num">
                With sharing before
              </th>
              <th scope="col" className="num">
                With sharing after
              </th>
              <th scope="col" className="num">
                Without sharing before -&gt; after
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((x) => (
              <tr key={x.name} data-key={x.name}>
                <th scope="row">{x.name}</th>
                <td data-testid="change">{x.change}</td>
                <td className="num">{x.before ? <Bytes n={x.before.bytesWithSharing} /> : '–'}</td>
                <td className="num">{x.after ? <Bytes n={x.after.bytesWithSharing} /> : '–'}</td>
                <td className="num">
                  {x.before ? <Bytes n={x.before.bytesWithoutSharing} /> : '–'} -&gt;{' '}
                  {x.after ? <Bytes n={x.after.bytesWithoutSharing} /> : '–'}
                </td>
              </tr>
            ))}
          </tbody>
        </>
      )}
    </table>
  );
}
