/**
 * The pasted mount configuration: its detected format (with an override), and a parse error
 * placed at the text: the line the parser names is shown highlighted (with a caret at its
 * column) under the textarea and selected in it.
 */
import { useEffect, useMemo, useRef } from 'react';
import { useStore } from '../../state/store';
import { detectedMountFormat } from '../../state/start';
import { FormatSelect } from './formats';

export function PasteConfig() {
  const pasted = useStore((s) => s.start.pasted);
  const format = useStore((s) => s.start.pastedFormat);
  const error = useStore((s) => s.start.pasteError);
  const busy = useStore((s) => s.start.busy);
  const setPasted = useStore((s) => s.setPasted);
  const setFormat = useStore((s) => s.setPastedFormat);
  const area = useRef<HTMLTextAreaElement>(null);
  const detected = useMemo(() => detectedMountFormat(pasted), [pasted]);
  const place = error?.place ?? null;
  const lines = pasted.split('\n');
  const badLine = place && place.line <= lines.length ? lines[place.line - 1]!.replace(/\r$/, '') : null;

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
      <label htmlFor="paste-config">Or paste a mount configuration (mountinfo, fstab, …)</label>
      <textarea
        id="paste-config"
        ref={area}
        value={pasted}
        onChange={(e) => setPasted(e.target.value)}
        rows={4}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? 'paste-error' : undefined}
        placeholder="/var/lib/images/base.img /run/images/base erofs ro,inode_share,domain_id=tenant-a 0 0"
      />
      {pasted.trim() !== '' && (
        <p className="paste-format small">
          <span data-testid="paste-format">
            {format === 'auto'
              ? detected
                ? `Read as ${detected} (detected)`
                : 'Format not detected: choose one'
              : `Read as ${format} (your choice)`}
          </span>{' '}
          <FormatSelect
            label="Format of the pasted configuration"
            detected={detected}
            value={format}
            disabled={busy}
            onChange={setFormat}
          />
        </p>
      )}
      {error && (
        <div id="paste-error" className="paste-error" role="alert" data-testid="paste-error">
          <span className="field-error">Pasted mount configuration: {error.message}</span>
          {place && badLine !== null && (
            <pre className="paste-excerpt" aria-label={`line ${place.line} of the pasted text`}>
              <span className="lineno">{place.line}</span>
              <mark data-testid="paste-error-line">{badLine}</mark>
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
