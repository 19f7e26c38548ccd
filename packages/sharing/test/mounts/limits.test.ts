import { describe, expect, it } from 'vitest';
import { MAX_ENTRIES, MAX_INPUT_BYTES, MAX_LINE_LENGTH } from '../../src/mounts/limits.js';
import {
  createDomainRedactor,
  MountConfigError,
  parseMountConfig,
  resolveInstances,
} from '../../src/mounts/index.js';

/** A compact one-line plan (what JSON.stringify writes) of `n` file-backed mounts, `kind` last. */
function oneLinePlan(n: number): string {
  const mounts = Array.from({ length: n }, (_, k) => ({
    source: `/var/lib/containers/storage/erofs-images/fleet-image-${String(k).padStart(4, '0')}.erofs`,
    mountPoint: `/run/containers/storage/erofs-mounts/instance-${String(k).padStart(4, '0')}`,
    options: `ro,inode_share,domain_id=tenant-${k % 7}`,
  }));
  return JSON.stringify({ mounts, version: 1, kind: 'sharemap-mount-plan' });
}

// Limits that real fleets fit in (docs/mount-formats.md#limits-mountslimitsts).
describe('limits that real fleets fit in (a compact one-line JSON plan over 64 KiB is accepted)', () => {
  it('a one-line plan of 650 mounts (> 64 KiB on one line) parses, kind after the mounts', () => {
    const text = oneLinePlan(650);
    expect(text.includes('\n')).toBe(false);
    expect(text.length).toBeGreaterThan(MAX_LINE_LENGTH);
    const c = parseMountConfig(text, { file: 'fleet.json', domains: createDomainRedactor() });
    expect(c.format).toBe('plan');
    expect(c.entries).toHaveLength(650);
    expect(new Set(c.entries.map((e) => e.domain?.label))).toEqual(
      new Set(['D1', 'D2', 'D3', 'D4', 'D5', 'D6', 'D7']),
    );
    const images = Array.from({ length: 650 }, (_, k) => {
      const name = `fleet-image-${String(k).padStart(4, '0')}.erofs`;
      return { id: name, name };
    });
    expect(resolveInstances([c], images).instances).toHaveLength(650);
  });

  it('plans are bounded by mount count and total size instead', () => {
    let err: unknown;
    try {
      parseMountConfig(oneLinePlan(MAX_ENTRIES + 1), { file: 'huge.json' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MountConfigError);
    expect((err as MountConfigError).code).toBe('too-large');
    expect((err as Error).message).toMatch(`more than ${MAX_ENTRIES} mount entries`);
    const big = `{"kind":"sharemap-mount-plan","version":1,"mounts":[],"comment":"${'x'.repeat(MAX_INPUT_BYTES)}"}`;
    expect(() => parseMountConfig(big, { file: 'big.json' })).toThrow(
      `input larger than ${MAX_INPUT_BYTES} bytes`,
    );
  });

  it('line-based formats keep their per-line bound', () => {
    const long = `/i.img /m erofs ro,${'x'.repeat(MAX_LINE_LENGTH)} 0 0\n`;
    expect(() => parseMountConfig(long, { file: 'fstab' })).toThrow(`line longer than ${MAX_LINE_LENGTH}`);
  });
});
