/** Small shared pieces: byte figures with exact hover, states (loading, empty, error), links. */
import { formatBytes, formatInteger } from '@sharemap/sharing';
import type { ReactNode } from 'react';
import { useStore } from '../state/store';
import type { ViewState } from '../state/url';
import { formatQuery } from '../state/url';
import { Term } from './Term';

/** "7.3 MiB" with the exact byte count on hover and for screen readers. */
export function Bytes({ n, signed = false }: { n: number; signed?: boolean }) {
  const text = formatBytes(n);
  return (
    <span className="bytes" title={`${formatInteger(n)} bytes`} data-bytes={n}>
      {signed && n > 0 ? '+' : ''}
      {text}
    </span>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <div className="state loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state empty">{children}</div>;
}

export function ErrorBox({
  title,
  message,
  children,
}: {
  title: string;
  message: string;
  children?: ReactNode;
}) {
  return (
    <div className="state error" role="alert">
      <strong>{title}</strong>
      <pre className="error-message">{message}</pre>
      {children}
    </div>
  );
}

/** An in-app link to a view state of the current report: real href (copyable), client-side navigation. */
export function ViewLink({
  to,
  children,
  className,
  title,
}: {
  to: Partial<ViewState>;
  children: ReactNode;
  className?: string;
  title?: string;
}) {
  const v = useStore((s) => s.v);
  const setView = useStore((s) => s.setView);
  const href = location.pathname + formatQuery({ ...v, ...to });
  return (
    <a
      href={href}
      className={className}
      title={title}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        setView(to, true);
        window.scrollTo(0, 0);
      }}
    >
      {children}
    </a>
  );
}

export function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The one CSV writer (packages/sharing): the server's export and the web's write the same way. */
export { toCsv } from '@sharemap/sharing';

export function CsvButton({ name, build }: { name: string; build: () => string }) {
  return (
    <button type="button" className="btn small" onClick={() => download(name, build(), 'text/csv')}>
      Export CSV
    </button>
  );
}

/** The two column heads of what an instance costs (model/cost.ts): its fair share and host cost. */
export function CostHeads({ measured = false }: { measured?: boolean }) {
  return (
    <>
      <th scope="col" className="num">
        <Term k="fairShare">{measured ? 'Fair share (measured)' : 'Fair share'}</Term>
      </th>
      <th scope="col" className="num">
        <Term k="hostCost">Host cost</Term>
      </th>
    </>
  );
}
