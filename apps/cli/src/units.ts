/** Parsing of sizes, fractions and integers given on the command line or in .sharemap.yml. */

const UNIT: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
};

/**
 * "4096", "10MiB", "1.5 GiB", "200 KB" -> bytes (integer). Binary units KiB/MiB/GiB/TiB (and
 * K/M/G/T), decimal units KB/MB/GB/TB. Returns null when the text is not a size.
 */
export function parseSize(text: string | number): number | null {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text >= 0 ? text : null;
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  if (!m) return null;
  const unit = UNIT[m[2]!.toLowerCase()];
  if (unit === undefined) return null;
  const v = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(v) ? v : null;
}

/** A non-negative integer in decimal. */
export function parseCount(text: string | number): number | null {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text >= 0 ? text : null;
  return /^\s*\d+\s*$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : null;
}

/** A number in [min, max]; "50%" is accepted as 0.5 when `percentAsFraction`. */
export function parseNumber(
  text: string | number,
  min: number,
  max: number,
  percentAsFraction = false,
): number | null {
  let v: number;
  if (typeof text === 'number') v = text;
  else {
    const t = text.trim();
    if (percentAsFraction && t.endsWith('%')) v = Number(t.slice(0, -1).trim()) / 100;
    else v = t === '' ? NaN : Number(t);
  }
  return Number.isFinite(v) && v >= min && v <= max ? v : null;
}
