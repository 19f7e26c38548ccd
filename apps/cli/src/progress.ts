/**
 * Progress reporting: a redrawn bar on a TTY, plain lines in CI logs and pipes (at most one
 * line per step and per 10 %), nothing when quiet.
 */
import { formatBytes } from '@sharemap/sharing';
import type { Out } from './io.js';

export interface Progress {
  /** A task of `total` bytes (or items) starts. */
  start(label: string, total: number): void;
  update(done: number): void;
  done(message?: string): void;
  /** A plain status line. */
  note(line: string): void;
}

export function createProgress(out: Out, opts: { quiet?: boolean; unit?: 'bytes' | 'files' } = {}): Progress {
  if (opts.quiet) return { start() {}, update() {}, done() {}, note() {} };
  const fmt = (n: number): string => (opts.unit === 'files' ? `${n} files` : formatBytes(n));
  let label = '';
  let total = 0;
  let lastDecile = -1;
  let lastDraw = 0;
  if (out.isTTY) {
    const width = Math.max(20, Math.min(40, (out.columns ?? 80) - 50));
    const draw = (done: number): void => {
      const f = total > 0 ? Math.min(1, done / total) : 0;
      const n = Math.round(f * width);
      out.write(
        `\r\x1b[2K${label} [${'#'.repeat(n)}${'.'.repeat(width - n)}] ${(f * 100).toFixed(0).padStart(3)} % ${fmt(done)}/${fmt(total)}`,
      );
    };
    return {
      start(l, t) {
        label = l;
        total = t;
        lastDraw = 0;
        draw(0);
      },
      update(done) {
        const now = Date.now();
        if (now - lastDraw < 100 && done < total) return;
        lastDraw = now;
        draw(done);
      },
      done(message) {
        out.write(`\r\x1b[2K${message ?? label}\n`);
      },
      note(line) {
        out.write(`${line}\n`);
      },
    };
  }
  return {
    start(l, t) {
      label = l;
      total = t;
      lastDecile = 0;
      out.write(`${label}: ${fmt(t)}\n`);
    },
    update(done) {
      if (total <= 0) return;
      const d = Math.floor((done / total) * 10);
      if (d > lastDecile && d < 10) {
        lastDecile = d;
        out.write(`${label}: ${d * 10} %\n`);
      }
    },
    done(message) {
      out.write(`${message ?? `${label}: done`}\n`);
    },
    note(line) {
      out.write(`${line}\n`);
    },
  };
}
