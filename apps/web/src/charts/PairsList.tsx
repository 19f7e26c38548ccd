/**
 * The sharing graph's pairs as a table under the graph and the matrix: the text fallback where
 * the graph's labels are hidden (narrow screens, styles.css phone block) and for screen readers.
 * Open at first on a narrow screen, collapsed on a wide one.
 */
import { useMemo, useState } from 'react';
import { formatInteger } from '@sharemap/sharing';
import type { Report } from '@sharemap/sharing';
import { Bytes } from '../components/common';
import { sharingPairs } from '../lib/pairs';

/** Rows shown before "and N more pairs" (a 200-instance fleet can have 20,000 pairs). */
export const PAIRS_LIST_LIMIT = 50;
/** The width at or below which the graph hides its labels (styles.css phone block). */
const NARROW = '(max-width: 640px)';

export function PairsList({ r }: { r: Report }) {
  const pairs = useMemo(() => sharingPairs(r), [r]);
  const [open] = useState(() => typeof matchMedia === 'function' && matchMedia(NARROW).matches);
  const shown = pairs.slice(0, PAIRS_LIST_LIMIT);
  return (
    <details className="chart-list" open={open} data-testid="pairs-list">
      <summary>
        As a list: {formatInteger(pairs.length)} pair{pairs.length === 1 ? '' : 's'} of instances that share
        page cache
      </summary>
      {pairs.length === 0 ? (
        <p className="muted">No two instances share page cache.</p>
      ) : (
        <table className="grid">
          <thead>
            <tr>
              <th scope="col">Instance</th>
              <th scope="col">Instance</th>
              <th scope="col" className="num">
                Shared
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((p) => (
              <tr key={`${p.a}.${p.b}`}>
                <td>{r.instances[p.a]!.label}</td>
                <td>{r.instances[p.b]!.label}</td>
                <td className="num">
                  <Bytes n={p.bytes} />
                </td>
              </tr>
            ))}
          </tbody>
          {pairs.length > shown.length && (
            <tfoot>
              <tr>
                <td colSpan={3} className="muted">
                  and {formatInteger(pairs.length - shown.length)} more pairs (the matrix shows them all)
                </td>
              </tr>
            </tfoot>
          )}
        </table>
      )}
    </details>
  );
}
