/**
 * `--junit FILE`: the gate as JUnit XML, read back with a real XML parser and held to the
 * structure of the common JUnit schema (testsuites > testsuite > testcase > failure|skipped,
 * required attributes, counts that add up).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { formatBytes, type Report } from '@sharemap/sharing';
import { xmlEscape } from '../src/output/junit.js';
import { cli, fx, tmp } from './helpers.js';

interface Case {
  '@_classname': string;
  '@_name': string;
  '@_time': string;
  failure?: { '@_message': string; '@_type': string; '#text': string };
  skipped?: { '@_message': string };
  'system-out'?: string;
}
interface Suite {
  '@_name': string;
  '@_tests': string;
  '@_failures': string;
  '@_errors': string;
  '@_skipped': string;
  '@_time': string;
  '@_timestamp': string;
  properties?: { property: { '@_name': string; '@_value': string }[] };
  testcase: Case[];
}
interface Doc {
  testsuites: {
    '@_name': string;
    '@_tests': string;
    '@_failures': string;
    '@_errors': string;
    testsuite: Suite[];
  };
}

function parseJunit(xml: string): Doc {
  // Well-formed XML first (the parser alone is lenient).
  expect(XMLValidator.validate(xml)).toBe(true);
  return new XMLParser({
    ignoreAttributes: false,
    isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
    parseAttributeValue: false,
    htmlEntities: true,
    trimValues: false,
  }).parse(xml) as Doc;
}

/** The schema's required structure and counts; returns the cases by name. */
function checkSchema(doc: Doc): Map<string, Case> {
  const root = doc.testsuites;
  expect(root).toBeDefined();
  let tests = 0;
  let failures = 0;
  const byName = new Map<string, Case>();
  for (const s of root.testsuite) {
    for (const a of [
      '@_name',
      '@_tests',
      '@_failures',
      '@_errors',
      '@_skipped',
      '@_time',
      '@_timestamp',
    ] as const)
      expect(s[a], `testsuite ${s['@_name']} ${a}`).toBeDefined();
    expect(s['@_timestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    const cases = s.testcase ?? [];
    expect(Number(s['@_tests'])).toBe(cases.length);
    expect(Number(s['@_failures'])).toBe(cases.filter((c) => c.failure).length);
    expect(Number(s['@_skipped'])).toBe(cases.filter((c) => c.skipped).length);
    expect(s['@_errors']).toBe('0');
    for (const c of cases) {
      expect(c['@_classname']).toBe(s['@_name']);
      expect(c['@_name']).toBeTruthy();
      expect(c['@_time']).toBe('0');
      if (c.failure) {
        expect(c.failure['@_message']).toBeTruthy();
        expect(['threshold', 'finding']).toContain(c.failure['@_type']);
      }
      byName.set(c['@_name'], c);
    }
    tests += cases.length;
    failures += Number(s['@_failures']);
  }
  expect(Number(root['@_tests'])).toBe(tests);
  expect(Number(root['@_failures'])).toBe(failures);
  return byName;
}

const IMAGES = ['base-v1.fp.img', 'base-v2.fp.img', 'app.fp.img'].map(fx);

describe('sharemap analyze --junit', () => {
  it('a passing gate: one passing test case per threshold, the headline as a property', async () => {
    const dir = tmp();
    const r = await cli(
      [
        'analyze',
        ...IMAGES,
        '--min-saved-percent',
        '1',
        '--max-unfingerprinted-files',
        '0',
        '--junit',
        'gate.xml',
        '--json',
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report & { gate: { checks: { message: string }[] } };
    const doc = parseJunit(readFileSync(join(dir, 'gate.xml'), 'utf8'));
    const cases = checkSchema(doc);
    expect([...cases.keys()]).toEqual(['minSavedPercent', 'maxUnfingerprintedFiles']);
    expect(doc.testsuites['@_failures']).toBe('0');
    expect(cases.get('minSavedPercent')!['system-out']).toBe(report.gate.checks[0]!.message);
    const props = doc.testsuites.testsuite[0]!.properties!.property;
    expect(props[0]!['@_name']).toBe('headline');
    expect(props[0]!['@_value']).toMatch(
      new RegExp(`^3 instances, .*${formatBytes(report.totals.bytesSaved)} saved`),
    );
    expect(doc.testsuites.testsuite[0]!['@_timestamp']).toBe(report.createdAt.replace(/(\.\d+)?Z$/, ''));
  });

  it('a failing gate: failing test cases with figure, threshold and the top offending files', async () => {
    const dir = tmp();
    // edge.img has no fingerprints and does not share: minSavedPercent and maxUnfingerprintedFiles
    // fail; inode_share is off on it (fails failOn:inode-share-ineffective); no fingerprint mismatch.
    const r = await cli(
      [
        'analyze',
        fx('edge.img'),
        fx('app.fp.img'),
        '--min-saved-percent',
        '99',
        '--max-unfingerprinted-files',
        '0',
        '--max-bytes-lost',
        '0',
        '--fail-on',
        'inode-share-ineffective,fingerprint-mismatch',
        '--junit',
        'out/../gate.xml',
        '--json',
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as Report & {
      gate: { checks: { id: string; ok: boolean; actual: number; limit: number; message: string }[] };
    };
    const xml = readFileSync(join(dir, 'gate.xml'), 'utf8');
    const doc = parseJunit(xml);
    const cases = checkSchema(doc);
    expect([...cases.keys()]).toEqual([
      'minSavedPercent',
      'maxUnfingerprintedFiles',
      'maxBytesLost',
      'failOn:inode-share-ineffective',
      'failOn:fingerprint-mismatch',
    ]);
    expect(
      doc.testsuites.testsuite.map((s) => [s['@_name'], s['@_tests'], s['@_failures'], s['@_skipped']]),
    ).toEqual([
      ['sharemap.thresholds', '3', '2', '1'],
      ['sharemap.findings', '2', '1', '0'],
    ]);
    const byId = new Map(report.gate.checks.map((c) => [c.id, c]));
    // minSavedPercent: message = the gate's message; text = figure, limit, largest private files.
    const min = cases.get('minSavedPercent')!.failure!;
    expect(min['@_type']).toBe('threshold');
    expect(min['@_message']).toBe(byId.get('minSavedPercent')!.message);
    expect(min['#text']).toContain(`actual: ${byId.get('minSavedPercent')!.actual}, limit: 99`);
    // The largest regular file of edge.img that stays private, named first.
    const edge = report.instances.find(
      (i) => i.imageId === report.images.find((m) => m.name === 'edge.img')!.id,
    )!;
    let best = -1;
    for (let row = 0; row < report.files.status.length; row++) {
      const s = report.files.status[row]!;
      if (!s.startsWith('private-') || s === 'private-not-regular') continue;
      if (best < 0 || report.files.size[row]! > report.files.size[best]!) best = row;
    }
    expect(report.instances[report.files.instance[best]!]!.id).toBe(edge.id);
    const bestPath = report.paths[edge.imageId]![report.files.file[best]!]!;
    const lines = min['#text'].split('\n');
    expect(lines[2]).toBe('top offending files (size):');
    expect(lines[3]).toBe(
      `  ${formatBytes(report.files.size[best]!).padStart(10)}  ${edge.imageId}:${bestPath} (${edge.label})`,
    );
    expect(lines.length).toBe(4 + 9); // ten files at most
    // maxUnfingerprintedFiles names the unfingerprinted files of edge.img.
    const unfp = cases.get('maxUnfingerprintedFiles')!.failure!;
    expect(unfp['#text']).toContain(`actual: ${byId.get('maxUnfingerprintedFiles')!.actual}, limit: 0`);
    // Its files never reach the fingerprint rule (inode_share is off there, R2 before R4): the
    // report cannot tell which lack one, so no file list rather than a wrong one.
    expect(unfp['#text'].split('\n')).toHaveLength(2);
    // Baseline thresholds without --baseline: skipped, with the reason.
    expect(cases.get('maxBytesLost')!.skipped!['@_message']).toBe('no --baseline given');
    // A finding class present in the report fails with its findings' messages.
    const ine = cases.get('failOn:inode-share-ineffective')!.failure!;
    expect(ine['@_type']).toBe('finding');
    const finding = report.findings.find((f) => f.code === 'inode-share-ineffective')!;
    expect(ine['#text']).toContain(`- [${finding.severity}] ${finding.message}`);
    expect(cases.get('failOn:fingerprint-mismatch')!.failure).toBeUndefined();
    expect(cases.get('failOn:fingerprint-mismatch')!['system-out']).toBe('no fingerprint-mismatch finding');
  });

  it('a baseline: files that stopped sharing are named, largest saving first', async () => {
    const dir = tmp();
    const base = await cli(['analyze', ...IMAGES, '--json-out', 'base.json'], { cwd: dir });
    expect(base.code).toBe(0);
    // Without base-v1, its files no longer share with base-v2.
    const r = await cli(
      [
        'analyze',
        fx('base-v2.fp.img'),
        fx('app.fp.img'),
        '--baseline',
        'base.json',
        '--max-files-stopped-sharing',
        '0',
        '--junit',
        'gate.xml',
        '--json',
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(1);
    const res = JSON.parse(r.stdout) as {
      delta: { stoppedSharing: { image: string; path: string; savedBefore: number }[] };
    };
    const worst = [...res.delta.stoppedSharing].sort((a, b) => b.savedBefore - a.savedBefore)[0]!;
    const f = checkSchema(parseJunit(readFileSync(join(dir, 'gate.xml'), 'utf8'))).get(
      'maxFilesStoppedSharing',
    )!.failure!;
    const lines = f['#text'].split('\n');
    expect(lines[2]).toBe('top files that stopped sharing (bytes they saved):');
    expect(lines[3]).toBe(`  ${formatBytes(worst.savedBefore).padStart(10)}  ${worst.image}:${worst.path}`);
  });

  it('no thresholds: an empty but valid document; an unwritable file is exit 2', async () => {
    const dir = tmp();
    const r = await cli(['analyze', fx('app.fp.img'), '--junit', 'gate.xml', '--no-config'], { cwd: dir });
    expect(r.code).toBe(0);
    const doc = parseJunit(readFileSync(join(dir, 'gate.xml'), 'utf8'));
    expect(checkSchema(doc).size).toBe(0);
    const bad = await cli(['analyze', fx('app.fp.img'), '--junit', 'no/such/dir/gate.xml'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^sharemap: --junit no\/such\/dir\/gate\.xml: cannot write: ENOENT/);
  });

  it('escapes markup and drops characters XML cannot hold', () => {
    const s = xmlEscape('a<b>&"c"\u0001\nd');
    expect(s).toBe('a&lt;b&gt;&amp;&quot;c&quot;&#10;d');
    const doc = new XMLParser({ ignoreAttributes: false, htmlEntities: true }).parse(`<x v="${s}"/>`) as {
      x: { '@_v': string };
    };
    expect(doc.x['@_v']).toBe('a<b>&"c"\nd');
  });
});
