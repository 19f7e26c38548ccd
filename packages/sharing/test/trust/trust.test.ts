/**
 * The trust model (docs/trust.md) on the fixtures: forged and serial fingerprints, and the
 * fleet of testdata/mounts/fleet.fstab with two publishers in one domain. Expected figures were
 * computed by hand from the oracles (testdata/erofs/*.expected.json) with the docs/format.md#sharing-key
 * pseudo-code (first candidate fixes aops class and size, hard links once): see `referenceCells`.
 */
import { describe, expect, it } from 'vitest';
import type { Manifest } from '@sharemap/erofs';
import { analyze } from '../../src/model/engine.js';
import type { AnalysisInput, Finding, InstanceInput, Report } from '../../src/report.js';
import { fleetInstances, image, inputOf, inst, oracleInodes, oracleManifest } from '../model-fixtures.js';
import {
  CROSS_DOMAIN_KEY_COLLISION,
  buildTrustModel,
  trustCellRows,
  withTrust,
} from '../../src/trust/index.js';
import { evaluateTrustPolicy } from '../../src/trust/policy.js';
import { renderTrustMarkdown, renderTrustText } from '../../src/trust/render.js';

function inputWith(instances: InstanceInput[], publishers: Record<string, string>): AnalysisInput {
  const input = inputOf(instances);
  input.images = input.images.map((x) => image(x.image.id, publishers[x.image.id]));
  return input;
}

function run(input: AnalysisInput): Report {
  return withTrust(analyze(input), input);
}

/** Independent reference: cross-image reads per (supplier publisher, reader publisher) from the oracles. */
function referenceCells(
  mounts: { image: string; domain: string }[],
  pub: Record<string, string>,
): Map<string, { bytes: number; files: number; inodes: number }> {
  const groups = new Map<string, { cls: string; members: { image: string; size: number }[] }>();
  for (const m of mounts) {
    for (const { file: f, eligible } of oracleInodes(m.image)) {
      if (!eligible) continue;
      const key = `${f.fingerprint}/${m.domain}`;
      const cls = `${f.layout.startsWith('compressed') ? 'z' : 'f'}/${f.size}`;
      const g = groups.get(key);
      if (!g) groups.set(key, { cls, members: [{ image: m.image, size: f.size }] });
      else if (g.cls === cls) g.members.push({ image: m.image, size: f.size });
    }
  }
  const out = new Map<string, { bytes: number; files: number; inodes: number }>();
  for (const g of groups.values()) {
    const s = g.members[0]!.image;
    const counted = new Set<string>();
    for (const m of g.members.slice(1)) {
      if (m.image === s) continue;
      const k = `pub:${pub[s]}>pub:${pub[m.image]}`;
      const e = out.get(k) ?? { bytes: 0, files: 0, inodes: 0 };
      e.bytes += Math.ceil(m.size / 4096) * 4096;
      e.files++;
      if (!counted.has(k)) e.inodes++;
      counted.add(k);
      out.set(k, e);
    }
  }
  return out;
}

function cellsOf(r: Report): Map<string, { bytes: number; files: number; inodes: number }> {
  return new Map(
    r.trust!.matrix.map((c) => [
      `${c.supplier}>${c.reader}`,
      { bytes: c.bytes, files: c.files, inodes: c.inodes },
    ]),
  );
}

const FORGED_PUB = { 'base-v1.fp': 'acme', 'base-v2.fp.forged': 'mallory' };
const forged = () =>
  run(inputWith([inst('m1', 'base-v1.fp', 'acme'), inst('m2', 'base-v2.fp.forged', 'acme')], FORGED_PUB));
const SERIAL_PUB = { 'base-v1.fp.serial': 'acme', 'base-v2.fp.serial': 'acme' };
const serial = () =>
  run(
    inputWith([inst('m1', 'base-v1.fp.serial', 'acme'), inst('m2', 'base-v2.fp.serial', 'acme')], SERIAL_PUB),
  );
const FLEET_PUB = {
  'base-v1.fp': 'acme',
  'base-v2.fp': 'acme',
  'base-v1.fp.lz4hc': 'acme',
  'base-v2.fp.lz4hc': 'acme',
  'app.fp': 'appco',
  'app.fp.lz4hc': 'appco',
  edge: 'appco',
};
const fleet = () => run(inputWith(fleetInstances(), FLEET_PUB));

