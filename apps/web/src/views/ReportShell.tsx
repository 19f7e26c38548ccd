/** A report: headline bar, view tabs, and the selected view (heavy views lazy-loaded). */
import { Glossary } from '../components/Glossary';
import { lazy, Suspense, useEffect, useRef, useState, type ReactNode } from 'react';
import { formatBytes, formatInteger } from '@sharemap/sharing';
import type { Report } from '@sharemap/sharing';
import { headlineOf } from '../lib/head';
import { selectHead, selectReport, useStore } from '../state/store';
import { VIEWS, type ViewId } from '../state/url';
import { unresolvedText } from '../state/start';
import { ErrorBox, Loading } from '../components/common';
import { Overview } from './Overview';
import { Instances } from './Instances';

const Graph = lazy(() => import('./Graph'));
const Overlap = lazy(() => import('./Overlap'));
const Files = lazy(() => import('./Files'));
const Findings = lazy(() => import('./Findings'));
const Scenarios = lazy(() => import('./Scenarios'));
const Compare = lazy(() => import('./Compare'));
const Trust = lazy(() => import('./Trust'));

export function ReportShell() {
  const status = useStore((s) => s.status);
  const error = useStore((s) => s.error);
  const reportId = useStore((s) => s.reportId);
  const head = useStore(selectHead);
  /** The stored report's head while a what-if shows a recomputed one: the "before" of its deltas. */
  const before = useStore((s) => (s.live ? s.head : null));
  const report = useStore(selectReport);
  const filesStatus = useStore((s) => s.filesStatus);
  const filesError = useStore((s) => s.filesError);
  const view = useStore((s) => s.v.view);
  const setView = useStore((s) => s.setView);
  const computing = useStore((s) => s.computing);
  const live = useStore((s) => s.live);
  const liveError = useStore((s) => s.liveError);
  const v = useStore((s) => s.v);
  const tabs = useRef<HTMLDivElement>(null);
  // Mounts of the configurations that named no uploaded image: said once, on the report just made.
  const unresolved = useStore((s) =>
    s.start.created?.id === s.reportId ? unresolvedText(s.start.created) : null,
  );
  /** What "Copy link" did: confirmed in words (a click with no visible effect looks broken). */
  const [copied, setCopied] = useState('');
  const copyLink = () => {
    const done = navigator.clipboard
      ? navigator.clipboard.writeText(location.href)
      : Promise.reject(new Error('no clipboard'));
    done.then(
      () => setCopied('Link copied'),
      () => setCopied('Cannot copy here: copy the address bar'),
    );
  };

  useEffect(() => {
    if (head) document.title = `sharemap: ${headlineOf(head)}`;
  }, [head]);

  if (status === 'loading' || status === 'idle') return <Loading what="report" />;
  if (status === 'error' || !head)
    return (
      <ErrorBox title={`Cannot open report ${reportId ?? ''}`} message={error ?? 'unknown error'}>
        <p>
          <a href="/">Back to start</a>
        </p>
      </ErrorBox>
    );

  const changed = Object.keys(v.dom).length + v.scn.length;
  /** Views over the per-file parts wait for them (they load in the background). */
  const withFiles = (render: (r: Report) => ReactNode): ReactNode =>
    report ? (
      render(report)
    ) : filesStatus === 'error' ? (
      <ErrorBox title="Cannot load the file table" message={filesError ?? 'unknown error'} />
    ) : (
      <div data-testid="files-loading">
        <Loading what={`the file table (${formatInteger(head.fileRows)} rows)`} />
      </div>
    );
  const onKey = (e: React.KeyboardEvent) => {
    const i = VIEWS.findIndex((x) => x.id === view);
    let j = -1;
    if (e.key === 'ArrowRight') j = (i + 1) % VIEWS.length;
    else if (e.key === 'ArrowLeft') j = (i - 1 + VIEWS.length) % VIEWS.length;
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = VIEWS.length - 1;
    if (j >= 0) {
      e.preventDefault();
      setView({ view: VIEWS[j]!.id }, true);
      (tabs.current?.querySelectorAll('[role=tab]')[j] as HTMLElement | undefined)?.focus();
    }
  };
  return (
    <div className="report">
      {/* The tablist holds tabs only (ARIA tablist: no other children); on a narrow screen it
          collapses into the "View" menu beside it (styles.css, phone block). */}
      <div className="tabs-bar">
        <div className="tabs" role="tablist" aria-label="Report views" ref={tabs} onKeyDown={onKey}>
          {VIEWS.map((t) => (
            <button
              key={t.id}
              role="tab"
              type="button"
              id={`tab-${t.id}`}
              aria-selected={view === t.id}
              aria-controls="view-panel"
              tabIndex={view === t.id ? 0 : -1}
              className={view === t.id ? 'tab active' : 'tab'}
              onClick={() => setView({ view: t.id as ViewId }, true)}
            >
              {t.label}
            </button>
          ))}
        </div>
        <label className="view-menu">
          View{' '}
          <select
            value={view}
            data-testid="view-menu"
            onChange={(e) => setView({ view: e.target.value as ViewId }, true)}
          >
            {VIEWS.map((t) => (
              <option key={t.id} value={t.id}>
                {t.label}
              </option>
            ))}
          </select>
        </label>
        <span className="tab-spacer" />
        <span className="muted small" role="status" aria-live="polite" data-testid="copy-status">
          {copied}
        </span>
        <button
          type="button"
          className="btn small"
          onClick={copyLink}
          title="Copy a link to exactly this view"
        >
          Copy link
        </button>
      </div>
      {unresolved && (
        <p className="notice" role="status" data-testid="unresolved-mounts">
          {unresolved}
        </p>
      )}
      {(changed > 0 || computing || liveError) && (
        <div className={`whatif-bar${liveError ? ' error' : ''}`} role="status" aria-live="polite">
          {liveError
            ? `Recompute failed: ${liveError}`
            : computing
              ? 'Recomputing in the browser…'
              : live
                ? `What-if: ${Object.keys(v.dom).length} domain assignment(s), ${v.scn.length} scenario(s) applied${v.scn.length ? ` (${v.scn.join(', ')})` : ''}; figures recomputed in your browser${before ? `: with sharing ${formatBytes(before.totals.bytesWithSharing)} -> ${formatBytes(head.totals.bytesWithSharing)}` : ''}.`
                : 'Loading the analysis input…'}
          {changed > 0 && (
            <button type="button" className="btn small" onClick={() => setView({ dom: {}, scn: [] }, true)}>
              Reset to stored report
            </button>
          )}
        </div>
      )}
      <section
        id="view-panel"
        role="tabpanel"
        aria-labelledby={`tab-${view}`}
        className="panel"
        data-view={view}
      >
        <Suspense fallback={<Loading what="view" />}>
          {view === 'overview' && <Overview head={head} base={before} />}
          {view === 'instances' && <Instances head={head} />}
          {view === 'graph' && withFiles((r) => <Graph report={r} />)}
          {view === 'overlap' && withFiles((r) => <Overlap report={r} />)}
          {view === 'files' && withFiles((r) => <Files report={r} />)}
          {view === 'findings' && <Findings head={head} />}
          {view === 'scenarios' && <Scenarios head={head} />}
          {view === 'compare' && withFiles((r) => <Compare report={r} />)}
          {view === 'trust' && <Trust head={head} />}
        </Suspense>
      </section>
      <Glossary />
    </div>
  );
}
