#!/usr/bin/env node
/**
 * Citations a reader can follow inside the repository (docs/development.md#conventions).
 *
 * Comments and docs cite `docs/<file>.md#<anchor>` (from the repository root, in any file) and
 * Markdown links `[text](path#anchor)` (relative to the .md file they are in). Each must name a
 * file that exists and, when it has one, an anchor of that file: an `<a id="...">` or a
 * heading's GitHub slug. Citation forms that lead nowhere a reader of this repository can go
 * are refused: section numbers of a document the repository does not contain (a section sign
 * with a number, or the name of the external format reference), and tracker issue numbers
 * ("issue" with a number): cite the doc section, the rule (`docs/sharing-rules.md#r4`) or the
 * kernel function.
 *
 *   node scripts/citations.mjs        # lists every problem, exit 1 when there is one
 *
 * Used by scripts/test/citations.test.ts (part of `npm test`).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Folders that hold build output, dependencies, data or test results: never scanned. */
const SKIP_DIRS = new Set([
  '.git',
  'node_modules',
  'dist',
  'data',
  'test-results',
  'playwright-report',
  'results',
  'screenshots',
]);
/** Files that quote broken citations on purpose: the unit cases of the checker itself. */
const EXEMPT = new Set(['scripts/test/citations.test.ts']);
/** Text files that carry comments or prose. JSON is data (saved fuzz cases, fixtures): not scanned. */
const SCANNED = /\.(?:[cm]?[jt]s|tsx|md|ya?ml|html|css)$/;
/** Under testdata/ only the READMEs are prose; the rest is fixture bytes and generators' output. */
const TESTDATA_SCANNED = /\.md$/;

/** Forms that do not resolve inside the repository, with what to write instead. */
export const FORBIDDEN = [
  {
    re: /\u00a7\s*\d/g,
    why: 'section-number citation (cite a section of docs/format.md, another doc or a kernel function)',
  },
  {
    re: /\berofs-format\.md/g,
    why: 'the external format reference is not in the repository (cite a section of docs/format.md)',
  },
  {
    re: /\bissues?\s+#?\d/gi,
    why: 'issue-number citation (cite the docs section or rule that says why, e.g. docs/sharing-rules.md#r2)',
  },
];

const ROOT_DOC = /(?<![\w./-])docs\/([\w./-]+\.md)(?:#([\w-]+))?/g;
const MD_LINK = /\[[^[\]\n]*\]\(([^()\s]+)\)/g;
const EXPLICIT_ANCHOR = /<a (?:id|name)="([\w-]+)"/g;
const HEADING = /^#{1,6} (.+)$/;
const FENCE = /^\s*(?:```|~~~)/;
/** Inline code is quoted text, not a link. */
const INLINE_CODE = /`[^`\n]*`/g;

/**
 * The anchor GitHub gives a heading: lower case, Markdown links reduced to their text,
 * everything but letters, digits, spaces, `-` and `_` dropped, each space a `-`.
 */
export function githubSlug(heading) {
  return heading
    .replace(/\[([^[\]]*)\]\([^()]*\)/g, '$1')
    .replace(/<[^<>]*>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
    .replace(/ /g, '-');
}

/** Lines of `text` outside fenced code blocks, with their 1-based numbers. */
function proseLines(text) {
  const out = [];
  let inFence = false;
  text.split('\n').forEach((line, i) => {
    if (FENCE.test(line)) inFence = !inFence;
    else if (!inFence) out.push({ line, n: i + 1 });
  });
  return out;
}

/** Every anchor a Markdown file offers: explicit `<a id>` and heading slugs (duplicates numbered). */
export function anchorsOf(markdown) {
  const anchors = new Set();
  for (const m of markdown.matchAll(EXPLICIT_ANCHOR)) anchors.add(m[1]);
  const seen = new Map();
  for (const { line } of proseLines(markdown)) {
    const h = HEADING.exec(line);
    if (!h) continue;
    const base = githubSlug(h[1].replace(/\s#+\s*$/, ''));
    const k = seen.get(base) ?? 0;
    seen.set(base, k + 1);
    anchors.add(k === 0 ? base : `${base}-${k}`);
  }
  return anchors;
}

/** Reads files of the tree at `root`, caching anchors per Markdown file. */
export function treeResolver(root = ROOT) {
  const cache = new Map();
  return {
    exists: (rel) => existsSync(path.join(root, rel)),
    anchors: (rel) => {
      if (!cache.has(rel)) cache.set(rel, anchorsOf(readFileSync(path.join(root, rel), 'utf8')));
      return cache.get(rel);
    },
  };
}

function checkTarget(target, anchor, resolver, cited) {
  if (!resolver.exists(target)) return `${cited}: no file ${target}`;
  if (anchor && target.endsWith('.md') && !resolver.anchors(target).has(anchor))
    return `${cited}: no anchor #${anchor} in ${target}`;
  return null;
}

/**
 * Problems of one file's text (`file` is its path from the repository root, with `/`):
 * [{ file, line, message }], empty when every citation resolves.
 */
export function citationProblems(file, text, resolver = treeResolver()) {
  const problems = [];
  const add = (n, message) => problems.push({ file, line: n, message });
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    for (const { re, why } of FORBIDDEN)
      for (const m of line.matchAll(re)) add(i + 1, `"${line.slice(m.index, m.index + 24).trim()}": ${why}`);
    for (const m of line.matchAll(ROOT_DOC)) {
      const p = checkTarget(`docs/${m[1]}`, m[2], resolver, m[0]);
      if (p) add(i + 1, p);
    }
  });
  if (file.endsWith('.md')) {
    const dir = path.posix.dirname(file);
    for (const { line, n } of proseLines(text))
      for (const m of line.replace(INLINE_CODE, '').matchAll(MD_LINK)) {
        const link = m[1];
        if (/^[a-z][a-z+.-]*:/i.test(link) || link.startsWith('/')) continue; // URLs, absolute paths
        const hash = link.indexOf('#');
        const rel = hash < 0 ? link : link.slice(0, hash);
        const anchor = hash < 0 ? '' : link.slice(hash + 1);
        const target = rel === '' ? file : path.posix.normalize(path.posix.join(dir, decodeURI(rel)));
        if (target.startsWith('../')) {
          add(n, `${link}: leaves the repository`);
          continue;
        }
        const p = checkTarget(target, anchor, resolver, link);
        if (p) add(n, p);
      }
  }
  return problems;
}

/** Repository-relative paths (with `/`) of every scanned file under `root`. */
export function scannedFiles(root = ROOT) {
  const out = [];
  const walk = (rel) => {
    for (const name of readdirSync(path.join(root, rel))) {
      const child = rel ? `${rel}/${name}` : name;
      if (statSync(path.join(root, child)).isDirectory()) {
        if (!SKIP_DIRS.has(name) && child !== 'action/dist') walk(child);
      } else if (EXEMPT.has(child)) continue;
      else if (child.startsWith('testdata/') ? TESTDATA_SCANNED.test(name) : SCANNED.test(name))
        out.push(child);
    }
  };
  walk('');
  return out.sort();
}

/** Every problem in the tree at `root`. */
export function treeProblems(root = ROOT) {
  const resolver = treeResolver(root);
  return scannedFiles(root).flatMap((f) =>
    citationProblems(f, readFileSync(path.join(root, f), 'utf8'), resolver),
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = treeProblems();
  for (const p of problems) console.log(`${p.file}:${p.line}: ${p.message}`);
  console.log(`${problems.length} citation problem(s)`);
  process.exit(problems.length > 0 ? 1 : 0);
}
