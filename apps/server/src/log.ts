/** Structured logs: one JSON object per line on stdout (errors on stderr). */
import type { LogLevel } from './config.js';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(
  level: LogLevel = 'info',
  sink?: (line: string, level: LogLevel) => void,
): Logger {
  const min = ORDER[level];
  const write =
    sink ??
    ((line: string, lvl: LogLevel) => {
      (lvl === 'error' || lvl === 'warn' ? process.stderr : process.stdout).write(line + '\n');
    });
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < min) return;
    const rec: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, msg, ...fields };
    if (rec.err instanceof Error) {
      const e = rec.err;
      rec.err = { name: e.name, message: e.message, stack: e.stack };
    }
    write(JSON.stringify(rec), lvl);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
