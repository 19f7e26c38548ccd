/** What a manifest parse gave, as a value two readers' results can be compared by. */
import { ManifestError } from '../src/errors.js';
import { manifestToNdjson } from '../src/manifest.js';
import type { Manifest } from '../src/manifest-types.js';

/** The outcome of a parse: its NDJSON and records, or the error's message, line and field. */
export function parseOutcome(parse: () => Manifest): unknown {
  try {
    const m = parse();
    return { ok: true, ndjson: [...manifestToNdjson(m)].join(''), files: m.files };
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    return { ok: false, message: e.message, line: e.line, field: e.field };
  }
}
