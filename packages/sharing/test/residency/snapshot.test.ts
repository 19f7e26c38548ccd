import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  detectResidencyFormat,
  parseHostSnapshot,
  parseResidency,
  ResidencyError,
} from '../../src/residency/index.js';

const text = gunzipSync(
  readFileSync(new URL('../../../../testdata/residency/host.snapshot.json.gz', import.meta.url)),
).toString('utf8');

describe('host snapshots (recorded with sharemap collect, README there)', () => {
  it('reads the mount table lines and the residency as absolute paths under each mount point', () => {
    expect(detectResidencyFormat(text)).toBe('host-snapshot');
    const { snapshot, residency } = parseHostSnapshot(text, 'host.snapshot.json.gz');
    expect(snapshot.host.pageSize).toBe(4096);
    expect(snapshot.mountinfo.split('\n').filter(Boolean)).toHaveLength(3);
    expect(snapshot.mounts.map((m) => [m.mountPoint, m.overlays, m.files.length])).toEqual([
      ['/run/images/base-v1', ['/run/containers/web-1/rootfs'], 238],
      ['/run/images/base-v2', [], 238],
    ]);
    expect(residency.pageSize).toBe(4096);
    expect(
      residency.records.filter((r) => r.residentPages !== 0).map((r) => [r.path, r.residentPages, r.size]),
    ).toEqual([
      ['/run/images/base-v1/lib/x86_64-linux-gnu/libcap.so.2.66', 12, 47128],
      ['/run/images/base-v1/usr/bin/openssl', 4, 976136],
      ['/run/images/base-v2/lib/x86_64-linux-gnu/libcap.so.2.66', 12, 47128],
      ['/run/images/base-v2/lib/x86_64-linux-gnu/libexpat.so.1.8.10', 46, 186472],
    ]);
    expect(parseResidency(text).records).toHaveLength(476);
  });

  it('rejects more resident pages than the file has, at the value', () => {
    const bad = JSON.stringify(
      {
        kind: 'sharemap-host-snapshot',
        version: 1,
        createdAt: '2026-12-05T00:00:00Z',
        host: { kernelRelease: '7.0', pageSize: 4096 },
        tool: 'fincore',
        mountinfo: '',
        mounts: [
          {
            mountPoint: '/m',
            source: 's',
            overlays: [],
            unreadable: 0,
            truncated: false,
            files: [['/a', 3, 4096]],
          },
        ],
      },
      null,
      1,
    );
    try {
      parseHostSnapshot(bad, 's.json');
      throw new Error('expected an error');
    } catch (e) {
      expect(e).toBeInstanceOf(ResidencyError);
      expect((e as ResidencyError).message).toBe(
        's.json:21:6: 3 resident pages exceed the 1 pages of 4096 bytes',
      );
    }
  });
});
