/** Scenarios: the standard what-ifs with the change in savings each makes; apply one to see every view under it. */
import { useEffect, useState } from 'react';
import { formatPercent, WORKING_SET_SCENARIO_PREFIX } from '@sharemap/sharing';
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
      <WorkingSetSlider />
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
                [
                  'id',
                  'title',
                  'bytes_without',
                  'bytes_with',
                  'bytes_saved',
                  'delta_bytes_saved',
                  'delta_host_bytes',
                ],
                results.map((s) => [
                  s.id,
                  s.title,
                  s.totals.bytesWithoutSharing,
                  s.totals.bytesWithSharing,
                  s.totals.bytesSaved,
                  s.deltaBytesSaved,
                  s.deltaHostBytes ?? '',
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
            <th
              scope="col"
              className="num"
              title="Change in the host's page cache: file data + never-shared caches (R8)"
            >
              Δ host total
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
                <td className="num" data-testid="delta-host">
                  {s.deltaHostBytes === undefined ? '–' : <Bytes n={s.deltaHostBytes} signed />}
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

/** Any working-set fraction (`scn=working-set:<f>`, 0 < f <= 1): a slider, applied on demand. */
function WorkingSetSlider() {
  const scn = useStore((s) => s.v.scn);
  const setView = useStore((s) => s.setView);
  const current = scn.find((x) => x.startsWith(WORKING_SET_SCENARIO_PREFIX));
  const applied = current === undefined ? null : Number(current.slice(WORKING_SET_SCENARIO_PREFIX.length));
  const [fraction, setFraction] = useState(applied !== null && applied > 0 && applied <= 1 ? applied : 0.5);
  const id = `${WORKING_SET_SCENARIO_PREFIX}${fraction}`;
  return (
    <form
      className="toolbar"
      onSubmit={(e) => {
        e.preventDefault();
        setView({ scn: [...scn.filter((x) => !x.startsWith(WORKING_SET_SCENARIO_PREFIX)), id] }, true);
      }}
    >
      <label>
        Working set{' '}
        <input
          type="range"
          min={0.05}
          max={1}
          step={0.05}
          value={fraction}
          data-testid="working-set-slider"
          onChange={(e) => setFraction(Number(e.target.value))}
        />{' '}
        <output data-testid="working-set-value">{Math.round(fraction * 1000) / 10} %</output>
      </label>{' '}
      <button type="submit" className="btn small" disabled={current === id} data-testid="apply-working-set">
        {current === id ? 'Applied' : 'Apply'}
      </button>
      {applied !== null && <span className="muted small"> applied: {current}</span>}
    </form>
  );
}
