/**
 * `pcstat -json` (github.com/tobert/pcstat): one JSON array of
 * `{"filename", "size", "timestamp", "mtime", "pages", "cached", "uncached", "percent", "status"}`
 * where `pages` = the file's pages, `cached` = resident ones, and `status` the per-page
 * booleans with `-pps` (null or [] without). With `status`, its length must be `pages` and its
 * true entries `cached`: a disagreement means an edited or truncated file.
 */
import { MAX_RESIDENT_PAGES } from './limits.js';
import { LocatedJson, checkRecordCount, pageCount } from './text.js';
import type { ResidencyData, ResidencyRecord } from './types.js';

export function parsePcstatJson(text: string, file = 'pcstat.json'): ResidencyData {
  const json = new LocatedJson(text, file);
  const root = json.value;
  if (!Array.isArray(root)) json.fail('', 'expected an array of pcstat records (the output of pcstat -json)');
  const items = root as unknown[];
  checkRecordCount(items.length, file, 1);
  const records: ResidencyRecord[] = [];
  items.forEach((item, k) => {
    const ptr = `/${k}`;
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      json.fail(ptr, 'record must be an object');
    const rec = item as Record<string, unknown>;
    const path = rec['filename'];
    if (typeof path !== 'string' || path === '')
      json.fail(`${ptr}/filename`, '"filename" must be a non-empty string');
    const pages = pageCount(rec['pages'], MAX_RESIDENT_PAGES);
    if (pages === null) json.fail(`${ptr}/pages`, '"pages" must be a whole number of pages');
    const cached = pageCount(rec['cached'], MAX_RESIDENT_PAGES);
    if (cached === null) json.fail(`${ptr}/cached`, '"cached" must be a whole number of pages');
    if ((cached as number) > (pages as number))
      json.fail(`${ptr}/cached`, `"cached" (${cached as number}) exceeds "pages" (${pages as number})`);
    const size = rec['size'];
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0)
      json.fail(`${ptr}/size`, '"size" must be a whole number of bytes');
    const status = rec['status'];
    if (status !== null && status !== undefined) {
      if (!Array.isArray(status) || status.some((b) => typeof b !== 'boolean'))
        json.fail(`${ptr}/status`, '"status" must be an array of booleans (-pps)');
      const flags = status as boolean[];
      if (flags.length > 0) {
        if (flags.length !== pages)
          json.fail(`${ptr}/status`, `"status" has ${flags.length} pages, "pages" says ${pages as number}`);
        const trues = flags.reduce((a, b) => a + (b ? 1 : 0), 0);
        if (trues !== cached)
          json.fail(
            `${ptr}/status`,
            `"status" marks ${trues} pages cached, "cached" says ${cached as number}`,
          );
      }
    }
    records.push({
      path: path as string,
      residentPages: cached as number,
      size: size as number,
      origin: { file, ...json.at(`${ptr}/filename`) },
    });
  });
  return { format: 'pcstat-json', file, records };
}
