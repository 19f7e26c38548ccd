/** Parsing the Prometheus text format of GET /metrics for the tests. */

/** `name{a="1",b="2"}` with the labels sorted by name: one key per series. */
export function seriesKey(name: string, labels: Record<string, string> = {}): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

/** Every sample of a scrape by series key (comments and blank lines skipped). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const series = line.slice(0, space);
    const value = Number(line.slice(space + 1));
    const brace = series.indexOf('{');
    const name = brace < 0 ? series : series.slice(0, brace);
    const labels: Record<string, string> = {};
    // `a="1",b="2"`: label values here never hold `",` (routes, statuses, methods, outcomes).
    if (brace >= 0)
      for (const pair of series.slice(brace + 1, -2).split('",')) {
        const eq = pair.indexOf('="');
        labels[pair.slice(0, eq)] = pair.slice(eq + 2);
      }
    out.set(seriesKey(name, labels), value);
  }
  return out;
}

/** The difference of one series between two scrapes (absent counts as 0). */
export function delta(
  before: Map<string, number>,
  after: Map<string, number>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const k = seriesKey(name, labels);
  return (after.get(k) ?? 0) - (before.get(k) ?? 0);
}
