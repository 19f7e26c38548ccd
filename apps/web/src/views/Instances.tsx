/** Instances and domains: effective inode_share (or why not), aops class, domain assignment with live recompute. */
import { Term } from '../components/Term';
import { useState } from 'react';
import type { ReportHead } from '../lib/head';
import { Bytes, CostHeads, CsvButton, toCsv, ViewLink } from '../components/common';
import { MeasureChoice } from '../components/MeasureToggle';
import { imageName, instanceState } from '../lib/derive';
import { useStore } from '../state/store';

const LABEL_RE = /^[^?\s][^\s]{0,63}$/;

function DomainEditor({
  id,
  current,
  known,
  options,
}: {
  id: string;
  current: string;
  known: boolean;
  options: string[];
}) {
  const dom = useStore((s) => s.v.dom);
  const setView = useStore((s) => s.setView);
  const [text, setText] = useState(dom[id] ?? current);
  const [err, setErr] = useState('');
  const apply = (label: string) => {
    const l = label.trim();
    if (l === (dom[id] ?? current)) return;
    if (!LABEL_RE.test(l)) {
      setErr('1-64 characters, no spaces, not starting with ?');
      return;
    }
    setErr('');
    setView({ dom: { ...dom, [id]: l } }, true);
  };
  return (
    <span className="domain-editor">
      <input
        aria-label={`Domain of ${id}`}
        data-testid={`domain-${id}`}
        list="domain-labels"
        value={text}
        placeholder={known ? '' : 'unknown: assign'}
        size={10}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => e.key === 'Enter' && apply(text)}
        onBlur={() => text && apply(text)}
      />
      {dom[id] !== undefined && (
        <button
          type="button"
          className="btn small"
          aria-label={`Undo domain change of ${id}`}
          onClick={() => {
            const d = { ...dom };
            delete d[id];
            setText(current);
            setView({ dom: d }, true);
          }}
        >
          ↺
        </button>
      )}
      {err && (
        <span className="field-error" role="alert">
          {err}
        </span>
      )}
      {options.length === 0 && null}
    </span>
  );
}

export function Instances({ head: r }: { head: ReportHead }) {
  const names = imageName(r);
  const stored = useStore((s) => s.head);
  const inputLoading = useStore((s) => s.inputStatus === 'loading');
  // Measure "measured": fair shares of the measured working set (model/cost.ts), when the report has them.
  const measuredFair = useStore((s) => s.v.measure) === 'measured' ? r.cost?.measured : undefined;
  const labels = [
    ...new Set(
      [...(stored?.domains ?? []), ...r.domains].map((d) => d.label).filter((l) => !l.startsWith('?')),
    ),
  ];
  return (
    <div>
      <p className="lead">
        Each instance is one mounted superblock (the unit of page cache). Mount tables never show
        <code> domain_id</code>, so assign domains here: the figures recompute in your browser
        {inputLoading ? ' (loading the analysis input…)' : ''}.
      </p>
      <datalist id="domain-labels">
        {labels.map((l) => (
          <option key={l} value={l} />
        ))}
      </datalist>
      <table className="grid instances-table">
        <caption>
          {r.instances.length} instances in {r.domains.length} domain{r.domains.length === 1 ? '' : 's'}{' '}
          {r.cost?.measured && <MeasureChoice />}{' '}
          <CsvButton
            name="sharemap-instances.csv"
            build={() =>
              toCsv(
                [
                  'id',
                  'label',
                  'image',
                  'source',
                  'backing',
                  'domain',
                  'inode_share',
                  'state',
                  'bytes_without',
                  'bytes_with',
                  'bytes_saved',
                  measuredFair ? 'measured_fair_share_bytes' : 'fair_share_bytes',
                  'host_bytes',
                ],
                r.instances.map((i) => {
                  const t = r.perInstance[i.id];
                  return [
                    i.id,
                    i.label,
                    names.get(i.imageId) ?? i.imageId,
                    i.source,
                    i.backing,
                    i.domain?.label ?? '',
                    String(i.inodeShare.effective),
                    instanceState(i).text,
                    t?.bytesWithoutSharing ?? 0,
                    t?.bytesWithSharing ?? 0,
                    t?.bytesSaved ?? 0,
                    (measuredFair ?? r.cost)?.perInstance[i.id]?.fairBytes ?? '',
                    r.cost?.perInstance[i.id]?.hostBytes ?? '',
                  ];
                }),
              )
            }
          />
        </caption>
        <thead>
          <tr>
            <th scope="col">Instance</th>
            <th scope="col">Image</th>
            <th scope="col">Backing</th>
            <th scope="col">
              <Term k="domain">Domain</Term>
            </th>
            <th scope="col">
              <Term k="inodeShare" />
            </th>
            <th scope="col">
              <Term k="aops">aops</Term>
            </th>
            <th scope="col" className="num">
              Cached
            </th>
            <CostHeads measured={measuredFair !== undefined} />
            <th scope="col" className="num" title="The first instance to read a shared page pays all of it">
              Saved (first member pays)
            </th>
          </tr>
        </thead>
        <tbody>
          {r.instances.map((i) => {
            const st = instanceState(i);
            const t = r.perInstance[i.id];
            const c = r.cost?.perInstance[i.id];
            const classes = r.instanceAops[i.id] ?? [];
            return (
              <tr key={i.id} data-testid={`instance-${i.id}`}>
                <th scope="row">
                  <ViewLink to={{ view: 'files', inst: i.id, img: '', status: '', sel: -1 }}>
                    {i.label}
                  </ViewLink>
                  <div className="muted small">
                    {i.id} · {i.source}
                    {i.origin ? ` · ${i.origin.file}${i.origin.line ? `:${i.origin.line}` : ''}` : ''}
                  </div>
                </th>
                <td>{names.get(i.imageId) ?? i.imageId}</td>
                <td>{i.backing === 'bdev' ? 'block device' : 'file-backed'}</td>
                <td>
                  {i.options.inodeShare ? (
                    <DomainEditor
                      id={i.id}
                      current={i.domain?.label ?? ''}
                      known={i.domain !== null}
                      options={labels}
                    />
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
                <td>
                  <span className={st.ok ? 'badge ok' : 'badge off'}>{st.ok ? 'on' : 'off'}</span>{' '}
                  <span className="small">{st.text}</span>
                </td>
                <td>
                  {classes.length ? (
                    classes.join(', ')
                  ) : (
                    <span className="muted">{i.backing === 'bdev' ? 'block' : 'file-backed'}</span>
                  )}
                </td>
                <td className="num">
                  <Bytes n={t?.bytesWithoutSharing ?? 0} />
                </td>
                <td className="num" data-testid={`fair-${i.id}`}>
                  {c ? <Bytes n={(measuredFair?.perInstance[i.id] ?? c).fairBytes} /> : '–'}
                </td>
                <td className="num" data-testid={`host-${i.id}`}>
                  {c ? <Bytes n={c.hostBytes} /> : '–'}
                </td>
                <td className="num" data-testid={`saved-${i.id}`}>
                  <Bytes n={t?.bytesSaved ?? 0} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <h3>Domains</h3>
      <ul className="domains">
        {r.domains.map((d) => (
          <li key={d.label}>
            <strong>{d.label}</strong>
            {d.unknown ? ' (unknown: worst case, alone)' : ''}: {d.instanceIds.join(', ')} · saved{' '}
            <Bytes n={r.perDomain[d.label]?.bytesSaved ?? 0} />
          </li>
        ))}
      </ul>
    </div>
  );
}
