/**
 * `sharemap analyze --threat-model`, the Markdown trust section, the JSON `trust` part and the
 * `.sharemap.yml` trust policy, on the fixtures with forged and serial fingerprints and on
 * testdata/mounts/fleet.fstab with two publishers in one domain. Figures computed by hand from
 * the oracles (packages/sharing/test/trust/trust.test.ts has the reference computation).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '@sharemap/sharing';
import { cli, FLEET_IMAGES, fx, MOUNTS, oneLine, tmp } from './helpers.js';
import { serve } from './server-helpers.js';

const json = (s: string): Report & { gate: { passed: boolean; checks: { id: string; ok: boolean }[] } } =>
  JSON.parse(s) as Report & { gate: { passed: boolean; checks: { id: string; ok: boolean }[] } };

const FORGED = [fx('base-v1.fp.img'), fx('base-v2.fp.forged.img'), '--hash'];
const FORGED_PUB = ['--publisher', 'base-v1.fp.img=acme', '--publisher', 'base-v2.fp.forged.img=mallory'];
const SERIAL = [fx('base-v1.fp.serial.img'), fx('base-v2.fp.serial.img'), '--hash'];
/** fleet.fstab with publishers from .sharemap.yml: acme's base images and appco's app images share domain acme-signed. */
function fleetDir(extra = ''): string {
  const dir = tmp();
  writeFileSync(
    join(dir, '.sharemap.yml'),
    [
      'version: 1',
      `mounts: [${join(MOUNTS, 'fleet.fstab')}]`,
      'publishers:',
      '  base-v1.fp.img: acme',
      '  base-v2.fp.img: acme',
      '  base-v1.fp.lz4hc.img: acme',
      '  base-v2.fp.lz4hc.img: acme',
      '  app.fp.img: appco',
      '  app.fp.lz4hc.img: appco',
      '  edge.img: appco',
      extra,
    ].join('\n'),
  );
  return dir;
}
const FLEET_ARGS = () => ['analyze', ...FLEET_IMAGES.map(fx), '--hash'];

/**
 * Each test below analyses (and hashes) the images two or three times in-process: about 3 s on
 * a quiet machine, past the 30 s default beside seven other builds on CI's two cores
 * (docs/development.md#tests: such tests set their own timeout).
 */
const ANALYSIS_TIMEOUT_MS = 180_000;

function policyDir(policy: string): string {
  const dir = tmp();
  writeFileSync(join(dir, '.sharemap.yml'), `version: 1\ntrust:\n${policy}\n`);
  return dir;
}

