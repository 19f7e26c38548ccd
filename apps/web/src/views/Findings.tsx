/** Findings: errors first, each with its message, bytes and a link to the files involved. */
import type { ReportHead } from '../lib/head';
import { Bytes, Empty, ViewLink } from '../components/common';
import { RuleText } from '../components/Term';

const ORDER = { error: 0, warning: 1, info: 2 } as const;

export default function Findings({ head: r }: { head: ReportHead }) {
  if (r.findings.length === 0)
    return <Empty>No findings: every mount works and every shareable duplicate is shared.</Empty>;
  const list = [...r.findings].sort((a, b) => ORDER[a.severity] - ORDER[b.severity]);
  return (
    <ul className="findings">
      {list.map((f, k) => (
        <li key={k} className={`finding sev-${f.severity}`}>
          <span className={`badge ${f.severity}`}>{f.severity}</span> <code>{f.code}</code>
          {f.bytes !== undefined && (
            <>
              {' '}
              · <Bytes n={f.bytes} />
            </>
          )}
          <p>
            <RuleText text={f.message} />
          </p>
          {f.rows && f.rows.length > 0 && (
            <p className="small">
              <ViewLink to={{ view: 'files', sel: f.rows[0]!, q: '', status: '', inst: '', img: '' }}>
                First file involved
              </ViewLink>
              {f.rowCount && f.rowCount > 1 ? ` (of ${f.rowCount})` : ''}
            </p>
          )}
          {f.instanceIds && f.instanceIds.length > 0 && (
            <p className="small muted">Instances: {f.instanceIds.join(', ')}</p>
          )}
          {f.range && (
            <p className="small">
              With sharing between <Bytes n={f.range.min} /> and <Bytes n={f.range.max} />.
            </p>
          )}
        </li>
      ))}
    </ul>
  );
}
