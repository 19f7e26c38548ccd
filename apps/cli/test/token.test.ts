/**
 * `sharemap token create | list | revoke` against a running server that requires tokens: a
 * revoked token is refused at its next request (over a real socket), and `list` shows when
 * each token was last used (docs/cli.md#sharemap-token-create).
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '@sharemap/server';
import { cli } from './helpers.js';
import { serve } from './server-helpers.js';

/** POST /api/reports with an empty object: past the token check it is refused as incomplete (400). */
function postReport(port: number, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/reports',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
}

describe('sharemap token list / revoke', () => {
  let s: RunningServer;
  let data: string;
  beforeAll(async () => {
    ({ server: s, data } = await serve(true));
  });
  afterAll(async () => {
    await s?.close(1000);
  });

  it('lists tokens with their last use, revokes one, and the server refuses it at once', async () => {
    const ci = (await cli(['token', 'create', 'ci', '--data', data])).stdout.trim();
    const other = (await cli(['token', 'create', 'nightly', '--data', data])).stdout.trim();
    expect(ci).toMatch(/^smt_/);

    const before = await cli(['token', 'list', '--data', data]);
    expect(before.code).toBe(0);
    const lines0 = before.stdout.trim().split('\n');
    expect(lines0).toHaveLength(2);
    expect(lines0[0]).toMatch(/^ci\twriter\tcreated \S+\tlast used never$/);
    expect(before.stdout).not.toContain(ci);

    const used = await postReport(s.port, ci);
    expect(used.status).toBe(400); // past the token check
    const after = await cli(['token', 'list', '--data', data]);
    const ciLine = after.stdout.split('\n').find((l) => l.startsWith('ci\t'))!;
    expect(ciLine).toMatch(/\tlast used \d{4}-\d\d-\d\dT/);
    expect(after.stdout.split('\n').find((l) => l.startsWith('nightly\t'))).toMatch(/last used never$/);

    const revoked = await cli(['token', 'revoke', 'ci', '--data', data]);
    expect(revoked.code).toBe(0);
    expect(revoked.stderr).toContain('revoked 1 token named "ci"');
    const refused = await postReport(s.port, ci);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({
      error: { code: 'unauthorized', message: 'unknown or revoked token' },
    });
    // The other token still works; the list no longer has "ci".
    expect((await postReport(s.port, other)).status).toBe(400);
    const last = await cli(['token', 'list', '--data', data]);
    expect(
      last.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('\t')[0]),
    ).toEqual(['nightly']);
  });

  it('revoking an unknown name, or a bad subcommand, exits 2 with one line on stderr', async () => {
    const r = await cli(['token', 'revoke', 'nobody', '--data', data]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('no token named "nobody"');
    expect((await cli(['token', 'delete', 'x', '--data', data])).code).toBe(2);
    expect((await cli(['token', 'list', 'extra', '--data', data])).code).toBe(2);
  });
});
