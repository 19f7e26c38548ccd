/** The static report's page: the report views over the embedded report, no start page, no server. */
import { ReportShell } from '../views/ReportShell';
import { ThemeToggle } from '../components/ThemeToggle';

export function StaticApp() {
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
        <ThemeToggle />
      </header>
      <main id="main">
        <ReportShell />
      </main>
    </>
  );
}
