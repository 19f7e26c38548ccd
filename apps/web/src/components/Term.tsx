/**
 * A term of the glossary (lib/glossary.ts) with its definition on hover and on keyboard focus:
 * a tooltip the word names with aria-describedby while it shows, and the word's aria-description
 * always, so screen readers read it too (a `title` alone is neither focusable nor reliably read). R-codes link to their entry in
 * the glossary at the foot of the report page.
 */
import { Fragment, useId, useState, type ReactNode } from 'react';
import { ruleEntry, TERMS, type GlossaryEntry, type TermKey } from '../lib/glossary';
import './glossary.css';

function jumpTo(id: string, e: React.MouseEvent) {
  const el = document.getElementById(`gl-${id}`);
  if (!el) return;
  e.preventDefault();
  const box = el.closest('details');
  if (box) box.open = true;
  el.scrollIntoView({ block: 'center' });
  el.focus();
}

function Defined({ entry, children, link }: { entry: GlossaryEntry; children: ReactNode; link: boolean }) {
  const tip = useId();
  const [open, setOpen] = useState(false);
  const description = `${entry.term}: ${entry.text}`;
  // The definition is the word's accessible description at all times (aria-description); the
  // visible tooltip exists only while the word is hovered or focused, so the page's text (copy,
  // search, a static report) holds each definition once, in the glossary.
  const word = {
    className: 'term-word',
    'aria-description': description,
    'aria-describedby': open ? tip : undefined,
  };
  return (
    <span
      className="term"
      data-term={entry.id}
      onMouseEnter={() => setOpen(true)}
      onMouseLeave={() => setOpen(false)}
      onFocus={() => setOpen(true)}
      onBlur={() => setOpen(false)}
      onKeyDown={(e) => {
        // Dismissible without moving focus or the pointer (WCAG 1.4.13).
        if (e.key === 'Escape' && open) {
          e.stopPropagation();
          setOpen(false);
        }
      }}
    >
      {link ? (
        <a {...word} href={`#gl-${entry.id}`} onClick={(e) => jumpTo(entry.id, e)}>
          {children}
        </a>
      ) : (
        <span {...word} tabIndex={0}>
          {children}
        </span>
      )}
      {open && (
        <span role="tooltip" id={tip} className="term-tip">
          <strong>{entry.term}</strong>: {entry.text}
        </span>
      )}
    </span>
  );
}

/** `<Term k="aops">aops</Term>`: the word as shown, defined by TERMS[k]. */
export function Term({ k, children }: { k: TermKey; children?: ReactNode }) {
  const entry = TERMS[k];
  return (
    <Defined entry={entry} link={false}>
      {children ?? entry.term}
    </Defined>
  );
}

/** One R-code ("R5"), linked to its explanation. */
export function Rule({ code }: { code: string }) {
  const entry = ruleEntry(code);
  if (!entry) return <>{code}</>;
  return (
    <Defined entry={entry} link>
      {code}
    </Defined>
  );
}

/** Text with every R-code in it (R1 .. R12, also in "R2-R6") shown as a Rule. */
export function RuleText({ text }: { text: string }) {
  const parts = text.split(/\b(R\d{1,2})\b/);
  if (parts.length === 1) return <>{text}</>;
  return (
    <>{parts.map((p, k) => (k % 2 === 1 ? <Rule key={k} code={p} /> : <Fragment key={k}>{p}</Fragment>))}</>
  );
}
