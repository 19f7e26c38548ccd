/**
 * Entry of the static report (report-template.html, built by vite.report.config.ts): the store
 * reads the report embedded in the page; the route is always that report, the query string
 * still holds the view (file:// allows query changes in place).
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { setReportSource, useStore } from '../state/store';
import { parseQuery } from '../state/url';
import { embeddedFiles, embeddedSummary } from './embedded';
import { StaticApp } from './StaticApp';
import '../styles.css';

/** The id the store keys the embedded report by (never sent anywhere). */
const EMBEDDED_ID = 'embedded';

setReportSource({
  summary: () => embeddedSummary(),
  files: () => embeddedFiles(),
  noLive:
    'this static report holds the stored figures only; what-if recomputes and comparisons need a sharemap server',
});

const store = useStore;
store.setState({
  route: { page: 'report', id: EMBEDDED_ID },
  syncFromLocation() {
    store.setState({ v: parseQuery(location.search) });
    store.getState().recompute();
  },
});
document.documentElement.dataset.theme = store.getState().theme;
window.addEventListener('popstate', () => store.getState().syncFromLocation());
void store.getState().loadReport(EMBEDDED_ID);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StaticApp />
  </StrictMode>,
);
