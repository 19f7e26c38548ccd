/**
 * Fidelity to the kernel (docs/sharing-rules.md) through the CLI: the exit codes and one-line errors a user gets, on real
 * fixture images and manifests edited the way a publisher's own tooling could write them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '@sharemap/sharing';
import { cli, fx, MOUNTS, oneLine, tmp } from './helpers.js';

/** The NDJSON manifest of a fixture image, with `change` applied to each file record. */
async function manifest(
  dir: string,
  image: string,
  change: (rec: Record<string, unknown>) => Record<string, unknown>,
): Promise<string> {
  const r = await cli(['scan', fx(image), '--ndjson']);
  expect(r.code).toBe(0);
  const lines = r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l, k) => (k === 0 ? l : JSON.stringify(change(JSON.parse(l) as Record<string, unknown>))));
  const path = join(dir, `${image}.ndjson`);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** Writes `text` to `dir/name`; returns the path. */
function file(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const OPENSSL = '/etc/ssl/openssl.cnf';
const LIBZ = '/lib/x86_64-linux-gnu/libz.so.1.2.13';

describe('fidelity through sharemap analyze', () => {
  it('item 2 (R11): a plan label "D1" next to an fstab domain_id labelled D1: exit 2 naming both', async () => {
    // testdata/mounts/label-clash: the fstab's domain_id becomes D1; the plan writes "D1".
    const fstab = join(MOUNTS, 'label-clash/host.fstab');
    const plan = join(MOUNTS, 'label-clash/extra.plan.json');
    const r = await cli([
      'analyze',
      fx('base-v1.fp.img'),
      fx('base-v2.fp.img'),
      '--mounts',
      fstab,
      '--mounts',
      plan,
    ]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(
      'sharemap: analysis failed: domain label "D1" is both the label of a domain_id= value (/run/a (host.fstab:1:1)) ' +
        'and a label written by hand (/run/b (extra.plan.json:1:53)); a written label cannot name a secret domain_id (R11): ' +
        'rename the written label, or give that mount the domain_id= option instead',
    );
    expect(r.stderr).not.toContain('tenant-a');
  }, 120_000);

  it('item 3 (R4): serial fingerprints of different lengths share across two domains: an error finding', async () => {
    const dir = tmp();
    const v2 = await manifest(dir, 'base-v2.fp.serial.img', (x) => x);
    const serial = (await cli(['scan', fx('base-v2.fp.serial.img'), '--ndjson'])).stdout
      .split('\n')
      .filter((l) => l.includes(`"${OPENSSL}"`))
      .map((l) => (JSON.parse(l) as { fingerprint: string }).fingerprint)[0]!;
    const v1 = await manifest(dir, 'base-v1.fp.serial.img', (x) =>
      x.path === OPENSSL ? { ...x, fingerprint: serial.slice(0, -2) } : x,
    );
    const fstab = file(
      dir,
      'fstab',
      '/var/lib/images/base-v1.fp.serial.img /run/a erofs ro,inode_share,domain_id=1tenant-zeta 0 0\n' +
        '/var/lib/images/base-v2.fp.serial.img /run/b erofs ro,inode_share,domain_id=tenant-zeta 0 0\n',
    );
    const r = await cli([
      'analyze',
      v1,
      v2,
      '--mounts',
      fstab,
      '--json',
      '--fail-on',
      'cross-domain-key-collision',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('tenant-zeta');
    const report = JSON.parse(r.stdout) as Report;
    expect(report.totals.bytesWithSharing).toBe(7_602_176 - 4 * 4096);
    const f = report.findings.find((x) => x.code === 'cross-domain-key-collision')!;
    expect(f.severity).toBe('error');
    expect(f.domains).toEqual(['D1', 'D2']);
    expect(f.rowCount).toBe(2);
  });

  it('item 4 (R5): one file of each size is not order-dependent: --fail-on order-dependent passes', async () => {
    const dir = tmp();
    const v1 = await manifest(dir, 'base-v1.fp.img', (x) => x);
    const v2 = await manifest(dir, 'base-v2.fp.img', (x) =>
      x.path === LIBZ ? { ...x, size: (x.size as number) + 1 } : x,
    );
    const r = await cli(['analyze', v1, v2, '--fail-on', 'order-dependent']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/between|read order/);
  });

  it('item 5 (R9): two images on one block device: exit 2 naming both mounts', async () => {
    const dir = tmp();
    const mi = file(
      dir,
      'host.mountinfo',
      '36 25 7:0 / /run/a ro,relatime - erofs /dev/loop0 ro,inode_share\n' +
        '37 25 7:0 / /run/b ro,relatime - erofs /dev/loop1 ro,inode_share\n',
    );
    const r = await cli([
      'analyze',
      fx('base-v1.fp.img'),
      fx('base-v2.fp.img'),
      '--mounts',
      mi,
      '--map',
      '/dev/loop0=base-v1.fp.img',
      '--map',
      '/dev/loop1=base-v2.fp.img',
    ]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(
      'sharemap: host.mountinfo:2:40: /run/b mounts block device 7:0 over image base-v2.fp.img, but /run/a (host.mountinfo:1:40) ' +
        'mounts the same device over image base-v1.fp.img; one block device holds one image (R9): fix the device numbers or the image mapping',
    );
  });
});
