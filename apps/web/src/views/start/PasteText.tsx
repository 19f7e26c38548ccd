/**
 * A text pasted on the start page (a mount configuration, page-cache residency): the textarea,
 * a line saying which format it reads as, and a parse error placed at the text: the line the
 * parser names is shown highlighted (with a caret at its column) under the textarea and
 * selected in it.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import type { PasteError } from '../../state/start';

export function PasteText(props: {
  /** The textarea's id; also the prefix of the test ids ("paste-config" -> "paste-format"). */
  id: string;
  /** Prefix of the test ids: `${testid}-format`, `${testid}-error`, `${testid}-error-line`. */
  testid: string;
  label: string;
  /** What the error message starts with ("Pasted mount configuration"). */
  what: string;
  placeholder: string;
  text: string;
  setText(text: string): void;
  error: PasteError | null;
  /** The format line's content, shown once something is pasted. */
  format: ReactNode;
}) {
  const { id, testid, text, error } = props;
  const area = useRef<HTMLTextAreaElement>(null);
  const place = error?.place ?? null;
  const lines = text.split('\n');
  const badLine = place && place.line <= lines.length ? lines[place.line - 1]!.replace(/\r$/, '') : null;
  const errorId = `${id}-error`;

  useEffect(() => {
    // Select the offending line in the text, so the user edits right there.
    const t = area.current;
    if (!t || !place || badLine === null) return;
    const start = lines.slice(0, place.line - 1).reduce((n, l) => n + l.length + 1, 0);
    t.focus();
    t.setSelectionRange(start, start + badLine.length);
    // Only when a new error arrives (not on every keystroke): `error` is the only dependency.
  }, [error]);

  return (
    <div className="paste">
      <label htmlFor={id}>{props.label}</label>
      <textarea
        id={id}
        ref={area}
        value={text}
        onChange={(e) => props.setText(e.target.value)}
        rows={4}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
        placeholder={props.placeholder}
      />
      {text.trim() !== '' && <p className="paste-format small">{props.format}</p>}
      {error && (
        <div id={errorId} className="paste-error" role="alert" data-testid={`${testid}-error`}>
          <span className="field-error">
            {props.what}: {error.message}
          </span>
          {place && badLine !== null && (
            <pre className="paste-excerpt" aria-label={`line ${place.line} of the pasted text`}>
              <span className="lineno">{place.line}</span>
              <mark data-testid={`${testid}-error-line`}>{badLine}</mark>
              {place.column !== undefined && (
                <>
                  {'\n'}
                  <span className="lineno" />
                  {' '.repeat(Math.max(0, place.column - 1))}^ column {place.column}
                </>
              )}
            </pre>
          )}
        </div>
      )}
    </div>
  );
}
