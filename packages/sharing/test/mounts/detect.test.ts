import { describe, expect, it } from 'vitest';
import { createDomainRedactor, detectFormat, parseMountConfig } from '../../src/mounts/index.js';

// Format detection must not throw information away (docs/mount-formats.md).
describe('format detection keeps the options (fstab line with domain_id= is not /proc/mounts)', () => {
  const LINE = '/images/base.erofs /mnt/base erofs ro,inode_share,domain_id=tenant-a 0 0\n';

  it('a pasted fstab line with domain_id= is read as fstab and keeps its domain', () => {
    expect(detectFormat(LINE)).toBe('fstab');
    const c = parseMountConfig(LINE, { file: 'pasted', domains: createDomainRedactor() });
    expect(c.format).toBe('fstab');
    expect(c.entries).toHaveLength(1);
    expect(c.entries[0]!.domainKnown).toBe(true);
    expect(c.entries[0]!.domain).toEqual({ label: 'D1', source: 'domain-id' });
    expect(c.entries[0]!.options.domainIdGiven).toBe(true);
  });

  it('domain_id= rules out /proc/mounts even by file name, and mountinfo by content', () => {
    expect(detectFormat(LINE, 'mounts')).toBe('fstab');
    expect(detectFormat(LINE, 'etc.mounts')).toBe('fstab');
    // A mountinfo-shaped line whose super options carry domain_id was not printed by the kernel.
    const info = '36 25 7:0 / /mnt/base ro,relatime - erofs /dev/loop0 ro,inode_share,domain_id=t\n';
    expect(() => detectFormat(info)).toThrow(/cannot tell the format/);
  });

  it("mount(8)'s own options (defaults, noauto, nofail, x-*) also decide for fstab", () => {
    for (const opts of ['ro,defaults', 'ro,noauto', 'ro,nofail', 'ro,x-systemd.automount'])
      expect(detectFormat(`/i.img /mnt/i erofs ${opts} 0 0\n`)).toBe('fstab');
  });

  it('what the kernel prints is still /proc/mounts (no option the kernel would omit)', () => {
    expect(detectFormat('/dev/loop0 /mnt/base erofs ro,relatime,inode_share 0 0\n')).toBe('proc-mounts');
    // a source or mount point named like an option does not count: only the option field does
    expect(detectFormat('user /home/defaults erofs ro,relatime 0 0\n')).toBe('proc-mounts');
  });
});