describe('trust model: who can affect whose pages (R5, R12)', () => {
  it('R12 forged fingerprint: pages published by acme are read by mallory, 1,634,304 bytes in 38 files', () => {
    const r = forged();
    // Hand figures: the worked-figures row 7,602,176 - 5,967,872 bytes saved, every saving a read of base-v2 from base-v1.
    expect(r.totals.bytesSaved).toBe(1_634_304);
    expect(
      referenceCells(
        [
          { image: 'base-v1.fp', domain: 'acme' },
          { image: 'base-v2.fp.forged', domain: 'acme' },
        ],
        FORGED_PUB,
      ),
    ).toEqual(new Map([['pub:acme>pub:mallory', { bytes: 1_634_304, files: 38, inodes: 38 }]]));
    expect(cellsOf(r)).toEqual(
      new Map([['pub:acme>pub:mallory', { bytes: 1_634_304, files: 38, inodes: 38 }]]),
    );
    const cell = r.trust!.matrix[0]!;
    expect(cell.domains).toEqual(['acme']);
    expect(cell.rows).toHaveLength(38);
    // Every row of the cell is a base-v2.fp.forged file on m2 that shares.
    for (const row of cell.rows) {
      expect(r.instances[r.files.instance[row]!]!.id).toBe('m2');
      expect(r.files.status[row]).toBe('shared');
    }
    expect(trustCellRows(r, 'pub:acme', 'pub:mallory')).toEqual(cell.rows);
    expect(cell.examples[0]).toBe('base-v2.fp.forged.img:/etc/ssl/openssl.cnf');
    const d = r.trust!.domains.find((x) => x.label === 'acme')!;
    expect(d.parties).toEqual(['pub:acme', 'pub:mallory']);
    expect(d.crossImageInodeCount).toBe(38);
    expect(d.crossImageBytes).toBe(1_634_304);
    expect(d.statements.map((s) => s.rule)).toEqual(['R2, R4', 'R12', 'R5, R12']);
    const m2 = r.trust!.instances.find((i) => i.id === 'm2')!;
    expect(m2.trustsImplicitly).toEqual(['base-v1.fp']);
    expect(m2.reads).toEqual([{ imageId: 'base-v1.fp', files: 38, bytes: 1_634_304 }]);
    // At run time m2 may read first: m1 trusts base-v2.fp.forged too.
    expect(r.trust!.instances.find((i) => i.id === 'm1')!.trustsImplicitly).toEqual(['base-v2.fp.forged']);
  });

  it('R12 forged fingerprint: fingerprints bound to content, one verified mismatch with its file', () => {
    const r = forged();
    const fp = r.trust!.fingerprints.find((f) => f.imageId === 'base-v2.fp.forged')!;
    expect(fp.counts).toEqual({
      'content-bound': 237,
      'verified-mismatch': 1,
      unverifiable: 0,
      'publisher-defined': 0,
    });
    expect(fp.weakest).toBe('verified-mismatch');
    expect(fp.examples['verified-mismatch']).toEqual(['/usr/bin/openssl']);
    const st = fp.statements.find((s) => s.binding === 'verified-mismatch')!;
    expect(st.rule).toBe('R12');
    expect(st.rowCount).toBe(1);
    expect(r.paths['base-v2.fp.forged']![r.files.file[st.rows![0]!]!]).toBe('/usr/bin/openssl');
    expect(r.trust!.fingerprints.find((f) => f.imageId === 'base-v1.fp')!.counts['content-bound']).toBe(238);
  });

  it('R4 serial fingerprints: publisher-defined, 655,360 bytes in 37 files read within acme', () => {
    const r = serial();
    expect(r.totals.bytesSaved).toBe(7_602_176 - 6_946_816);
    expect(cellsOf(r)).toEqual(new Map([['pub:acme>pub:acme', { bytes: 655_360, files: 37, inodes: 37 }]]));
    expect(cellsOf(r)).toEqual(
      referenceCells(
        [
          { image: 'base-v1.fp.serial', domain: 'acme' },
          { image: 'base-v2.fp.serial', domain: 'acme' },
        ],
        SERIAL_PUB,
      ),
    );
    for (const f of r.trust!.fingerprints) {
      expect(f.counts).toEqual({
        'content-bound': 0,
        'verified-mismatch': 0,
        unverifiable: 0,
        'publisher-defined': 238,
      });
      const st = f.statements.find((s) => s.binding === 'publisher-defined')!;
      expect(st.text).toContain('publishing one image into the domain that carries the same value');
      // Rows: the image's 238 fingerprinted files on its one instance.
      expect(st.rowCount).toBe(238);
    }
  });

  it('R12 fleet.fstab with two publishers in acme-signed: acme -> acme and acme -> appco, checked against the reference', () => {
    const r = fleet();
    // The six instances that mount (the others fail or are noauto, R2).
    const mounts = fleetInstances()
      .slice(0, 6)
      .map((i) => ({ image: i.imageId, domain: i.domain!.label }));
    const want = new Map([
      ['pub:acme>pub:acme', { bytes: 2_334_720, files: 261, inodes: 232 }],
      ['pub:acme>pub:appco', { bytes: 585_728, files: 4, inodes: 4 }],
    ]);
    expect(referenceCells(mounts, FLEET_PUB)).toEqual(want);
    expect(cellsOf(r)).toEqual(want);
    const d = r.trust!.domains.find((x) => x.label === 'acme-signed')!;
    expect(d.parties).toEqual(['pub:acme', 'pub:appco']);
    expect(d.statements.find((s) => s.rule === 'R12')!.text).toContain('mixes 2 publishers (acme, appco)');
    const app = r.trust!.instances.find((i) => i.id === 'app')!;
    expect(app.reads).toEqual([
      { imageId: 'base-v2.fp', files: 2, bytes: 458_752 },
      { imageId: 'base-v1.fp', files: 2, bytes: 126_976 },
    ]);
    // The thirdparty domain holds one image: no one else can affect it.
    expect(r.trust!.instances.find((i) => i.id === 'app-thirdparty')!.trustsImplicitly).toEqual([]);
    // Failed and unmounted instances share nothing.
    expect(r.trust!.instances.find((i) => i.id === 'with-dax')!.domain).toBeNull();
  });

  it('the text write-up and the Markdown section name the same pairs, bytes and files as the JSON', () => {
    for (const r of [forged(), serial(), fleet()]) {
      const json = JSON.parse(JSON.stringify(r)) as Report;
      const md = renderTrustMarkdown(json.trust!);
      const text = renderTrustText(json.trust!);
      const label = new Map(json.trust!.parties.map((p) => [p.key, p.label]));
      for (const c of json.trust!.matrix) {
        const bytes = c.bytes.toLocaleString('en-US');
        expect(md).toContain(
          `| ${label.get(c.supplier)} | ${label.get(c.reader)} | ${bytes} | ${c.files} | ${c.inodes} |`,
        );
        expect(text).toContain(`${label.get(c.supplier)} -> ${label.get(c.reader)}: ${bytes} bytes`);
        expect(text).toContain(`${c.files} file(s), ${c.inodes} shared inode(s)`);
      }
    }
    expect(renderTrustMarkdown(forged().trust!)).toContain('| acme | mallory | 1,634,304 | 38 | 38 | acme |');
    expect(renderTrustText(forged().trust!)).toContain(
      'acme -> mallory: 1,634,304 bytes (1.6 MiB), 38 file(s), 38 shared inode(s) in acme',
    );
  });

  it('an image without a publisher is a party of its own', () => {
    const input = inputOf([inst('m1', 'base-v1.fp', 'acme'), inst('m2', 'base-v2.fp', 'acme')]);
    const r = run(input);
    expect(r.trust!.parties.map((p) => [p.key, p.label])).toEqual([
      ['image:base-v1.fp', 'unknown publisher of base-v1.fp.img'],
      ['image:base-v2.fp', 'unknown publisher of base-v2.fp.img'],
    ]);
    expect(cellsOf(r)).toEqual(
      new Map([['image:base-v1.fp>image:base-v2.fp', { bytes: 655_360, files: 37, inodes: 37 }]]),
    );
  });

  it('R4 a cross-domain key collision finding is listed as a boundary break (looked up by code)', () => {
    const r = analyze(inputOf([inst('m1', 'base-v1.fp', 'a'), inst('m2', 'base-v2.fp', 'ab')]));
    const collision = {
      code: CROSS_DOMAIN_KEY_COLLISION,
      severity: 'error',
      message: 'hand-built: key of /etc/ssl/openssl.cnf in domain a equals a key in domain ab',
      domains: ['a', 'ab'],
      imageIds: ['base-v1.fp', 'base-v2.fp'],
      instanceIds: ['m1', 'm2'],
      rows: [3, 400],
      rowCount: 2,
    } as unknown as Finding;
    r.findings.push(collision);
    const t = buildTrustModel(r, inputOf([inst('m1', 'base-v1.fp', 'a'), inst('m2', 'base-v2.fp', 'ab')]));
    expect(t.boundaryBreaks).toEqual([
      {
        code: 'cross-domain-key-collision',
        severity: 'error',
        message: collision.message,
        domains: ['a', 'ab'],
        imageIds: ['base-v1.fp', 'base-v2.fp'],
        instanceIds: ['m1', 'm2'],
        rows: [3, 400],
        rowCount: 2,
      },
    ]);
    expect(renderTrustText(t)).toContain(`cross-domain-key-collision: ${collision.message}`);
    expect(renderTrustMarkdown(t)).toContain('**boundary break** `cross-domain-key-collision`');
    // Other findings are not boundary breaks.
    expect(
      buildTrustModel(
        analyze(inputOf([inst('m1', 'base-v1.fp', 'a')])),
        inputOf([inst('m1', 'base-v1.fp', 'a')]),
      ).boundaryBreaks,
    ).toEqual([]);
  });
});

