/**
 * "Measure: static | measured": which bytes the files table, the treemap and the graph show
 * (the `measure` URL parameter), and which fair shares the Instances view shows. Shown only when
 * the report has residency data (lib/measure.ts).
 */
import type { Report } from '@sharemap/sharing';
import { hasMeasuredRows } from '../lib/measure';
import { useStore } from '../state/store';
import type { Measure } from '../state/url';

const CHOICES: { id: Measure; label: string; title: string }[] = [
  { id: 'static', label: 'static', title: 'Every page of every file read (the static bound)' },
  {
    id: 'measured',
    label: 'measured',
    title: 'The pages the residency data found resident (docs/working-set.md)',
  },
];

export function MeasureToggle({ r }: { r: Report }) {
  return hasMeasuredRows(r) ? <MeasureChoice /> : null;
}

/** The buttons alone, for a view that decides itself whether the report has measured figures. */
export function MeasureChoice() {
  const measure = useStore((s) => s.v.measure);
  const setView = useStore((s) => s.setView);
  return (
    <span className="seg-buttons" role="group" aria-label="Measure" data-testid="measure-toggle">
      <span className="muted small">Measure: </span>
      {CHOICES.map((c) => (
        <button
          key={c.id}
          type="button"
          className={measure === c.id ? 'btn small active' : 'btn small'}
          aria-pressed={measure === c.id}
          title={c.title}
          onClick={() => setView({ measure: c.id }, true)}
        >
          {c.label}
        </button>
      ))}
    </span>
  );
}
