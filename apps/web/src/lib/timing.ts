/**
 * Timings for tools (the web benchmark reads them with performance.getEntriesByType('measure')):
 * a User Timing measure from `start` to now. Never throws (older browsers lack the options form).
 */
export function timing(name: string, start: number, detail?: Record<string, number>): void {
  try {
    performance.measure(name, { start, end: performance.now(), detail });
  } catch {
    /* no User Timing Level 3 */
  }
}