describe('sharemap analyze: the trust model in JSON, Markdown and --threat-model text', () => {
  it(
    'forged fingerprint: acme -> mallory, 1,634,304 bytes in 38 files, in all three outputs',
    async () => {
      const j = json((await cli(['analyze', ...FORGED, ...FORGED_PUB, '--json'])).stdout);
      expect(j.trust!.matrix.map((c) => [c.supplier, c.reader, c.bytes, c.files, c.inodes])).toEqual([
        ['pub:acme', 'pub:mallory', 1_634_304, 38, 38],
      ]);
      const fp = j.trust!.fingerprints.find((f) => f.name === 'base-v2.fp.forged.img')!;
      expect(fp.counts['verified-mismatch']).toBe(1);
      expect(fp.examples['verified-mismatch']).toEqual(['/usr/bin/openssl']);
      const md = await cli(['analyze', ...FORGED, ...FORGED_PUB, '--markdown', '--threat-model']);
      expect(md.code).toBe(0);
      expect(md.stdout).toContain('#### Trust: who can affect whose pages');
      expect(md.stdout).toContain('| acme | mallory | 1,634,304 | 38 | 38 | default |');
      expect(md.stdout).toContain('| base-v2.fp.forged.img | mallory | 237 | 1 | 0 | 0 | 0 |');
      const t = await cli(['analyze', ...FORGED, ...FORGED_PUB, '--threat-model']);
      expect(t.code).toBe(0);
      expect(t.stdout).toContain('1. Who can affect whose pages');
      expect(t.stdout).toContain(
        'acme -> mallory: 1,634,304 bytes (1.6 MiB), 38 file(s), 38 shared inode(s) in default',
      );
      expect(t.stdout).toMatch(
        /1 file of base-v2\.fp\.forged\.img carries a sha256 fingerprint that does not match .* \[R12\] Files: 1 row\(s\): base-v2\.fp\.forged\.img:\/usr\/bin\/openssl\./,
      );
      // Without --threat-model the Markdown has no trust section (no policy either).
      expect((await cli(['analyze', ...FORGED, '--markdown'])).stdout).not.toContain('#### Trust');
    },
    ANALYSIS_TIMEOUT_MS,
  );

  it(
    'serial fingerprints: publisher-defined, acme -> acme 655,360 bytes in 37 files',
    async () => {
      const pub = ['--publisher', 'base-v1.fp.serial.img=acme', '--publisher', 'base-v2.fp.serial.img=acme'];
      const j = json((await cli(['analyze', ...SERIAL, ...pub, '--json'])).stdout);
      expect(j.trust!.matrix.map((c) => [c.supplier, c.reader, c.bytes, c.files])).toEqual([
        ['pub:acme', 'pub:acme', 655_360, 37],
      ]);
      expect(j.trust!.fingerprints.map((f) => f.counts['publisher-defined'])).toEqual([238, 238]);
      const t = (await cli(['analyze', ...SERIAL, ...pub, '--threat-model'])).stdout;
      expect(t).toContain(
        'acme -> acme: 655,360 bytes (640.0 KiB), 37 file(s), 37 shared inode(s) in default',
      );
      expect(t).toContain('238 files of base-v1.fp.serial.img carry publisher-defined fingerprints');
      const md = (await cli(['analyze', ...SERIAL, ...pub, '--markdown', '--threat-model'])).stdout;
      expect(md).toContain('| acme | acme | 655,360 | 37 | 37 | default |');
    },
    ANALYSIS_TIMEOUT_MS,
  );

  it(
    'fleet.fstab, two publishers in one domain: the same pairs, bytes and files in JSON, Markdown and text',
    async () => {
      const dir = fleetDir();
      const j = json((await cli([...FLEET_ARGS(), '--json'], { cwd: dir })).stdout);
      const cells = j.trust!.matrix.map((c) => [c.supplier, c.reader, c.bytes, c.files, c.inodes]);
      expect(cells).toEqual([
        ['pub:acme', 'pub:acme', 2_334_720, 261, 232],
        ['pub:acme', 'pub:appco', 585_728, 4, 4],
      ]);
      // Domain labels are redacted (R11): acme-signed is D1.
      const d1 = j.trust!.domains.find((d) => d.parties.length > 1)!;
      expect(d1.label).toBe('D1');
      expect(d1.parties).toEqual(['pub:acme', 'pub:appco']);
      const md = (await cli([...FLEET_ARGS(), '--markdown', '--threat-model'], { cwd: dir })).stdout;
      expect(md).toContain('| acme | acme | 2,334,720 | 261 | 232 | D1 |');
      expect(md).toContain('| acme | appco | 585,728 | 4 | 4 | D1 |');
      expect(md).toContain('Domain D1 mixes 2 publishers (acme, appco)');
      const t = (await cli([...FLEET_ARGS(), '--threat-model'], { cwd: dir })).stdout;
      expect(t).toContain('acme -> acme: 2,334,720 bytes (2.2 MiB), 261 file(s), 232 shared inode(s) in D1');
      expect(t).toContain('acme -> appco: 585,728 bytes (572.0 KiB), 4 file(s), 4 shared inode(s) in D1');
      expect(t).toContain(
        '/run/images/app (app.fp.img, domain D1): trusts base-v1.fp.img, base-v1.fp.lz4hc.img, base-v2.fp.img; reads 2 file(s), 458,752 bytes (448.0 KiB) from base-v2.fp.img; 2 file(s), 126,976 bytes (124.0 KiB) from base-v1.fp.img',
      );
      expect(t).toContain('No trust policy set');
    },
    ANALYSIS_TIMEOUT_MS,
  );
});

