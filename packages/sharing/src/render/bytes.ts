/** Byte formatting: binary units (KiB, MiB, GiB, TiB), exact byte counts always available. */

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

export interface FormatBytesOptions {
  /** Decimals for scaled units; default 1. */
  decimals?: number;
  /** Append the exact count: "7.3 MiB (7,602,176 bytes)". */
  exact?: boolean;
}

/** Thousands-separated integer, locale-independent: 7602176 -> "7,602,176". */
export function formatInteger(n: number): string {
  const sign = n < 0 ? '-' : '';
  const digits = String(Math.abs(Math.trunc(n)));
  let out = '';
  for (let end = digits.length; end > 0; end -= 3)
    out = digits.slice(Math.max(0, end - 3), end) + (out ? ',' + out : '');
  return sign + out;
}

/** 1023 -> "1023 B", 7602176 -> "7.3 MiB"; negative values keep their sign. */
export function formatBytes(bytes: number, opts: FormatBytesOptions = {}): string {
  const decimals = opts.decimals ?? 1;
  const abs = Math.abs(bytes);
  let text: string;
  if (abs < 1024) text = `${bytes} B`;
  else {
    let v = abs;
    let u = -1;
    while (v >= 1024 && u < UNITS.length - 1) {
      v /= 1024;
      u++;
    }
    text = `${bytes < 0 ? '-' : ''}${v.toFixed(decimals)} ${UNITS[u]}`;
  }
  return opts.exact && abs >= 1024 ? `${text} (${formatInteger(bytes)} bytes)` : text;
}

/** "12.3 %" with one decimal. */
export function formatPercent(p: number): string {
  return `${p.toFixed(1)} %`;
}

/** Fingerprint values as people read them (re-exported here for the CLI's light `@sharemap/sharing/format` entry). */
export { formatFingerprint } from './fingerprint.js';
