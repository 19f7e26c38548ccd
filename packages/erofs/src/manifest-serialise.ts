/** Serialising a manifest: the NDJSON form (header line, one record per line) and the JSON form. */
import { manifestColumns } from './manifest-columns.js';
import type { Manifest, ManifestHeader } from './manifest-types.js';

export function manifestHeader(m: Manifest): ManifestHeader {
  const h: ManifestHeader = {
    kind: m.kind,
    version: m.version,
    image: m.image,
    superblock: m.superblock,
    hashed: m.hashed,
    // A columnar manifest's records are counted without making them.
    file_count: manifestColumns(m)?.n ?? m.files.length,
  };
  if (m.predicted) h.predicted = m.predicted;
  return h;
}

/** NDJSON form: the header line, then one record per line; every line ends with "\n". */
export function* manifestToNdjson(m: Manifest): Generator<string> {
  yield JSON.stringify(manifestHeader(m)) + '\n';
  const cols = manifestColumns(m);
  if (cols) for (let i = 0; i < cols.n; i++) yield JSON.stringify(cols.record(i)) + '\n';
  else for (const f of m.files) yield JSON.stringify(f) + '\n';
}

/** JSON form: `{ ...header, files: [...] }`. */
export function manifestToJson(m: Manifest, space?: number): string {
  return JSON.stringify({ ...manifestHeader(m), files: m.files }, null, space);
}
