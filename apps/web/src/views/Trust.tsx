/**
 * Trust: the threat model of the deployment (docs/trust.md) for the people who sign it off:
 * the publisher x publisher matrix (a cell leads to the files behind it, in the Files view
 * filtered to the cell), the per-domain narrative, what each image's fingerprints are bound to,
 * lifetime, boundary breaks, the trust policy's result and the trust findings. Every statement
 * shows its rule and leads to the files behind it.
 */
import { FINGERPRINT_BINDINGS, formatInteger, partyLabels } from '@sharemap/sharing';
import type { TrustModel, TrustStatement } from '@sharemap/sharing';
import type { ReportHead } from '../lib/head';
import { Bytes, Empty, ViewLink } from '../components/common';
import './trust.css';

/** Finding codes the Trust view lists (the rest are about memory, not trust). */
const TRUST_FINDINGS: readonly string[] = [
  'fingerprint-mismatch',
  'fingerprint-unverifiable',
  'mixed-publishers',
  'cross-domain-key-collision',
];
const FILES_RESET = { q: '', status: '' as const, inst: '', img: '', sel: -1 };

function Statement({ s }: { s: TrustStatement }) {
  return (
    <li className="trust-statement">
      {s.text} <span className="badge rule">{s.rule}</span>
      {s.rowCount !== undefined && s.rowCount > 0 && s.rows && s.rows.length > 0 && (
        <span className="small">
          {' '}
          <ViewLink to={{ view: 'files', ...FILES_RESET, tc: '', sel: s.rows[0]! }}>
            {s.rowCount > 1 ? `first of ${formatInteger(s.rowCount)} files` : 'the file'}
          </ViewLink>
          {s.examples && s.examples.length > 0 && <span className="muted"> ({s.examples.join(', ')})</span>}
        </span>
      )}
    </li>
  );
}

