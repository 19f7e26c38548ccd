/**
 * Every EROFS image of testdata, for the tests that run a path of the reader over all of them
 * against another (in place vs copied, threads vs one, encoded vs stringified).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's testdata folder. */
export const TESTDATA = join(import.meta.dirname, '../../../testdata');

/** The folders of testdata that hold images: fixtures, synthetic and METABOX ones, OCI-built ones, hostile names. */
const IMAGE_FOLDERS = ['erofs', 'erofs/synthetic', 'erofs/metabox', 'oci', 'hostile'];

export interface RepositoryImage {
  /** Its path under testdata, e.g. `erofs/app.fp.img`. */
  name: string;
  path: string;
  /** Its extra devices, as its oracle (`.expected.json`) lists them; none without an oracle. */
  devices: string[];
}

/**
 * Every `.img` of the given folders of testdata (by default the image folders above), in name
 * order within each folder.
 */
export function repositoryImages(folders: readonly string[] = IMAGE_FOLDERS): RepositoryImage[] {
  const out: RepositoryImage[] = [];
  for (const sub of folders) {
    const dir = join(TESTDATA, sub);
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith('.img')) continue;
      let devices: string[] = [];
      try {
        const o = JSON.parse(readFileSync(join(dir, f.replace(/\.img$/, '.expected.json')), 'utf8')) as {
          devices?: string[];
        };
        devices = (o.devices ?? []).map((d) => join(dir, d));
      } catch {
        // no oracle: no extra devices
      }
      out.push({ name: `${sub}/${f}`, path: join(dir, f), devices });
    }
  }
  return out;
}
