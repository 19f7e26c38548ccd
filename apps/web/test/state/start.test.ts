/**
 * The start slice without a browser: driven against the real server (in this process, on a free
 * 127.0.0.1 port) with the fixture images of testdata/erofs. Relative API URLs resolve against
 * the server as a page's would against its origin; every request the slice makes is recorded.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { create } from 'zustand';
import type { Report } from '@sharemap/sharing';
import { api } from '../../src/api/client';
import { predictToNdjson } from '../../src/lib/archive';
import { scanToNdjson } from '../../src/lib/scan';
import {
  createStartSlice,
  detectedResidencyFormat,
  unresolvedText,
  type Phase,
  type StartSlice,
} from '../../src/state/start';
// The server's own test helper: the one way tests start a real server (temp data folder, port 0).
import { erofs, mounts, startTestServer, type TestServer } from '../../../server/test/helpers.js';

let server: TestServer;
const realFetch = globalThis.fetch;
/** "METHOD /path" of every request the slice made, in order. */
let requests: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' && input.startsWith('/') ? server.url + input : input;
    requests.push(`${init?.method ?? 'GET'} ${new URL(String(url)).pathname}`);
    return realFetch(url, init);
  }) as typeof fetch;
});
afterAll(async () => {
  globalThis.fetch = realFetch;
  await server?.stop();
});
beforeEach(() => {
  requests = [];
});

const fileOf = (p: string) => new File([readFileSync(p)], path.basename(p));

function newStore() {
  const store = create<StartSlice>()(
    createStartSlice({
      api,
      scanInBrowser: async (file, devices, onProgress) =>
        (await scanToNdjson(file, file.name, devices, onProgress)).ndjson,
      predictInBrowser: (file, model, onProgress) => predictToNdjson(file, file.name, model, onProgress),
    }),
  );
  /** Each input's phases in the order it went through them (repeats collapsed). */
  const phases = new Map<string, Phase[]>();
  const record = (s: StartSlice) => {
    for (const it of s.start.items) {
      const seen = phases.get(it.file.name) ?? [];
      if (seen[seen.length - 1] !== it.phase) phases.set(it.file.name, [...seen, it.phase]);
    }
  };
  /** The inputs as last listed (a created report empties the list). */
  let last: StartSlice['start']['items'] = [];
  store.subscribe((s) => {
    record(s);
    if (s.start.items.length > 0) last = s.start.items;
  });
  return { store, phases, lastItems: () => last };
}

const count = (line: string) => requests.filter((r) => r === line).length;

