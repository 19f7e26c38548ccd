/** Scenarios: the standard what-ifs with the change in savings each makes; apply one to see every view under it. */
import { useEffect } from 'react';
import { formatPercent } from '@sharemap/sharing';
import type { ReportHead } from '../lib/head';
import { Bytes, CsvButton, Loading, toCsv } from '../components/common';
import { useStore } from '../state/store';

export default function Scenarios({ head: r }: { head: ReportHead }) {
  const results = useStore((s) => s.scenarioResults);
  const scn = useStore((s) => s.v.scn);
  const setView = useStore((s) => s.setView);
  const load = useStore((s) => s.loadScenarios);
  useEffect(() => {
    load();
  }, [load, scn]);
  if (!results) return <Loading what="scenarios (computed in your browser)" />;
  return (
    <div>
      <p className="lead">
        Each scenario reruns the model on a changed input, on top of your current domain assignments
        {scn.length ? ' and applied scenarios' : ''}. Toggle one to apply it to every view.
      </p>
      <table className="grid scenarios-table">
        <caption>
          Current: <Bytes n={r.totals.bytesSaved} /> saved ({formatPercent(r.totals.percentSaved)}){' '}
          <CsvButton
            name="sharemap-scenarios.csv"
            build={() =>
              toCsv(
                ['id', 'title', 'bytes_without', 'bytes_with', 'bytes_saved', 'delta_bytes_saved'],
                results.map((s) => [
                  s.id,
                  s.title,
                  s.totals.bytesWithoutSharing,
                  s.totals.bytesWithSharing,
                  s.totals.bytesSaved,
                  s.deltaBytesSaved,
                ]),
              )
            }
          />
        </caption>
        <thead>
          <tr>
            <th scope="col">Apply</th>
            <th scope="col">Scenario</th>
            <th scope="col" className="num">
              With sharing
            </th>
            <th scope="col" className="num">
              Saved
            </th>
            <th scope="col" className="num">
              Δ saved
            </th>
          </tr>
        </thead>
        <tbody>
          {results.map((s) => {
            const on = scn.includes(s.id);
            return (
              <tr key={s.id} data-testid={`scenario-${s.id}`}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Apply ${s.title}`}
                    checked={on}
                    onChange={() =>
                      setView({ scn: on ? scn.filter((x) => x !== s.id) : [...scn, s.id] }, true)
                    }
                  />
                </td>
                <th scope="row">
                  {s.title}
                  <div className="muted small">{s.description}</div>
                </th>
                <td className="num">
                  <Bytes n={s.totals.bytesWithSharing} />
                </td>
                <td className="num">
                  <Bytes n={s.totals.bytesSaved} /> ({formatPercent(s.totals.percentSaved)})
                </td>
                <td
                  className={`num delta ${s.deltaBytesSaved > 0 ? 'up' : s.deltaBytesSaved < 0 ? 'down' : ''}`}
                >
                  <Bytes n={s.deltaBytesSaved} signed />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {scn.length > 0 && (
        <p>
          Applied: {scn.join(', ')}.{' '}
          <button type="button" className="btn small" onClick={() => setView({ scn: [] }, true)}>
            Clear scenarios
          </button>
        </p>
      )}
    </div>
  );
}