describe('.sharemap.yml trust policy: each rule passes and fails (exit 1 naming the rule)', () => {
  it(
    'trust.domains: one-per-publisher fails on the mixed fleet, passes on one publisher',
    async () => {
      const fail = fleetDir('trust: { domains: one-per-publisher }');
      const r = await cli([...FLEET_ARGS(), '--threat-model'], { cwd: fail });
      expect(r.code).toBe(1);
      // fleet.fstab's own warnings come first; the gate's verdict is the last line.
      expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(
        'sharemap: gate failed: trust.domains (one domain per publisher: domain D1 mixes 2 publishers (acme, appco) (R12))',
      );
      expect(r.stdout).toContain('Policy: {"domains":"one-per-publisher"}; result: FAILED');
      expect(r.stdout).toContain(
        'FAIL  trust.domains: one domain per publisher: domain D1 mixes 2 publishers (acme, appco) [R12]',
      );
      const pass = policyDir('  domains: one-per-publisher');
      const p = await cli(
        [
          'analyze',
          ...SERIAL,
          '--publisher',
          'base-v1.fp.serial.img=acme',
          '--publisher',
          'base-v2.fp.serial.img=acme',
          '--json',
        ],
        { cwd: pass },
      );
      expect(p.code).toBe(0);
      const pj = json(p.stdout);
      expect(pj.trust!.policy).toEqual({
        policy: { domains: 'one-per-publisher' },
        passed: true,
        checks: [expect.objectContaining({ id: 'trust.domains', ok: true })],
      });
      expect(pj.gate.checks).toEqual([expect.objectContaining({ id: 'trust.domains', ok: true })]);
    },
    ANALYSIS_TIMEOUT_MS,
  );

  it(
    'trust.allowPublisherDefinedFingerprints: false fails on serials, passes on sha256 fingerprints',
    async () => {
      const dir = policyDir('  allowPublisherDefinedFingerprints: false');
      const r = await cli(['analyze', ...SERIAL], { cwd: dir });
      expect(r.code).toBe(1);
      expect(oneLine(r.stderr)).toBe(
        'sharemap: gate failed: trust.allowPublisherDefinedFingerprints (publisher-defined fingerprints are not allowed: 476 file(s) in base-v1.fp.serial.img (238), base-v2.fp.serial.img (238) (R4, R12))',
      );
      const p = await cli(['analyze', ...FORGED, '--markdown'], { cwd: dir });
      expect(p.code).toBe(0);
      // With a policy the Markdown carries the trust section and the policy's result.
      expect(p.stdout).toContain('Trust policy `{"allowPublisherDefinedFingerprints":false}`: passed');
      expect(p.stdout).toContain('- ok `trust.allowPublisherDefinedFingerprints`');
    },
    ANALYSIS_TIMEOUT_MS,
  );

  it(
    'trust.requireVerified fails on a forged fingerprint and without --hash, passes on verified images',
    async () => {
      const dir = policyDir('  requireVerified: true');
      const f = await cli(['analyze', ...FORGED], { cwd: dir });
      expect(f.code).toBe(1);
      expect(oneLine(f.stderr)).toBe(
        'sharemap: gate failed: trust.requireVerified (fingerprints must be verified: fingerprints that do not match the content in base-v2.fp.forged.img (1) (R12))',
      );
      const u = await cli(['analyze', fx('base-v1.fp.img'), fx('base-v2.fp.img')], { cwd: dir });
      expect(u.code).toBe(1);
      expect(oneLine(u.stderr)).toBe(
        'sharemap: gate failed: trust.requireVerified (fingerprints must be verified: unverified sha256 fingerprints (scan with --hash) in base-v1.fp.img (238), base-v2.fp.img (238) (R12))',
      );
      const p = await cli(['analyze', fx('base-v1.fp.img'), fx('base-v2.fp.img'), '--hash'], { cwd: dir });
      expect(p.code).toBe(0);
      expect(p.stdout).toContain(
        'ok    trust.requireVerified: every sha256 fingerprint of a sharing image was verified',
      );
    },
    ANALYSIS_TIMEOUT_MS,
  );

  it('a bad trust policy is exit 2 with the file, line and rule', async () => {
    let r = await cli(['analyze', fx('app.fp.img')], { cwd: policyDir('  domains: one-per-image') });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(
      'sharemap: .sharemap.yml:3:12: trust.domains: expected one of one-per-publisher, any, got "one-per-image"',
    );
    r = await cli(['analyze', fx('app.fp.img')], { cwd: policyDir('  requireVerfied: true') });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(
      /^sharemap: \.sharemap\.yml:3:3: trust\.requireVerfied: unknown trust rule "requireVerfied"/,
    );
    r = await cli(['analyze', fx('app.fp.img')], { cwd: policyDir('  requireVerified: yes please') });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/trust\.requireVerified: expected true or false, got "yes please"/);
  });
});

describe('trust policy on the server: the stored report carries the policy and its result', () => {
  it('sharemap upload sends the policy; the server evaluates it; a bad policy is a 400 naming the field', async () => {
    const { server } = await serve(false);
    try {
      const dir = policyDir('  allowPublisherDefinedFingerprints: false');
      const images = [fx('base-v1.fp.serial.img'), fx('base-v2.fp.serial.img')]; // the server hashes what it scans
      const r = await cli(['upload', ...images, '--server', server.url, '--json', '-q'], { cwd: dir });
      expect(r.code).toBe(1); // the gate fails on the serials, as offline
      const { id } = JSON.parse(r.stdout) as { id: string };
      const stored = (await (await fetch(`${server.url}/api/reports/${id}`)).json()) as Report;
      expect(stored.trust!.policy).toEqual({
        policy: { allowPublisherDefinedFingerprints: false },
        passed: false,
        checks: [
          expect.objectContaining({
            id: 'trust.allowPublisherDefinedFingerprints',
            ok: false,
            message:
              'publisher-defined fingerprints are not allowed: 476 file(s) in base-v1.fp.serial.img (238), base-v2.fp.serial.img (238)',
          }),
        ],
      });
      // The same report offline carries the same result.
      const offline = json((await cli(['analyze', ...SERIAL, '--json'], { cwd: dir })).stdout);
      expect(stored.trust!.policy).toEqual(offline.trust!.policy);
      const ids = ['A'.repeat(22)]; // well-formed; the policy is checked before any lookup
      const bad = await fetch(`${server.url}/api/reports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ images: ids, trustPolicy: { domains: 'one-per-image' } }),
      });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
        /^trustPolicy\.domains /,
      );
    } finally {
      await server.close();
    }
  }, 180_000);
});
