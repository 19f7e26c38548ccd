/** Serialising a manifest: the NDJSON form (header line, one record per line) and the JSON form. */
import type { Manifest, ManifestHeader } from './manifest-types.js';

export function manifestHeader(m: Manifest): ManifestHeader {
  const h: ManifestHeader = {
    kind: m.kind,
    version: m.version,
    image: m.image,
    superblock: m.superblock,
    hashed: m.hashed,
    file_count: m.files.length,
  };
  if (m.predicted) h.predicted = m.predicted;
  return h;
}

/** NDJSON form: the header line, then one record per line; every line ends with "\n". */
export function* manifestToNdjson(m: Manifest): Generator<string> {
  yield JSON.stringify(manifestHeader(m)) + '\n';
  for (const f of m.files) yield JSON.stringify(f) + '\n';
}

/** JSON form: `{ ...header, files: [...] }`. */
export function manifestToJson(m: Manifest, space?: number): string {
  return JSON.stringify({ ...manifestHeader(m), files: m.files }, null, space);
}
