/**
 * OCI archives on the command line (docs/oci.md): `scan ARCHIVE` prints the predicted
 * manifest of the flattened image (or one per layer), `analyze` takes archives in both
 * models, and every broken archive exits 2 with one line on stderr and no report.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseManifest, type FileRecord, type Manifest } from '@sharemap/erofs';
import { scanImageFile } from '@sharemap/erofs/node';
import { indexTar, readTar, resolveOciLimits } from '@sharemap/oci';
import { releaseDigestWorker } from '@sharemap/oci/node';
import { memorySource } from '@sharemap/erofs';
import { markdownText } from '@sharemap/sharing';
import { runAnalysis } from '../src/analysis.js';
import { cli, ROOT, tmp } from './helpers.js';

const OCI = join(ROOT, 'testdata/oci');

// The CLI runs in this process: the OCI digest thread it started ends with the file, as at the
// CLI's exit (this file shares its process with others: apps/server/test/server-shared-process-guard.ts).
afterAll(() => releaseDigestWorker());
const DOCKER = join(OCI, 'image.docker.tar');
const OCI_TAR = join(OCI, 'image.oci.tar');
const LAYER1 = 'c989eb7f40a2b960235e40ce49bae3eaff9a215a6e30950db24f06143369558c/layer.tar';

/** Fields that do not depend on -T/--mkfs-time or on the on-disk layout. */
const core = ({ nid: _n, layout: _l, mtime: _m, mtime_nsec: _ns, inode_size: _i, ...r }: FileRecord) => r;

async function extract(tarPath: string, dir: string): Promise<void> {
  const dec = new TextDecoder();
  async function* chunks() {
    yield readFileSync(tarPath);
  }
  for await (const e of readTar(chunks(), resolveOciLimits())) {
    const p = join(dir, dec.decode(e.name));
    if (e.kind === 'dir') mkdirSync(p, { recursive: true });
    if (e.kind !== 'file') continue;
    mkdirSync(dirname(p), { recursive: true });
    const parts: Uint8Array[] = [];
    for await (const c of e.data()) parts.push(c.slice());
    writeFileSync(p, Buffer.concat(parts));
  }
}

/** A copy of image.docker.tar with `edit` applied to its bytes. */
async function brokenDocker(
  edit: (b: Buffer, layer1: { offset: number; size: number }, headerAt: number) => Buffer,
): Promise<string> {
  const b = Buffer.from(readFileSync(DOCKER));
  const idx = (await indexTar(memorySource(b), resolveOciLimits(), 'x'))!;
  const l1 = idx.get(LAYER1)!;
  const p = join(tmp(), 'broken.tar');
  writeFileSync(p, edit(b, l1, l1.offset - 512));
  return p;
}

function fixChecksum(b: Buffer, at: number): void {
  b.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + 512; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', at + 148, 'latin1');
}