describe('trust model: lifetime (docs/format.md#shared-runtime, R8, docs/format.md#trust)', () => {
  it('backing files: immutable, writable, not immutable and unknown; loop devices without direct I/O', () => {
    const a = inst('a', 'base-v1.fp', 'acme');
    a.backingFile = { uid: 0, gid: 0, mode: 0o444, immutable: true };
    const b = inst('b', 'base-v2.fp', 'acme');
    b.backingFile = { uid: 1000, gid: 1000, mode: 0o644, immutable: false };
    const c = inst('c', 'app.fp', 'acme');
    c.backingFile = { uid: 0, gid: 0, mode: 0o444, immutable: false };
    const d = inst('d', 'base-v1.fp', 'acme');
    const e = inst('e', 'base-v2.fp', 'acme', { backing: 'bdev' });
    e.source = '/dev/loop3';
    const f = inst('f', 'app.fp', 'acme', { backing: 'bdev' });
    f.source = '/dev/loop4';
    f.loopDirectIo = true;
    const r = run(inputOf([a, b, c, d, e, f]));
    const life = r.trust!.lifetime;
    expect(life.backingFiles.map((x) => [x.instanceId, x.state])).toEqual([
      ['a', 'immutable'],
      ['b', 'writable'],
      ['c', 'not-immutable'],
      ['d', 'unknown'],
    ]);
    expect(life.loopDevices).toEqual([
      { instanceId: 'e', source: '/dev/loop3', directIo: null },
      { instanceId: 'f', source: '/dev/loop4', directIo: true },
    ]);
    const texts = life.statements.map((s) => s.text).join('\n');
    expect(texts).toContain('Backing files of b are writable');
    expect(texts).toContain('Backing files of c have no write bit but are not immutable');
    expect(texts).toContain('file-backed instance (d) are not recorded');
    expect(texts).toContain('/dev/loop3 (e) may run without direct I/O');
    expect(texts).not.toContain('/dev/loop4');
    // Every group with members on two instances is held by both (a and d mount the same image).
    const many = r.groups.filter((g) => new Set(g.members.map((m) => r.files.instance[m])).size > 1).length;
    expect(life.sharedInodesHeldByMany).toBe(many);
    expect(many).toBeGreaterThan(0);
  });
});

