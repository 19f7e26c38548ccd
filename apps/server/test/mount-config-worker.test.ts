/**
 * Mount configurations are parsed in a worker thread, and no regular expression of the
 * parsers backtracks super-linearly: a 720 KB mountinfo of overlay mount points holding long
 * runs of slashes (the quadratic `/\/+$/` of basename() once held the event loop 30 s) is
 * parsed while /api/health keeps answering.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, errorOf, startTestServer, type TestServer } from './helpers.js';

const SLASH_RUN = 20_000;

/** ~720 KB of mountinfo: overlay mounts whose mount points hold a run of slashes before a name. */
function slashHeavyMountinfo(): { text: string; lines: number } {
  const lines: string[] = [];
  let bytes = 0;
  for (let n = 100; bytes < 720_000; n++) {
    const line = `${n} 22 0:${n} / /run/c${n}${'/'.repeat(SLASH_RUN)}web-${n} rw,relatime - overlay overlay rw,lowerdir=/l${n},upperdir=/u${n},workdir=/w${n}`;
    lines.push(line);
    bytes += line.length + 1;
  }
  return { text: lines.join('\n') + '\n', lines: lines.length };
}

function post(url: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('mount configurations off the event loop', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.stop();
  });

  it('a 720 KB slash-heavy mountinfo: /api/health answers while it is parsed, and it parses', async () => {
    const { text, lines } = slashHeavyMountinfo();
    expect(text.length).toBeGreaterThan(700_000);
    // Poll health while the upload is pending; a health answer that reports a parse running
    // was given while the parser worked. A fast parse can end between two polls: try again.
    let seenWhileParsing = 0;
    let result: { status: number; text: string } | undefined;
    for (let attempt = 0; attempt < 10 && seenWhileParsing === 0; attempt++) {
      let pending = true;
      const upload = post(`${s.url}/api/mount-configs?name=host.mountinfo`, text).finally(() => {
        pending = false;
      });
      while (pending) {
        const h = await api(s.url, 'GET', '/api/health');
        expect(h.status).toBe(200);
        const parses = h.body.mountConfigParses as { running: number } | undefined;
        if (pending && parses && parses.running > 0) seenWhileParsing++;
      }
      result = await upload;
      expect(result.status).toBe(201);
    }
    expect(seenWhileParsing).toBeGreaterThan(0);
    const body = JSON.parse(result!.text) as { format: string; entries: { mountPoint: string }[] };
    expect(body.format).toBe('mountinfo');
    // The real parse result: every line is an overlay context whose user is the mount point's
    // last component (basename() over the run of slashes).
    const id = (JSON.parse(result!.text) as { id: string }).id;
    const got = await api(s.url, 'GET', `/api/mount-configs/${id}`);
    expect(got.status).toBe(200);
    const config = got.body.config as { context: { kind: string; user: string; mountPoint: string }[] };
    expect(config.context).toHaveLength(lines);
    for (const [k, c] of config.context.entries()) {
      expect(c.kind).toBe('overlay');
      expect(c.user).toBe(`web-${100 + k}`);
      expect(c.mountPoint).toBe(`/run/c${100 + k}${'/'.repeat(SLASH_RUN)}web-${100 + k}`);
    }
  }, 240_000);

  it('a configuration the parser refuses is still a 422 with its location (the error crosses the worker)', async () => {
    const r = await api(s.url, 'POST', '/api/mount-configs?name=broken.fstab&format=fstab', {
      // (an empty domain_id= fails that mount only, as the kernel does: a malformed line fails the input)
      body: '/dev/loop0 /mnt erofs ro 0 x\n',
      headers: { 'content-type': 'text/plain' },
    });
    expect(r.status).toBe(422);
    const e = errorOf(r);
    expect(e.code).toBe('bad-mount-config');
    expect(e).toMatchObject({ file: 'broken.fstab', line: 1 });
  });
});
