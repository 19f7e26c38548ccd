/**
 * Manifests with paths that JSON escapes or that are not ASCII, for the tests of the byte paths
 * of `sharemap analyze` (path-bytes.test.ts: the readers; json-write.test.ts: the writer).
 */
import type { FileRecord, Manifest } from '@sharemap/erofs';

/** Paths JSON escapes (`"`, `\`, control characters) or that are UTF-8 beyond ASCII. */
export const ODD_PATHS = [
  '/a"quote',
  '/b\\back',
  '/c\x01\x1f\x7fctl',
  '/d\u00e9t\u00e9',
  '/f\u{1F600}',
  '/g\ttab\nnl',
];

/** A path with a lone surrogate: NDJSON can carry it (`"\ud800"`), UTF-8 and Parquet cannot. */
export const LONE_SURROGATE_PATH = '/e\ud800lone';

/** `m` with a regular file copied under each of `names` (records sorted by UTF-8 bytes, as manifests are). */
export function withPaths(m: Manifest, names: string[]): Manifest {
  const files: FileRecord[] = m.files.map((f) => ({ ...f }));
  const reg = files.find((f) => f.type === 'file' && f.fingerprint !== null)!;
  for (const path of names) files.push({ ...reg, path });
  files.sort((x, y) => Buffer.compare(Buffer.from(x.path), Buffer.from(y.path)));
  return { ...m, file_count: files.length, files };
}
