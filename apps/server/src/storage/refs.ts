/** Is a blob named by any row? (The per-blob form of context.ts referencedBlobs.) */
import type { Db } from './db.js';

export function blobReferenced(db: Db, sha256: string): boolean {
  const hit = db
    .prepare(
      `SELECT 1 FROM images WHERE sha256 = @sha OR instr(devices, @quoted) > 0
       UNION ALL SELECT 1 FROM manifests WHERE blob = @sha
       UNION ALL SELECT 1 FROM reports WHERE @sha IN (blob, input_blob, summary_blob, files_blob)
       LIMIT 1`,
    )
    .get({ sha: sha256, quoted: `"${sha256}"` });
  return hit !== undefined;
}
