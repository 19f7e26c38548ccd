/**
 * `sharemap scan --hash --threads N` (docs/cli.md#sharemap-scan): the digest threads change nothing in
 * the output, a bad N is refused with one line, and a file the threads cannot read (a corrupt
 * pcluster) ends the built CLI with exit code 2 and the line the in-thread scan prints.
 */
import { describe, expect, it } from 'vitest';
import { corruptPclusterImage } from '../../../packages/erofs/test/node/bad-pcluster.js';
import { cli, cliProcess, fx, haveBuild, oneLine, tmp } from './helpers.js';
import { serve } from './server-helpers.js';

describe('sharemap scan --threads', () => {
  it.each(['app.fp.lz4hc.img', 'edge.zstd.fp.img', 'base-v2.fp.img'])(
    '%s: --threads 0, 1, 3 and the default print the same bytes',
    async (name) => {
      const base = await cli(['scan', fx(name), '--hash', '--ndjson', '--threads', '0']);
      expect(base.code).toBe(0);
      expect(base.stdout).toContain('"sha256":');
      for (const extra of [['--threads', '1'], ['--threads', '3'], []]) {
        const r = await cli(['scan', fx(name), '--hash', '--ndjson', ...extra]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toBe(base.stdout);
      }
      // the JSON form goes through the whole-manifest path
      const json0 = await cli(['scan', fx(name), '--hash', '--json', '--threads', '0']);
      const json2 = await cli(['scan', fx(name), '--hash', '--json', '--threads', '2']);
      expect(json2.stdout).toBe(json0.stdout);
    },
    120_000,
  );

  // The built CLI starts the default digest threads as it starts, before it loads the command
  // (docs/reader.md#digest-threads-started-ahead); the scan's pool takes them.
  it.skipIf(!haveBuild())(
    'the built CLI, default threads (started ahead): the bytes of --threads 0',
    () => {
      for (const name of ['app.fp.lz4hc.img', 'edge.zstd.fp.img']) {
        const base = cliProcess(['scan', fx(name), '--hash', '--ndjson', '--threads', '0']);
        expect(base.code).toBe(0);
        const r = cliProcess(['scan', fx(name), '--hash', '--ndjson']);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toBe(base.stdout);
      }
    },
    120_000,
  );

  it.each(['x', '-1', '65', '1.5', ''])('--threads %j is refused with one line', async (bad) => {
    const r = await cli(['scan', fx('app.fp.img'), '--hash', '--ndjson', `--threads=${bad}`]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(oneLine(r.stderr)).toContain(
      `--threads must be an integer from 0 to 64, not ${JSON.stringify(bad)}`,
    );
  });

  it.skipIf(!haveBuild())(
    'a corrupt pcluster: exit 2 and the in-thread line, with 2 threads (built CLI)',
    async () => {
      const bad = await corruptPclusterImage(tmp());
      const inThread = cliProcess(['scan', bad, '--hash', '--ndjson', '--threads', '0']);
      expect(inThread.code).toBe(2);
      const line = oneLine(inThread.stderr);
      expect(line).toContain('"/text.txt"');
      const threaded = cliProcess(['scan', bad, '--hash', '--ndjson', '--threads', '2']);
      expect(threaded.code).toBe(2);
      expect(oneLine(threaded.stderr)).toBe(line);
      // the records before the bad file, as the in-thread scan wrote them
      expect(threaded.stdout).toBe(inThread.stdout);
    },
    120_000,
  );
});

/**
 * `--threads` is a scan option of every command that scans images with --hash
 * (docs/cli.md#digest-threads): the digests, so the fingerprint-mismatch findings of a forged
 * image, are the same whether the walking thread or two digest threads compute them.
 */
describe('analyze and upload --scan-locally take --threads', () => {
  const FORGED = ['base-v2.fp.forged.img', 'base-v2.fp.img'];

  it('analyze --hash --json: --threads 0 and --threads 2 print the same report, bad N refused', async () => {
    const r0 = await cli(['analyze', ...FORGED.map(fx), '--hash', '--json', '--threads', '0']);
    expect(r0.code, r0.stderr).toBe(0);
    expect(r0.stdout).toContain('fingerprint-mismatch');
    const r2 = await cli(['analyze', ...FORGED.map(fx), '--hash', '--json', '--threads', '2']);
    expect(r2.code, r2.stderr).toBe(0);
    // the report differs in its creation time only
    expect(withoutIdentity(JSON.parse(r2.stdout))).toEqual(withoutIdentity(JSON.parse(r0.stdout)));
    const bad = await cli(['analyze', fx('app.fp.img'), '--hash', '--threads', '65']);
    expect(bad.code).toBe(2);
    expect(oneLine(bad.stderr)).toContain(
      'sharemap analyze: --threads must be an integer from 0 to 64, not "65"',
    );
  }, 120_000);

  it('upload --scan-locally --hash: --threads 0 and --threads 2 store the same report, bad N refused', async () => {
    const { server } = await serve(false);
    try {
      const reports: unknown[] = [];
      for (const threads of ['0', '2']) {
        const r = await cli([
          'upload',
          ...FORGED.map(fx),
          '--scan-locally',
          '--hash',
          '--threads',
          threads,
          '--server',
          server.url,
          '--json',
          '-q',
        ]);
        expect(r.code, r.stderr).toBe(0);
        const { id } = JSON.parse(r.stdout) as { id: string };
        const res = await fetch(`${server.url}/api/reports/${id}`);
        expect(res.status).toBe(200);
        const body = (await res.json()) as Record<string, unknown>;
        expect(JSON.stringify(body)).toContain('fingerprint-mismatch');
        reports.push(body);
      }
      expect(withoutIdentity(reports[1])).toEqual(withoutIdentity(reports[0]));
      const bad = await cli([
        'upload',
        fx('app.fp.img'),
        '--scan-locally',
        '--hash',
        '--threads',
        'x',
        '--server',
        server.url,
      ]);
      expect(bad.code).toBe(2);
      expect(oneLine(bad.stderr)).toContain(
        'sharemap upload: --threads must be an integer from 0 to 64, not "x"',
      );
    } finally {
      await server.close(1000);
    }
  }, 180_000);
});

/** A stored report without what names the upload (its id, its time, the manifest ids). */
function withoutIdentity(report: unknown): unknown {
  return JSON.parse(
    JSON.stringify(report, (key, value: unknown) =>
      ['id', 'createdAt', 'created_at', 'manifestId', 'manifestIds', 'url'].includes(key) ? undefined : value,
    ),
  );
}
