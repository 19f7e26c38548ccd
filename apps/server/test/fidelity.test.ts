/**
 * Fidelity to the kernel (docs/sharing-rules.md) over the HTTP API: contradictory mount inputs and clashing domain labels
 * are refused with 422 and a message naming both sources, never folded silently.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, erofs, errorOf, mounts, startTestServer, waitImage, type TestServer } from './helpers.js';

describe('fidelity over the API', () => {
  let s: TestServer;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    s = await startTestServer();
    for (const name of ['base-v1.fp.img', 'base-v2.fp.img']) {
      const up = await api(s.url, 'POST', `/api/images?name=${name}`, {
        body: readFileSync(erofs(name)),
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(up.status).toBe(202);
      expect((await waitImage(s.url, up.body.id as string)).status).toBe('ready');
      ids[name] = up.body.id as string;
    }
  });
  afterAll(async () => {
    await s.stop();
  });

  const config = async (text: string, fileName: string): Promise<string> => {
    const r = await api(s.url, 'POST', '/api/mount-configs', { json: { text, fileName } });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };

  it('item 2 (R11): a written label equal to a domain_id label: 422 naming both mounts', async () => {
    // testdata/mounts/label-clash: the fstab's domain_id becomes D1; the plan writes "D1".
    const read = (name: string): string => readFileSync(mounts(`label-clash/${name}`), 'utf8');
    const fstab = await config(read('host.fstab'), 'host.fstab');
    const plan = await config(read('extra.plan.json'), 'extra.plan.json');
    const r = await api(s.url, 'POST', '/api/reports', {
      json: { images: [ids['base-v1.fp.img'], ids['base-v2.fp.img']], mountConfigs: [fstab, plan] },
    });
    expect(r.status).toBe(422);
    const e = errorOf(r);
    expect(e.code).toBe('bad-report-request');
    expect(e.message).toContain(
      'domain label "D1" is both the label of a domain_id= value (/run/a (host.fstab:1:1)) and a label written by hand (/run/b (extra.plan.json:1:53))',
    );
    expect(r.text).not.toContain('tenant-a');
  }, 120_000);

  it('item 5 (R9): two images on one block device: 422 naming both mounts', async () => {
    const mi = await config(
      '36 25 7:0 / /run/a ro,relatime - erofs /dev/loop0 ro,inode_share\n' +
        '37 25 7:0 / /run/b ro,relatime - erofs /dev/loop1 ro,inode_share\n',
      'host.mountinfo',
    );
    const r = await api(s.url, 'POST', '/api/reports', {
      json: {
        images: [ids['base-v1.fp.img'], ids['base-v2.fp.img']],
        mountConfigs: [mi],
        mapping: { '/dev/loop0': ids['base-v1.fp.img'], '/dev/loop1': ids['base-v2.fp.img'] },
      },
    });
    expect(r.status).toBe(422);
    expect(errorOf(r)).toMatchObject({
      code: 'bad-mount-config',
      reason: 'contradictory-mounts',
      file: 'host.mountinfo',
      line: 2,
    });
    expect(errorOf(r).message).toContain(
      '/run/b mounts block device 7:0 over image base-v2.fp.img, but /run/a (host.mountinfo:1:40)',
    );
  });
});
