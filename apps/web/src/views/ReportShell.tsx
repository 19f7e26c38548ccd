/** A report: headline bar, view tabs, and the selected view (heavy views lazy-loaded). */
import { lazy, Suspense, useEffect, useRef } from 'react';
import { headline } from '@sharemap/sharing';
import { selectReport, useStore } from '../state/store';
import { VIEWS, type ViewId } from '../state/url';
import { ErrorBox, Loading } from '../components/common';
import { Overview } from './Overview';
import { Instances } from './Instances';

const Graph = lazy(() => import('./Graph'));
const Overlap = lazy(() => import('./Overlap'));
const Files = lazy(() => import('./Files'));
const Findings = lazy(() => import('./Findings'));
const Scenarios = lazy(() => import('./Scenarios'));
const Compare = lazy(() => import('./Compare'));

export function ReportShell() {
  const status = useStore((s) => s.status);
  const error = useStore((s) => s.error);
  const reportId = useStore((s) => s.reportId);
  const report = useStore(selectReport);
  const view = useStore((s) => s.v.view);
  const setView = useStore((s) => s.setView);
  const computing = useStore((s) => s.computing);
  const live = useStore((s) => s.live);
  const liveError = useStore((s) => s.liveError);
  const v = useStore((s) => s.v);
  const tabs = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (report) document.title = `sharemap: ${headline(report)}`;
  }, [report]);

  if (status === 'loading' || status === 'idle') return <Loading what="report" />;
  if (status === 'error' || !report)
    return (
      <ErrorBox title={`Cannot open report ${reportId ?? ''}`} message={error ?? 'unknown error'}>
        <p>
          <a href="/">Back to start</a>
        </p>
      </ErrorBox>
    );

  const changed = Object.keys(v.dom).length + v.scn.length;
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
      <nav className="tabs" role="tablist" aria-label="Report views" ref={tabs} onKeyDown={onKey}>
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
        <span className="tab-spacer" />
        <button
          type="button"
          className="btn small"
          onClick={() => void navigator.clipboard?.writeText(location.href)}
          title="Copy a link to exactly this view"
        >
          Copy link
        </button>
      </nav>
      {(changed > 0 || computing || liveError) && (
        <div className={`whatif-bar${liveError ? ' error' : ''}`} role="status" aria-live="polite">
          {liveError
            ? `Recompute failed: ${liveError}`
            : computing
              ? 'Recomputing in the browser…'
              : live
                ? `What-if: ${Object.keys(v.dom).length} domain assignment(s), ${v.scn.length} scenario(s) applied; figures recomputed in your browser.`
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
          {view === 'overview' && <Overview report={report} />}
          {view === 'instances' && <Instances report={report} />}
          {view === 'graph' && <Graph report={report} />}
          {view === 'overlap' && <Overlap report={report} />}
          {view === 'files' && <Files report={report} />}
          {view === 'findings' && <Findings report={report} />}
          {view === 'scenarios' && <Scenarios report={report} />}
          {view === 'compare' && <Compare report={report} />}
        </Suspense>
      </section>
    </div>
  );
}
