/** The static report's page: the report views over the embedded report, no start page, no server. */
import { ReportShell } from '../views/ReportShell';
import { useStore } from '../state/store';

export function StaticApp() {
  const theme = useStore((s) => s.theme);
  const setTheme = useStore((s) => s.setTheme);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">
          <span className="logo" aria-hidden="true">
            ◧
          </span>{' '}
          sharemap
        </span>
        <span className="tagline">
          static report: the stored figures (what-if recomputes need a sharemap server)
        </span>
        <button
          type="button"
          className="btn small theme-toggle"
          aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
          onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
        >
          {theme === 'dark' ? '☀ Light' : '☾ Dark'}
        </button>
      </header>
      <main id="main">
        <ReportShell />
      </main>
    </>
  );
}
