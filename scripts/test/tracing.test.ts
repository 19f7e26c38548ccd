/**
 * docs/development.md "Tracing a number" names, hop by hop, the files, functions and routes
 * between a figure on screen and the rule behind it. This test reads that section and checks
 * every hop still exists: each file named, each function defined in one of the files the
 * section names (kernel functions, `erofs_*`, live in docs/format.md instead), each route
 * declared by the server. A refactor that moves a hop fails here until the section follows.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The section's text: from its heading to the next level-2 heading. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) return '';
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

interface Hops {
  files: string[];
  functions: string[];
  routes: string[];
}

/** Backticked repository files, `name()` calls and `GET /api/...` routes of a text. */
function hopsOf(text: string): Hops {
  const files = new Set<string>();
  const functions = new Set<string>();
  const routes = new Set<string>();
  for (const m of text.matchAll(/`([^`\n]+)`/g)) {
    const t = m[1]!;
    if (/^(?:apps|packages|scripts|bench|e2e)\/[\w./-]+\.(?:ts|tsx|mjs)$/.test(t)) files.add(t);
    else if (/^[A-Za-z_$][\w$]*\(\)$/.test(t)) functions.add(t.slice(0, -2));
    else if (/^GET \/api\/[\w:/-]+$/.test(t)) routes.add(t.slice('GET /api'.length));
  }
  return { files: [...files], functions: [...functions], routes: [...routes] };
}

/** Whether `source` defines `name`: a function, a variable, a method or an object property holding one. */
function defines(source: string, name: string): boolean {
  const n = name.replace(/\$/g, '\\$');
  return new RegExp(
    `(?:function\\*?\\s+${n}\\s*[(<]|(?:const|let|var)\\s+${n}\\s*=|^\\s*(?:export\\s+)?(?:async\\s+)?${n}\\s*\\(|\\b${n}\\s*:\\s*(?:async\\s*)?\\()`,
    'm',
  ).test(source);
}

/** What is missing: files that do not exist, functions no named file defines, routes no router declares. */
function missingHops(
  hops: Hops,
  readRepoFile: (rel: string) => string | null,
  routeSources: string[],
): string[] {
  const missing: string[] = [];
  const sources: string[] = [];
  for (const f of hops.files) {
    const text = readRepoFile(f);
    if (text === null) missing.push(`file ${f}`);
    else sources.push(text);
  }
  for (const fn of hops.functions)
    if (!/^(?:z_)?erofs_/.test(fn) && !sources.some((s) => defines(s, fn))) missing.push(`function ${fn}()`);
  for (const r of hops.routes)
    if (!routeSources.some((s) => s.includes(`'${r}'`))) missing.push(`route GET /api${r}`);
  return missing;
}

const readRepoFile = (rel: string): string | null =>
  existsSync(path.join(root, rel)) ? readFileSync(path.join(root, rel), 'utf8') : null;
const routesDir = path.join(root, 'apps/server/src/routes');
const routeSources = readdirSync(routesDir).map((f) => readFileSync(path.join(routesDir, f), 'utf8'));

describe('docs/development.md, Tracing a number', () => {
  const text = section(readFileSync(path.join(root, 'docs/development.md'), 'utf8'), 'Tracing a number');
  const hops = hopsOf(text);

  it('traces the web headline, the instance table, the file detail and the CLI text output', () => {
    for (const h of [
      '### The web headline',
      '### A row of the instance table',
      '### The file detail',
      "### The CLI's text output",
    ])
      expect(text).toContain(h);
    for (const f of [
      'apps/web/src/views/Overview.tsx',
      'apps/web/src/views/Instances.tsx',
      'apps/web/src/views/Files.tsx',
      'apps/cli/src/output/render.ts',
      'packages/report-wire/src/summary.ts',
      'packages/sharing/src/model/accounting.ts',
      'packages/sharing/src/model/engine.ts',
      'packages/sharing/src/model/core.ts',
    ])
      expect(hops.files).toContain(f);
    expect(hops.routes).toEqual(['/reports/:id/summary', '/reports/:id/files']);
  });

  it('names only hops that exist', () => {
    expect(missingHops(hops, readRepoFile, routeSources)).toEqual([]);
  });
});

describe('the hop check', () => {
  it('finds a moved file, a renamed function and a route that is gone', () => {
    const hops = hopsOf(
      [
        '1. UI: `apps/web/src/views/Overview.tsx`, `Overview()` and `OverviewPage()`;',
        '   `apps/web/src/views/Headline.tsx`, `GET /api/reports/:id/headline`, kernel `erofs_ishare_fill_inode()`.',
        '2. `packages/sharing/src/model/accounting.ts`: `totalsOf()`, `toRecord()` (a method).',
      ].join('\n'),
    );
    expect(missingHops(hops, readRepoFile, routeSources)).toEqual([
      'file apps/web/src/views/Headline.tsx',
      'function OverviewPage()',
      'route GET /api/reports/:id/headline',
    ]);
  });

  it('recognises the ways a function is defined', () => {
    expect(defines('export function totalsOf(a: number) {}', 'totalsOf')).toBe(true);
    expect(defines('export function* assembleFilesSteps(c) {}', 'assembleFilesSteps')).toBe(true);
    expect(defines('async function writeParts(store) {}', 'writeParts')).toBe(true);
    expect(defines('  summary: (id: string) => json(x),', 'summary')).toBe(true);
    expect(defines('  toRecord(pageSize: number): R {', 'toRecord')).toBe(true);
    expect(defines('const x = totalsOf(1, 2, 3);', 'totalsOf')).toBe(false);
    expect(defines('// totalsOf() is called here', 'totalsOf')).toBe(false);
  });
});
