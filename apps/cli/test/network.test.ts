import { describe, expect, it } from 'vitest';
import { cli, cliProcess, fx, haveBuild, oneLine } from './helpers.js';
import { unusedPort } from './server-helpers.js';

describe('server or network errors: exit 3', () => {
  it('upload to a port nobody listens on', async () => {
    const port = await unusedPort();
    const r = await cli(['upload', fx('app.fp.img'), '--server', `http://127.0.0.1:${port}`, '-q']);
    expect(r.code).toBe(3);
    expect(oneLine(r.stderr)).toMatch(
      new RegExp(
        `^sharemap: cannot reach the sharemap server at http://127\\.0\\.0\\.1:${port}: ECONNREFUSED`,
      ),
    );
  });

  it('upload --scan-locally and a baseline id fetched from an unreachable server', async () => {
    const port = await unusedPort();
    let r = await cli([
      'upload',
      fx('app.fp.img'),
      '--scan-locally',
      '--server',
      `http://127.0.0.1:${port}`,
      '-q',
    ]);
    expect(r.code).toBe(3);
    r = await cli([
      'analyze',
      fx('app.fp.img'),
      '--baseline',
      'abc123',
      '--server',
      `http://127.0.0.1:${port}`,
    ]);
    expect(r.code).toBe(3);
    expect(oneLine(r.stderr)).toMatch(/ECONNREFUSED/);
    r = await cli(['analyze', fx('app.fp.img'), '--baseline', `http://127.0.0.1:${port}/r/abc123`]);
    expect(r.code).toBe(3);
  });

  it('upload usage errors come before any network access (exit 2)', async () => {
    let r = await cli(['upload', fx('app.fp.img')]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/no server: give --server URL/);
    r = await cli(['upload', fx('no-such.img'), '--server', 'http://127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/no-such\.img: cannot read: no such file/);
    r = await cli(['upload', fx('app.fp.img'), '--server', 'not a url']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/--server: expected an http\(s\) URL/);
    r = await cli(['upload', fx('app.fp.img'), '--hash', '--server', 'http://127.0.0.1:1']);
    expect(r.code).toBe(2);
  });

  it.skipIf(!haveBuild())('child process: exit 3 on connection refused (built CLI)', async () => {
    const port = await unusedPort();
    const r = cliProcess(['upload', fx('app.fp.img'), '--server', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/ECONNREFUSED/);
  });
});
