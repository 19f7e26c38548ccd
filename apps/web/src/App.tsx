import { useStore } from './state/store';
import { ThemeToggle } from './components/ThemeToggle';
import { Start } from './views/Start';
import { ReportShell } from './views/ReportShell';

export function App() {
  const route = useStore((s) => s.route);
  const navigate = useStore((s) => s.navigate);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <a
          className="brand"
          href="/"
          onClick={(e) => {
            e.preventDefault();
            navigate('/');
          }}
        >
          <span className="logo" aria-hidden="true">
            ◧
          </span>{' '}
          sharemap
        </a>
        <span className="tagline">page-cache sharing of EROFS images under inode_share</span>
        <ThemeToggle />
      </header>
      <main id="main">
        {route.page === 'start' && <Start />}
        {route.page === 'report' && <ReportShell />}
        {route.page === 'not-found' && (
          <div className="state empty">
            No such page. <a href="/">Start</a>
          </div>
        )}
      </main>
    </>
  );
}
