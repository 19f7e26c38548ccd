/**
 * Every citation in the tree resolves inside the repository (scripts/citations.mjs): cited
 * docs and anchors exist, and no comment or doc cites section numbers of a document the
 * repository does not have, or tracker issue numbers. The unit cases show each kind of broken
 * citation is caught (this file quotes broken citations, so the tree scan leaves it out).
 */
import { describe, expect, it } from 'vitest';
import { anchorsOf, citationProblems, githubSlug, scannedFiles, treeProblems } from '../citations.mjs';

const SECTION = '\u00a7';
const messages = (file: string, text: string) =>
  citationProblems(file, text).map((p: { line: number; message: string }) => `${p.line}: ${p.message}`);

describe('the tree', () => {
  it('scans the code and docs of every workspace', () => {
    const files = scannedFiles();
    for (const f of [
      'docs/format.md',
      'packages/erofs/src/disk/superblock.ts',
      'packages/sharing/src/model/core.ts',
      'apps/web/src/views/Trust.tsx',
      'apps/server/src/guards.ts',
      'e2e/tests/errors.spec.ts',
      'bench/server-soak.bench.mjs',
      'testdata/mounts/README.md',
    ])
      expect(files).toContain(f);
    expect(files.some((f) => f.includes('node_modules/') || f.includes('/dist/'))).toBe(false);
    expect(files.some((f) => f.startsWith('testdata/') && !f.endsWith('.md'))).toBe(false);
  });

  it('has no citation that does not resolve', () => {
    const problems = treeProblems().map(
      (p: { file: string; line: number; message: string }) => `${p.file}:${p.line}: ${p.message}`,
    );
    expect(problems).toEqual([]);
  });
});

describe('citations in code', () => {
  it('accepts docs and anchors that exist', () => {
    expect(
      messages(
        'packages/x.ts',
        [
          '// key = value ++ domain id (docs/format.md#sharing-key, docs/sharing-rules.md#r4)',
          '/** Superblock fields (docs/format.md#superblock); limits in docs/server.md#limits. */',
          '// determinism: docs/metrics.md#determinism-a-report-is-a-function-of-its-inputs',
          '// a doc without an anchor: docs/development.md',
        ].join('\n'),
      ),
    ).toEqual([]);
  });

  it('refuses an anchor the doc does not have', () => {
    expect(messages('packages/x.ts', 'const a = 1;\n// see docs/format.md#no-such-section here')).toEqual([
      '2: docs/format.md#no-such-section: no anchor #no-such-section in docs/format.md',
    ]);
  });

  it('refuses a doc that does not exist', () => {
    expect(messages('apps/x.ts', '// docs/erofs-spec.md#sharing-key')).toEqual([
      '1: docs/erofs-spec.md#sharing-key: no file docs/erofs-spec.md',
    ]);
  });

  it('refuses section numbers of an outside document and issue numbers', () => {
    expect(messages('packages/x.ts', `// the key (spec ${SECTION}8.4)`)).toEqual([
      `1: "${SECTION}8.4)": section-number citation (cite a section of docs/format.md, another doc or a kernel function)`,
    ]);
    expect(messages('packages/x.ts', `/** bare ${SECTION} 2.6 too */`)).toHaveLength(1);
    expect(messages('packages/x.ts', '// fails that mount only (issue' + ' #14 item 7)')).toEqual([
      '1: "issue #14 item 7)": issue-number citation (cite the docs section or rule that says why, e.g. docs/sharing-rules.md#r2)',
    ]);
    expect(messages('packages/x.ts', "describe('Issue" + " 13, item 2', () => {});")).toHaveLength(1);
    expect(messages('testdata/x/README.md', 'see ../../docs/erofs-' + 'format.md section 8')).toEqual([
      '1: "erofs-format.md section": the external format reference is not in the repository (cite a section of docs/format.md)',
    ]);
  });

  it('lets prose about issues and sections without numbers be', () => {
    expect(messages('packages/x.ts', '// issues with the format; the section above; a # sign')).toEqual([]);
  });
});

describe('links in Markdown', () => {
  it('resolves links relative to the document, with anchors', () => {
    expect(
      messages(
        'docs/x.md',
        [
          'See [the key](format.md#sharing-key), [R4](sharing-rules.md#r4), [fixtures](../testdata/mounts/README.md),',
          '[a heading](benchmarks.md#server-soak-valid-and-hostile-clients-for-10-minutes) and [home](https://example.org).',
        ].join('\n'),
      ),
    ).toEqual([]);
  });

  it('refuses a missing file, a missing anchor and a path out of the repository', () => {
    expect(
      messages(
        'docs/format.md',
        '[a](formats.md#nid) [b](format.md#nids) [c](../../shared/docs/x.md) [d](#nowhere)',
      ),
    ).toEqual([
      '1: formats.md#nid: no file docs/formats.md',
      '1: format.md#nids: no anchor #nids in docs/format.md',
      '1: ../../shared/docs/x.md: leaves the repository',
      '1: #nowhere: no anchor #nowhere in docs/format.md',
    ]);
  });

  it('ignores links inside code', () => {
    expect(messages('docs/x.md', '`[click](www.evil.example)`\n```\n[a](nowhere.md)\n```\n')).toEqual([]);
  });
});

describe('anchors', () => {
  it('are explicit ids and GitHub heading slugs, duplicates numbered', () => {
    const a = anchorsOf(
      [
        '<a id="sb-size"></a>',
        '',
        '## `server-soak`: valid and hostile clients for 10 minutes',
        '## Limits (`mounts/limits.ts`)',
        '## Limits (`mounts/limits.ts`)',
        '```sh',
        '# not a heading',
        '```',
      ].join('\n'),
    );
    expect([...a].sort()).toEqual([
      'limits-mountslimitsts',
      'limits-mountslimitsts-1',
      'sb-size',
      'server-soak-valid-and-hostile-clients-for-10-minutes',
    ]);
    expect(githubSlug('4. Install the packed CLI')).toBe('4-install-the-packed-cli');
    expect(githubSlug('Determinism: a report is a function of its inputs')).toBe(
      'determinism-a-report-is-a-function-of-its-inputs',
    );
  });
});