function unhashed(name: string): AnalysisInput['images'][number] {
  const m = oracleManifest(name);
  const manifest: Manifest = { ...m, hashed: false, files: m.files.map(({ sha256: _s, ...rest }) => rest) };
  const x = image(name, 'acme');
  return { image: { ...x.image, hashed: false }, manifest };
}

describe('trust policy: each rule passes and fails', () => {
  it('domains: one-per-publisher fails on two publishers in one domain, passes on one', () => {
    const fail = evaluateTrustPolicy(fleet().trust!, { domains: 'one-per-publisher' });
    expect(fail.passed).toBe(false);
    expect(fail.checks).toHaveLength(1);
    expect(fail.checks[0]!.id).toBe('trust.domains');
    expect(fail.checks[0]!.message).toBe(
      'one domain per publisher: domain acme-signed mixes 2 publishers (acme, appco)',
    );
    expect(fail.checks[0]!.domains).toEqual(['acme-signed']);
    const pass = evaluateTrustPolicy(serial().trust!, { domains: 'one-per-publisher' });
    expect(pass.passed).toBe(true);
    expect(pass.checks[0]!.ok).toBe(true);
    // `any` checks nothing.
    expect(evaluateTrustPolicy(fleet().trust!, { domains: 'any' }).checks).toEqual([]);
  });

  it('domains: an unknown publisher or an unknown domain (R11) cannot be signed off', () => {
    const anon = run(inputOf([inst('m1', 'base-v1.fp', 'acme'), inst('m2', 'base-v2.fp', 'acme')]));
    const a = evaluateTrustPolicy(anon.trust!, { domains: 'one-per-publisher' });
    expect(a.passed).toBe(false);
    expect(a.checks[0]!.message).toContain('mixes 2 publishers');
    const unk = run(inputWith([inst('m1', 'base-v1.fp', null)], { 'base-v1.fp': 'acme' }));
    const u = evaluateTrustPolicy(unk.trust!, { domains: 'one-per-publisher' });
    expect(u.passed).toBe(false);
    expect(u.checks[0]!.message).toBe(
      'one domain per publisher: the domain of m1 is unknown (R11): assign domains to check it',
    );
  });

  it('allowPublisherDefinedFingerprints: false fails on serials, passes on sha256 fingerprints', () => {
    const fail = evaluateTrustPolicy(serial().trust!, { allowPublisherDefinedFingerprints: false });
    expect(fail.passed).toBe(false);
    expect(fail.checks[0]!.message).toBe(
      'publisher-defined fingerprints are not allowed: 476 file(s) in base-v1.fp.serial.img (238), base-v2.fp.serial.img (238)',
    );
    expect(fail.checks[0]!.rowCount).toBe(476);
    expect(evaluateTrustPolicy(forged().trust!, { allowPublisherDefinedFingerprints: false }).passed).toBe(
      true,
    );
    expect(evaluateTrustPolicy(serial().trust!, { allowPublisherDefinedFingerprints: true }).checks).toEqual(
      [],
    );
  });

  it('requireVerified fails on a forged fingerprint and on an unhashed image, passes on verified ones', () => {
    const f = evaluateTrustPolicy(forged().trust!, { requireVerified: true });
    expect(f.passed).toBe(false);
    expect(f.checks[0]!.message).toBe(
      'fingerprints must be verified: fingerprints that do not match the content in base-v2.fp.forged.img (1)',
    );
    expect(f.checks[0]!.rowCount).toBe(1);
    const input = inputOf([inst('m1', 'base-v1.fp', 'acme'), inst('m2', 'base-v2.fp', 'acme')]);
    input.images = [image('base-v1.fp', 'acme'), unhashed('base-v2.fp')];
    const u = evaluateTrustPolicy(run(input).trust!, { requireVerified: true });
    expect(u.passed).toBe(false);
    expect(u.checks[0]!.message).toBe(
      'fingerprints must be verified: unverified sha256 fingerprints (scan with --hash) in base-v2.fp.img (238)',
    );
    const ok = run(
      inputWith([inst('m1', 'base-v1.fp', 'acme'), inst('m2', 'base-v2.fp', 'acme')], {
        'base-v1.fp': 'acme',
        'base-v2.fp': 'acme',
      }),
    );
    const p = evaluateTrustPolicy(ok.trust!, {
      requireVerified: true,
      domains: 'one-per-publisher',
      allowPublisherDefinedFingerprints: false,
    });
    expect(p.passed).toBe(true);
    expect(p.checks.map((c) => c.id)).toEqual([
      'trust.domains',
      'trust.allowPublisherDefinedFingerprints',
      'trust.requireVerified',
    ]);
  });
});