async function report(id: string): Promise<Report> {
  const res = await realFetch(`${server.url}/api/reports/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Report;
}

describe('start slice against the real server', () => {
  it('uploads and scans the images, reads the fstab, creates the report; names the mounts left out', async () => {
    const { store, phases, lastItems } = newStore();
    await store
      .getState()
      .addFiles([
        fileOf(erofs('base-v1.fp.img')),
        fileOf(erofs('app.fp.img')),
        fileOf(mounts('fleet.fstab')),
      ]);
    const items = store.getState().start.items;
    expect(items.map((x) => [x.file.name, x.kind, x.detected])).toEqual([
      ['base-v1.fp.img', 'image', null],
      ['app.fp.img', 'image', null],
      ['fleet.fstab', 'mounts', 'fstab'],
    ]);
    const id = await store.getState().analyse();
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(phases.get('base-v1.fp.img')).toEqual(['waiting', 'uploading', 'scanning', 'ready']);
    expect(phases.get('app.fp.img')).toEqual(['waiting', 'uploading', 'scanning', 'ready']);
    expect(phases.get('fleet.fstab')).toEqual(['waiting', 'uploading', 'ready']);
    const s = store.getState().start;
    expect(s.busy).toBe(false);
    expect(s.error).toBe('');
    // File counts as in testdata/erofs/*.expected.json; the parser's warnings beside the fstab.
    expect(s.items).toEqual([]);
    expect(lastItems().map((x) => x.detail)).toEqual([
      '368 files',
      '53 files',
      'fstab, 9 mounts; ' +
        'fleet.fstab:10:1: mount of /run/images/no-domain fails with EINVAL: domain_id is needed when inode_ishare is on; ' +
        'fleet.fstab:11:1: mount of /run/images/with-dax fails with EINVAL: FSDAX is not allowed when inode_ishare is on; ' +
        'fleet.fstab:12:1: domain_id without inode_share shares nothing (R2)',
    ]);
    expect(count('POST /api/images')).toBe(2);
    expect(count('POST /api/mount-configs')).toBe(1);
    expect(count('POST /api/reports')).toBe(1);

    const r = await report(id!);
    expect(r.images.map((i) => i.name).sort()).toEqual(['app.fp.img', 'base-v1.fp.img']);
    expect(r.instances.map((i) => i.mountPoints[0]).sort()).toEqual([
      '/run/images/app',
      '/run/images/base-v1',
    ]);
    // The mounts of fleet.fstab whose image was not uploaded, each named (never dropped silently).
    expect(s.created!.id).toBe(id);
    expect(s.created!.unresolved!.map((u) => u.mountPoint)).toEqual(UNRESOLVED_MOUNT_POINTS);
    expect(unresolvedText(s.created)).toBe(
      `${UNRESOLVED_MOUNT_POINTS.length} mounts name images you did not upload: ` +
        s.created!.unresolved!.map((u) => `${u.source} (${u.mountPoint})`).join(', '),
    );
  });

  it('a failed image: after removing it, analysing again sends none of the others again', async () => {
    const { store, phases } = newStore();
    await store
      .getState()
      .addFiles([fileOf(erofs('base-v1.fp.img')), fileOf(erofs('broken/zeroed-magic.img'))]);
    expect(await store.getState().analyse()).toBeNull();
    const failed = store.getState().start.items[1]!;
    expect(failed.phase).toBe('failed');
    // The code once, then the reader's message (never "EBADMAGIC: EBADMAGIC: ...").
    expect(failed.error).toBe(
      'EBADMAGIC: not an EROFS image: bad superblock magic 0x00000000 (want 0xe0f5e1e2) @ offset 1024',
    );
    expect(store.getState().start.items[0]!.phase).toBe('ready');
    expect(count('POST /api/images')).toBe(2);
    expect(count('POST /api/reports')).toBe(0);

    store.getState().removeItem(failed.key);
    requests = [];
    const id = await store.getState().analyse();
    expect(id).not.toBeNull();
    expect(requests).toEqual(['POST /api/reports']);
    expect(phases.get('base-v1.fp.img')).toEqual(['waiting', 'uploading', 'scanning', 'ready']);
    expect((await report(id!)).images.map((i) => i.name)).toEqual(['base-v1.fp.img']);
  });

  it('a truncated image is called truncated', async () => {
    const { store } = newStore();
    await store.getState().addFiles([fileOf(erofs('broken/truncated-half.img'))]);
    expect(await store.getState().analyse()).toBeNull();
    expect(store.getState().start.items[0]!.error).toBe(TRUNCATED);
  });

  it('the pasted configuration: a parse error placed at its line and column; a format override is sent', async () => {
    const { store } = newStore();
    await store.getState().addFiles([fileOf(erofs('app.fp.img'))]);
    const bad =
      '36 24 0:50 / /run/base rw - tmpfs tmpfs rw\n' +
      '36 25 0:51 / /run/app ro,relatime - erofs /var/lib/images/app.fp.img ro,inode_share,dax=sometimes\n';
    store.getState().setPasted(bad);
    expect(await store.getState().analyse()).toBeNull();
    const e = store.getState().start.pasteError!;
    expect(e.place).toEqual({ line: 2, column: bad.split('\n')[1]!.indexOf('dax=sometimes') + 1 });
    expect(e.message).toMatch(/^[a-z-]+: pasted:2:\d+: .*dax/);
    expect(store.getState().start.items[0]!.phase).toBe('ready');

    // A line that reads as /proc/mounts by default; the user says it is an fstab line.
    const line = '/var/lib/images/app.fp.img /run/app erofs ro,inode_share 0 0\n';
    store.getState().setPasted(line);
    store.getState().setPastedFormat('fstab');
    requests = [];
    const id = await store.getState().analyse();
    expect(id).not.toBeNull();
    expect(requests).toEqual(['POST /api/mount-configs', 'POST /api/reports']);
    const sent = store.getState().start.pastedSent!;
    const mc = (await (await realFetch(`${server.url}/api/mount-configs/${sent.id}`)).json()) as {
      format: string;
    };
    expect(mc.format).toBe('fstab');
  });

  it('pasted residency: its format detected, a parse error placed at its line; then measured in the report', async () => {
    const { store } = newStore();
    await store.getState().addFiles([fileOf(erofs('base-v1.fp.img'))]);
    store
      .getState()
      .setPasted('/var/lib/images/base-v1.fp.img /run/images/base-v1 erofs ro,inode_share 0 0\n');
    const libcap = '/run/images/base-v1/lib/x86_64-linux-gnu/libcap.so.2.66';
    const bad = `# fatrace -f O\n${libcap}\n  usr/bin/openssl\n`;
    expect(detectedResidencyFormat(bad)).toBe('access-list');
    expect(detectedResidencyFormat('RES PAGES SIZE FILE\n4K 1 300B /etc/os-release\n')).toBe('fincore-raw');
    expect(detectedResidencyFormat('   \n')).toBeNull();
    store.getState().setPastedResidency(bad);
    expect(await store.getState().analyse()).toBeNull();
    const e = store.getState().start.residencyPasteError!;
    expect(e.place).toEqual({ line: 3, column: 3 });
    expect(e.message).toBe(
      'bad-residency: pasted-residency:3:3: expected an absolute path, found "usr/bin/openssl"',
    );
    expect(store.getState().start.pasteError).toBeNull();

    store.getState().setPastedResidency(`${libcap}\n/run/images/base-v1/usr/bin/openssl\n`);
    expect(store.getState().start.residencyPasteError).toBeNull();
    requests = [];
    const id = await store.getState().analyse();
    expect(id).not.toBeNull();
    expect(requests.filter((r) => r !== 'POST /api/mount-configs')).toEqual([
      'POST /api/residency',
      'POST /api/reports',
    ]);
    // An access list reads each listed file whole: libcap 47,128 bytes (12 pages) and
    // openssl 976,136 bytes (239 pages) of 4096 bytes.
    const m = (await report(id!)).measured!;
    expect(m.totals.pagesWithoutSharing).toBe(12 + 239);
    expect(m.coverage).toMatchObject({
      filesWithData: 2,
      bytesWithData: 47_128 + 976_136,
      unmatchedEntries: 0,
    });
    expect(store.getState().start.pastedResidency).toBe('');
  });

  it('scanning in the browser: scans here, uploads only the manifest', async () => {
    const { store, phases } = newStore();
    store.getState().setMode('browser');
    await store.getState().addFiles([fileOf(erofs('base-v2.fp.img'))]);
    const id = await store.getState().analyse();
    expect(id).not.toBeNull();
    expect(phases.get('base-v2.fp.img')).toEqual(['waiting', 'scanning', 'uploading', 'ready']);
    expect(requests).toEqual(['POST /api/manifests', 'POST /api/reports']);
    expect((await report(id!)).images.map((i) => i.name)).toEqual(['base-v2.fp.img']);
  });
});

