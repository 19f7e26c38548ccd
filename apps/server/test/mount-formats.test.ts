/** Mount configurations as users paste and generate them (docs/mount-formats.md). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestServer, type TestServer } from './helpers.js';

describe('mount configurations: format reported, real-fleet sizes accepted', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.stop();
  });

  it('a pasted fstab line with domain_id= is read as fstab (not /proc/mounts) and keeps its domain', async () => {
    const r = await api(s.url, 'POST', '/api/mount-configs', {
      json: {
        text: '/var/lib/images/app.fp.img /run/images/app erofs ro,inode_share,domain_id=tenant-a 0 0\n',
      },
    });
    expect(r.status).toBe(201);
    expect(r.body.format).toBe('fstab');
    const entries = r.body.entries as { domain: string | null; domainKnown: boolean }[];
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ domain: 'D1', domainKnown: true });
    expect(r.text).not.toContain('tenant-a');
  });

  it('a compact one-line JSON plan of 650 mounts (> 64 KiB) is accepted', async () => {
    const mounts = Array.from({ length: 650 }, (_, k) => ({
      source: `/var/lib/containers/storage/erofs-images/fleet-image-${String(k).padStart(4, '0')}.erofs`,
      mountPoint: `/run/containers/storage/erofs-mounts/instance-${String(k).padStart(4, '0')}`,
      options: `ro,inode_share,domain_id=tenant-${k % 7}`,
    }));
    const text = JSON.stringify({ kind: 'sharemap-mount-plan', version: 1, mounts });
    expect(text.length).toBeGreaterThan(64 * 1024);
    const r = await api(s.url, 'POST', '/api/mount-configs?name=fleet.json', {
      body: text,
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(201);
    expect(r.body.format).toBe('plan');
    expect(r.body.entries as unknown[]).toHaveLength(650);
  });
});