describe('sharemap scan ARCHIVE', () => {
  it('docker save --hash --json: the flattened image, predicted, equal to the scan of the image mkfs.erofs built', async () => {
    const r = await cli(['scan', DOCKER, '--hash', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = parseManifest(r.stdout) as Manifest;
    const { image, ...build } = m.predicted!;
    expect(build).toEqual({
      tool: 'mkfs.erofs 1.9.3',
      options: ['--tar=f', '--xattr-inode-digest', '-T0', '--mkfs-time'],
      source: 'flattened image sharemap/demo:1.0',
    });
    // The image detail (its exact values: packages/oci/test/image.test.ts).
    expect(image!.repoTags).toEqual(['sharemap/demo:1.0']);
    expect(image!.layers.map((l) => [l.added, l.changed, l.deleted])).toEqual([
      [36, 0, 0],
      [6, 3, 6],
      [5, 3, 2],
    ]);
    expect(m.image.name).toBe('sharemap_demo:1.0');
    const img = await scanImageFile(join(OCI, 'image.flat.img'), { hash: true });
    expect(m.files.map(core)).toEqual(img.files.map(core));
  });

  it('--layers --ndjson: one predicted manifest per layer, as containerd converts them', async () => {
    const r = await cli(['scan', OCI_TAR, '--layers', '--ndjson', '--platform', 'linux/arm64/v8']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const headers = lines
      .map((l, i) => [i, JSON.parse(l) as Record<string, unknown>] as const)
      .filter(([, o]) => o.kind === 'sharemap-manifest');
    expect(headers).toHaveLength(3);
    const first = parseManifest(lines.slice(0, headers[1]![0]).join('\n') + '\n');
    const img = await scanImageFile(join(OCI, 'image.layer1.img'));
    expect(first.files.map(({ nid: _n, layout: _l, ...x }) => x)).toEqual(
      img.files.map(({ nid: _n, layout: _l, ...x }) => x),
    );
  });

  it('an OCI layout directory gives the same manifest as its tar', async () => {
    const dir = join(tmp(), 'layout');
    await extract(OCI_TAR, dir);
    const a = await cli(['scan', dir, '--json']);
    const b = await cli(['scan', OCI_TAR, '--json']);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  it('text output labels the image as predicted', async () => {
    const r = await cli(['scan', join(OCI, 'rootfs.tar')]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(
      'rootfs.tar: PREDICTED EROFS image (mkfs.erofs 1.9.3 --tar=f --xattr-inode-digest -T0 --mkfs-time), from rootfs tar rootfs.tar',
    );
  });
});

describe('sharemap analyze ARCHIVE', () => {
  it('--model flattened / layers: one image per OCI image / per distinct layer (identical diff ids are one image)', async () => {
    const flat = await cli(['analyze', DOCKER, OCI_TAR, '--json']);
    expect(flat.code).toBe(0);
    const f = JSON.parse(flat.stdout) as { report?: { images: unknown[] }; images?: unknown[] };
    expect((f.report ?? f).images!.length).toBe(2);
    const layers = await cli(['analyze', DOCKER, OCI_TAR, '--model', 'layers', '--json']);
    expect(layers.code).toBe(0);
    const l = JSON.parse(layers.stdout) as { report?: { images: unknown[] }; images?: unknown[] };
    expect((l.report ?? l).images!.length).toBe(3);
  });

  it('reports label predicted images (markdown, text, JSON)', async () => {
    const md = await cli(['analyze', DOCKER, join(OCI, 'image.flat.img'), '--markdown']);
    expect(md.code).toBe(0);
    // The note names images (untrusted text): Markdown-escaped like every other name.
    expect(md.stdout).toContain(
      `_${markdownText('PREDICTED: 1 of 2 image(s) are predicted from OCI images, as mkfs.erofs 1.9.3 --tar=f --xattr-inode-digest -T0 --mkfs-time would build them (sharemap_demo:1.0).')}_`,
    );
    const text = await cli(['analyze', DOCKER, '--model', 'layers']);
    expect(text.stdout.split('\n')[1]).toMatch(/^ {2}PREDICTED: 3 of 3 image\(s\) .*--aufs -Enoinline_data/);
    const json = JSON.parse((await cli(['analyze', DOCKER, '--json'])).stdout) as {
      report?: { images: { predicted?: unknown }[] };
      images?: { predicted?: unknown }[];
    };
    expect((json.report ?? json).images![0]!.predicted).toMatchObject({ tool: 'mkfs.erofs 1.9.3' });
  });

  it('--compare-models: both models with and without inode_share, and what identical layers share for free', async () => {
    const r = await cli(['analyze', DOCKER, OCI_TAR, '--compare-models', '--json']);
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout) as {
      flattened: { images: number; bytesWithoutSharing: number; bytesWithSharing: number };
      layers: { images: number; bytesWithoutSharing: number };
      identicalLayersSaveForFree: number;
    };
    expect(c.flattened.images).toBe(2);
    expect(c.layers.images).toBe(3);
    // The two archives hold the same image: the flattened twins share exactly what two copies
    // of the EROFS image mkfs.erofs built from the flattened rootfs share.
    const real = await scanImageFile(join(OCI, 'image.flat.img'));
    const { report } = await runAnalysis({
      manifests: [real, real],
      mounts: [],
      mapping: {},
      publishers: {},
    });
    expect(c.flattened.bytesWithoutSharing).toBe(report.totals.bytesWithoutSharing);
    expect(c.flattened.bytesWithSharing).toBe(report.totals.bytesWithSharing);
    // Both images use the same 3 layers: without inode_share the per-layer model caches them once.
    expect(c.identicalLayersSaveForFree).toBe(c.layers.bytesWithoutSharing);
    const text = await cli(['analyze', DOCKER, '--compare-models']);
    expect(text.stdout).toMatch(/per layer \(one image per distinct layer\)/);
  });
});

describe('broken archives: exit 2, one line on stderr, no report', () => {
  const expectFails = async (args: string[], re: RegExp) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(re);
  };

  it('a truncated archive', async () => {
    const p = await brokenDocker((b) => b.subarray(0, 150000));
    await expectFails(
      ['scan', p, '--json'],
      /broken\.tar: ETRUNCATED: archive ends (inside a member|without the end-of-archive blocks)/,
    );
    await expectFails(['analyze', p], /ETRUNCATED/);
  });

  it('a layer whose digest does not match its diff id', async () => {
    const p = await brokenDocker((b, l) => {
      b[l.offset + l.size - 1] = 1; // in the layer tar's trailing zero blocks: the tar still parses
      return b;
    });
    await expectFails(
      ['scan', p, '--json'],
      /EDIGEST: uncompressed layer has digest sha256:[0-9a-f]{64}, the config's diff id is sha256:10d04b0e/,
    );
  });

  it('a layer missing from the archive', async () => {
    const p = await brokenDocker((b, _l, at) => {
      b[at] = 'f'.charCodeAt(0); // rename the member c989... -> f989...
      fixChecksum(b, at);
      return b;
    });
    await expectFails(
      ['analyze', p, '--model', 'layers'],
      /EMISSING: layer sha256:10d04b0e[0-9a-f]+ is not in .*broken\.tar @ member "c989eb7f/,
    );
  });

  it('a symlink escaping the root and a tar bomb member', async () => {
    const { tar, member, pax, concat } = await import('../../../packages/oci/test/tar-writer.js');
    const esc = join(tmp(), 'escape.tar');
    writeFileSync(
      esc,
      tar(
        member({ name: 'etc/', type: '5' }),
        member({ name: 'etc/passwd', type: '2', linkname: '../../../etc/passwd' }),
      ),
    );
    await expectFails(
      ['scan', esc],
      /escape\.tar: EESCAPE: symlink target "..\/..\/..\/etc\/passwd" climbs above the root @ path "etc\/passwd"/,
    );
    const bomb = join(tmp(), 'bomb.tar');
    writeFileSync(
      bomb,
      concat([...pax([['size', String(2 ** 52)]], { name: 'zero', size: 0 }), new Uint8Array(1024)]),
    );
    await expectFails(
      ['scan', bomb, '--hash'],
      /bomb\.tar: ELIMIT: member of 4503599627370496 bytes exceeds maxMemberSize/,
    );
  });
});

describe('sharemap upload ARCHIVE', () => {
  it('sends the archives to a real server, which predicts them (POST /api/archives); a layer shared by both is one image; the stored report equals the local analysis', async () => {
    const { serve } = await import('./server-helpers.js');
    const s = (await serve(false)).server;
    try {
      const r = await cli([
        'upload',
        DOCKER,
        OCI_TAR,
        '--model',
        'layers',
        '--server',
        s.url,
        '--json',
        '--quiet',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const up = JSON.parse(r.stdout) as {
        id: string;
        totals: unknown;
        images: { name: string; predicted?: unknown }[];
      };
      const local = JSON.parse(
        (await cli(['analyze', DOCKER, OCI_TAR, '--model', 'layers', '--json'])).stdout,
      ) as { report?: { totals: unknown }; totals?: unknown };
      expect(up.totals).toEqual((local.report ?? local).totals);
      expect(up.images).toHaveLength(3);
      const stored = (await (await fetch(`${s.url}/api/reports/${up.id}`)).json()) as {
        images: { predicted?: { tool: string } }[];
      };
      expect(stored.images.every((i) => i.predicted?.tool === 'mkfs.erofs 1.9.3')).toBe(true);
      // The server predicted them (its own manifests, source 'scan'): the archives were sent,
      // three layers each; the report has the 3 distinct layers (checked above).
      const sources = s.ctx.db.prepare('SELECT source, COUNT(*) AS n FROM manifests GROUP BY source').all();
      expect(sources).toEqual([{ source: 'scan', n: 6 }]);
      // --scan-locally: predicted here, only the manifests go (source 'upload').
      const local2 = await cli([
        'upload',
        DOCKER,
        OCI_TAR,
        '--model',
        'layers',
        '--scan-locally',
        '--server',
        s.url,
        '--json',
        '--quiet',
      ]);
      expect(local2.code).toBe(0);
      expect((JSON.parse(local2.stdout) as { totals: unknown }).totals).toEqual(up.totals);
      expect(s.ctx.db.prepare("SELECT COUNT(*) AS n FROM manifests WHERE source = 'upload'").get()).toEqual({
        n: 3,
      });
    } finally {
      await s.close(1000);
    }
  }, 180_000); // a server and four CLI runs: generous on a loaded machine
});
