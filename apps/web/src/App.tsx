import { useStore } from './state/store';
import { Start } from './views/Start';
import { ReportShell } from './views/ReportShell';

export function App() {
  const route = useStore((s) => s.route);
  const theme = useStore((s) => s.theme);
  const setTheme = useStore((s) => s.setTheme);
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
          <span className="logo" aria-hidden="true">◧</span> sharemap
        </a>
        <span className="tagline">page-cache sharing of EROFS images under inode_share</span>
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