/** testdata/oci: the OCI fixtures (README.fixtures.md). */
const oci = (f: string) => fileURLToPath(new URL(`../../../../testdata/oci/${f}`, import.meta.url));

describe('OCI archives in the start slice', () => {
  it('tells archives from their bytes: docker save, OCI layout and rootfs tars, not an EROFS image or a gzip text', async () => {
    const { store } = newStore();
    const gzText = new File([gzipSync('{"kind":"sharemap-host-snapshot"}')], 'host.snapshot.gz');
    await store
      .getState()
      .addFiles([
        fileOf(erofs('app.fp.img')),
        fileOf(oci('image.docker.tar')),
        fileOf(oci('image.oci.tar')),
        fileOf(oci('rootfs.tar')),
        new File([gzipSync(readFileSync(oci('rootfs.tar')))], 'rootfs.tgz'),
        gzText,
        fileOf(mounts('fleet.fstab')),
      ]);
    expect(store.getState().start.items.map((x) => [x.file.name, x.kind])).toEqual([
      ['app.fp.img', 'image'],
      ['image.docker.tar', 'archive'],
      ['image.oci.tar', 'archive'],
      ['rootfs.tar', 'archive'],
      ['rootfs.tgz', 'archive'],
      ['host.snapshot.gz', 'residency'],
      ['fleet.fstab', 'mounts'],
    ]);
  });

  it('above the size (or in browser mode) an archive is predicted here: only its manifests are sent', async () => {
    const { store, phases, lastItems } = newStore();
    store.getState().setBrowserArchivesAbove(1024); // every fixture is larger
    await store.getState().addFiles([fileOf(oci('image.docker.tar'))]);
    const id = await store.getState().analyse();
    expect(id).not.toBeNull();
    expect(phases.get('image.docker.tar')).toEqual(['waiting', 'scanning', 'uploading', 'ready']);
    expect(requests).toEqual(['POST /api/manifests', 'POST /api/reports']);
    expect(lastItems()[0]!.detail).toBe(
      'docker-save: 1 predicted manifest (flattened), 34 files, predicted in the browser',
    );
    const r = await report(id!);
    expect(r.images.map((i) => [i.name, i.fileCount, i.predicted?.source])).toEqual([
      ['sharemap_demo:1.0', 34, 'flattened image sharemap/demo:1.0'],
    ]);
  });

  it('at most the size, in server mode, an archive goes to POST /api/archives; both ways give the same report', async () => {
    const run = async (above: number, model: 'flattened' | 'layers') => {
      const { store } = newStore();
      store.getState().setBrowserArchivesAbove(above);
      store.getState().setArchiveModel(model);
      await store.getState().addFiles([fileOf(oci('image.oci.tar'))]);
      requests = [];
      const id = await store.getState().analyse();
      expect(id).not.toBeNull();
      return { sent: requests, report: await report(id!) };
    };
    const server = await run(1 << 30, 'layers');
    expect(server.sent).toEqual(['POST /api/archives', 'POST /api/reports']);
    const here = await run(0, 'layers');
    expect(here.sent).toEqual([
      'POST /api/manifests',
      'POST /api/manifests',
      'POST /api/manifests',
      'POST /api/reports',
    ]);
    expect(here.report.images.map((i) => [i.name, i.fileCount])).toEqual(
      server.report.images.map((i) => [i.name, i.fileCount]),
    );
    // image.layerN.files.json: 37, 24 and 18 paths (the report lists images by name).
    expect(here.report.images.map((i) => i.fileCount).sort((a, b) => a - b)).toEqual([18, 24, 37]);
    expect(here.report.totals).toEqual(server.report.totals);
  });

  it('a config whose digest does not match is refused in the browser, nothing sent', async () => {
    const { store } = newStore();
    store.getState().setBrowserArchivesAbove(0);
    const bytes = readFileSync(oci('image.docker.tar'));
    // The config (named by its digest) says amd65: still JSON, no longer its digest.
    const at = bytes.indexOf(Buffer.from('"amd64"'));
    expect(at).toBeGreaterThan(0);
    bytes[at + 5] = 0x35;
    await store.getState().addFiles([new File([bytes], 'bad.tar')]);
    expect(await store.getState().analyse()).toBeNull();
    expect(store.getState().start.items[0]!.error).toMatch(/^EDIGEST: /);
    expect(requests).toEqual([]);
  });
});

/** fleet.fstab's EROFS mounts of images other than base-v1.fp.img and app.fp.img, in file order. */
const UNRESOLVED_MOUNT_POINTS = [
  '/run/images/base-v2',
  '/run/images/base-v1-z',
  '/run/images/app-thirdparty',
  '/run/images/edge',
  '/run/images/no-domain',
  '/run/images/with-dax',
  '/run/images/base-v2-z',
];
const TRUNCATED =
  'EIO: truncated image: the superblock counts 54 blocks of 4096 bytes (221184 bytes), the file has 110592 @ offset 110592';
