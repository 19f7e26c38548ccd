/**
 * util-linux `fincore -J`: `{"fincore": [{"res": "20K", "pages": 5, "size": "19.5K", "file": "a"}]}`.
 * `pages` is the number of resident pages (mincore(2) over the file); `res` = pages x page
 * size. Without `-b` (`--bytes`) res and size are rounded human sizes ("19.5K") and only the
 * page count is exact; with `-b` both are numbers of bytes, which gives the page size
 * (res / pages) and the exact file size. Columns chosen with `-o` may add or drop keys (e.g.
 * `--cachestat`'s dirty/evicted pages on Linux >= 6.5): `file` and `pages` are required.
 */
import { LocatedJson, checkRecordCount, pageCount } from './text.js';
import { MAX_RESIDENT_PAGES } from './limits.js';
import type { ResidencyData, ResidencyRecord } from './types.js';

export function parseFincoreJson(text: string, file = 'fincore.json'): ResidencyData {
  const json = new LocatedJson(text, file);
  const root = json.value;
  if (root === null || typeof root !== 'object' || Array.isArray(root))
    json.fail('', 'expected an object with "fincore" (the output of fincore -J)');
  const list = (root as Record<string, unknown>)['fincore'];
  if (!Array.isArray(list)) json.fail('', '"fincore" must be an array');
  const items = list as unknown[];
  checkRecordCount(items.length, file, 1);
  const records: ResidencyRecord[] = [];
  let pageSize: number | undefined;
  items.forEach((item, k) => {
    const ptr = `/fincore/${k}`;
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      json.fail(ptr, 'record must be an object');
    const rec = item as Record<string, unknown>;
    const path = rec['file'];
    if (typeof path !== 'string' || path === '')
      json.fail(`${ptr}/file`, '"file" must be a non-empty string');
    const pages = pageCount(rec['pages'], MAX_RESIDENT_PAGES);
    if (pages === null) json.fail(`${ptr}/pages`, '"pages" must be a whole number of resident pages');
    const r: ResidencyRecord = {
      path: path as string,
      residentPages: pages as number,
      origin: { file, ...json.at(`${ptr}/file`) },
    };
    // -b: exact bytes. Human sizes ("19.5K") are rounded and carry no size.
    const size = rec['size'];
    if (typeof size === 'number') {
      if (!Number.isInteger(size) || size < 0)
        json.fail(`${ptr}/size`, '"size" must be a whole number of bytes');
      r.size = size;
    }
    const res = rec['res'];
    if (typeof res === 'number' && (pages as number) > 0) {
      const ps = res / (pages as number);
      if (!Number.isInteger(ps) || ps < 512 || (ps & (ps - 1)) !== 0)
        json.fail(`${ptr}/res`, `"res" (${res}) is not "pages" (${pages as number}) times a page size`);
      if (pageSize !== undefined && ps !== pageSize)
        json.fail(`${ptr}/res`, `page size ${ps} differs from ${pageSize} of an earlier record`);
      pageSize = ps;
    }
    records.push(r);
  });
  const out: ResidencyData = { format: 'fincore-json', file, records };
  if (pageSize !== undefined) out.pageSize = pageSize;
  return out;
}