function Matrix({ t }: { t: TrustModel }) {
  const label = partyLabels(t);
  const suppliers = [...new Set(t.matrix.map((c) => c.supplier))].sort();
  const readers = [...new Set(t.matrix.map((c) => c.reader))].sort();
  if (t.matrix.length === 0)
    return (
      <Empty>No shared inode has members from more than one image: no image reads another's pages.</Empty>
    );
  const at = new Map(t.matrix.map((c) => [`${c.supplier}>${c.reader}`, c]));
  return (
    <table className="grid trust-matrix" data-testid="trust-matrix">
      <caption>
        Pages published by (row) are read by instances of (column): bytes and files (R5, R12). A cell leads to
        its files.
      </caption>
      <thead>
        <tr>
          <th scope="col">published by \ read by</th>
          {readers.map((r) => (
            <th key={r} scope="col">
              {label.get(r) ?? r}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {suppliers.map((s) => (
          <tr key={s}>
            <th scope="row">{label.get(s) ?? s}</th>
            {readers.map((r) => {
              const c = at.get(`${s}>${r}`);
              if (!c)
                return (
                  <td key={r} className="muted">
                    -
                  </td>
                );
              return (
                <td
                  key={r}
                  data-testid="trust-cell"
                  data-supplier={label.get(s) ?? s}
                  data-reader={label.get(r) ?? r}
                  data-bytes={c.bytes}
                  data-files={c.files}
                >
                  <ViewLink
                    to={{ view: 'files', ...FILES_RESET, tc: `${s}>${r}` }}
                    title={`${formatInteger(c.bytes)} bytes in ${formatInteger(c.files)} files (${formatInteger(c.inodes)} shared inodes) in ${c.domains.join(', ')}`}
                  >
                    <Bytes n={c.bytes} /> · {formatInteger(c.files)} files
                  </ViewLink>
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export default function Trust({ head }: { head: ReportHead }) {
  const t = head.trust;
  if (!t)
    return (
      <Empty>
        This report has no trust model (it was made before sharemap computed one): create it again to see who
        can affect whose pages.
      </Empty>
    );
  const imageName = new Map(t.fingerprints.map((f) => [f.imageId, f.name]));
  const findings = head.findings.filter((f) => TRUST_FINDINGS.includes(f.code as string));
  return (
    <div className="trust" data-testid="trust-view">
      {t.policy && (
        <section className={`trust-policy ${t.policy.passed ? 'ok' : 'failed'}`} data-testid="trust-policy">
          <h2>
            Trust policy: {t.policy.passed ? 'passed' : 'failed'}{' '}
            <code>{JSON.stringify(t.policy.policy)}</code>
          </h2>
          <ul>
            {t.policy.checks.map((c) => (
              <li key={c.id}>
                <span className={`badge ${c.ok ? 'info' : 'error'}`}>{c.ok ? 'ok' : 'failed'}</span>{' '}
                <code>{c.id}</code>: {c.message} <span className="badge rule">{c.ruleRef}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section>
        <h2>Who can affect whose pages</h2>
        <Matrix t={t} />
        {t.domains.map((d) => (
          <div key={d.label} className="trust-domain" data-testid={`trust-domain-${d.label}`}>
            <h3>
              Domain {d.label}
              {d.unknown ? ' (unknown)' : ''}
            </h3>
            <ul>
              {d.statements.map((s, k) => (
                <Statement key={k} s={s} />
              ))}
            </ul>
          </div>
        ))}
        {t.domains.length === 0 && <Empty>No instance shares: no image can affect another (R2).</Empty>}
        <h3>Images each instance trusts implicitly</h3>
        <ul>
          {t.instances
            .filter((i) => i.trustsImplicitly.length > 0)
            .map((i) => (
              <li key={i.id}>
                <strong>{i.label}</strong> ({imageName.get(i.imageId) ?? i.imageId}, domain {i.domain ?? '-'})
                trusts {i.trustsImplicitly.map((x) => imageName.get(x) ?? x).join(', ')}
                {i.reads.length > 0 && (
                  <>
                    ; reads{' '}
                    {i.reads.map((r, k) => (
                      <span key={r.imageId}>
                        {k > 0 ? '; ' : ''}
                        {formatInteger(r.files)} files (<Bytes n={r.bytes} />) from{' '}
                        {imageName.get(r.imageId) ?? r.imageId}
                      </span>
                    ))}
                  </>
                )}{' '}
                <span className="badge rule">R12, docs/format.md#shared-runtime</span>
              </li>
            ))}
        </ul>
      </section>
      <section>
        <h2>What the fingerprints are bound to</h2>
        <table className="grid trust-fingerprints">
          <thead>
            <tr>
              <th scope="col">image</th>
              <th scope="col">publisher</th>
              {FINGERPRINT_BINDINGS.map((b) => (
                <th key={b} scope="col">
                  {b}
                </th>
              ))}
              <th scope="col">no fingerprint</th>
            </tr>
          </thead>
          <tbody>
            {t.fingerprints.map((f) => (
              <tr key={f.imageId}>
                <th scope="row">{f.name}</th>
                <td>{f.publisher ?? 'unknown'}</td>
                {FINGERPRINT_BINDINGS.map((b) => (
                  <td key={b} className={f.counts[b] > 0 && b !== 'content-bound' ? 'warn' : ''}>
                    {formatInteger(f.counts[b])}
                  </td>
                ))}
                <td>{formatInteger(f.none)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <ul>
          {t.fingerprints.flatMap((f) =>
            f.statements
              .filter((s) => s.binding !== undefined && s.binding !== 'content-bound')
              .map((s, k) => <Statement key={`${f.imageId}-${k}`} s={s} />),
          )}
        </ul>
        <h3>Boundary breaks</h3>
        {t.boundaryBreaks.length === 0 ? (
          <p className="muted">No key is shared across domains (R4, R11).</p>
        ) : (
          <ul>
            {t.boundaryBreaks.map((b, k) => (
              <li key={k} className="finding sev-error">
                <code>{b.code}</code>: {b.message} <span className="badge rule">R4, R11</span>
                {b.rows.length > 0 && (
                  <span className="small">
                    {' '}
                    <ViewLink to={{ view: 'files', ...FILES_RESET, tc: '', sel: b.rows[0]! }}>
                      first of {formatInteger(b.rowCount)} files
                    </ViewLink>
                  </span>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section>
        <h2>Lifetime</h2>
        <ul>
          {t.lifetime.statements.map((s, k) => (
            <Statement key={k} s={s} />
          ))}
        </ul>
      </section>
      <section>
        <h2>Trust findings</h2>
        {findings.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <ul className="findings">
            {findings.map((f, k) => (
              <li key={k} className={`finding sev-${f.severity}`}>
                <span className={`badge ${f.severity}`}>{f.severity}</span> <code>{f.code}</code>
                <p>{f.message}</p>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
