/** The glossary at the foot of a report page: every entry of lib/glossary.ts, the target of R-code links. */
import { GLOSSARY } from '../lib/glossary';
import './glossary.css';

export function Glossary() {
  return (
    <details className="glossary" id="glossary" data-testid="glossary">
      <summary>Glossary: the words of this page</summary>
      <dl>
        {GLOSSARY.map((e) => (
          <div key={e.id} id={`gl-${e.id}`} tabIndex={-1} className="glossary-entry">
            <dt>{e.term}</dt>
            <dd>{e.text}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}
