/**
 * Cost accounting (cost.ts, docs/metrics.md "Cost"): host total, fair share, containers, on the
 * worked figures of docs/sharing-rules.md and as laws over random mounts of the fixture images.
 */
import { statSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InstanceInput } from '../../src/report.js';
import { inputOf, inst, oracleInodes } from '../model-fixtures.js';
import { splitExact } from '../../src/model/cost.js';
import { analyze } from '../../src/model/engine.js';
import { renderMarkdown, renderText } from '../../src/render/index.js';
import { directIo, loopDirectIo } from '../../src/model/scenarios.js';

const imageFileBytes = (name: string) =>
  statSync(new URL(`../../../../testdata/erofs/${name}.img`, import.meta.url)).size;

describe('splitExact', () => {
  it('gives floor shares with the remainder one byte each to the first parts', () => {
    expect([0, 1, 2].map((k) => splitExact(4096, 3, k))).toEqual([1366, 1365, 1365]);
    expect([0, 1].map((k) => splitExact(8192, 2, k))).toEqual([4096, 4096]);
    expect(splitExact(0, 5, 4)).toBe(0);
  });

  it('shares of any total add up to it exactly and differ by at most one byte', () => {
    fc.assert(
      fc.property(fc.nat(1 << 40), fc.integer({ min: 1, max: 64 }), (total, parts) => {
        const shares = Array.from({ length: parts }, (_, k) => splitExact(total, parts, k));
        expect(shares.reduce((a, b) => a + b, 0)).toBe(total);
        expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('host total and fair share on the worked figures', () => {
  it('base-v1.fp : acme, base-v2.fp : acme', () => {
    const r = analyze(inputOf([inst('m1', 'base-v1.fp', 'acme'), inst('m2', 'base-v2.fp', 'acme')]));
    // Worked figures: 7,602,176 without, 6,946,816 with; base-v1 alone is half of its two-mount
    // row (7,569,408 / 2 = 3,784,704), so base-v2 holds 3,817,472 and the 655,360 saved bytes
    // are contents with exactly two members: each pays half of them (327,680).
    expect(r.totals.bytesWithSharing).toBe(6_946_816);
    expect(r.cost!.perInstance.m1!.fairBytes).toBe(3_784_704 - 327_680);
    expect(r.cost!.perInstance.m2!.fairBytes).toBe(3_817_472 - 327_680);
    // First member pays: base-v1 pays all of the shared contents.
    expect(r.perInstance.m1!.bytesWithSharing).toBe(3_784_704);
    // The host also holds both image files in the backing file system's cache (R8).
    expect(imageFileBytes('base-v1.fp')).toBe(3_538_944);
    expect(imageFileBytes('base-v2.fp')).toBe(3_571_712);
    expect(r.cost!.host).toEqual({
      bytesWithoutSharing: 7_602_176 + 3_538_944 + 3_571_712,
      bytesWithSharing: 6_946_816 + 3_538_944 + 3_571_712,
      unsharedBytes: 3_538_944 + 3_571_712,
      backingFileBytes: 3_538_944 + 3_571_712,
    });
    expect(r.cost!.perInstance.m1!.hostBytes).toBe(3_457_024 + 3_538_944);
    expect(r.cost!.containers).toEqual([]);
  });

  it('base-v1.fp : acme twice: each mount pays half, the one backing file is counted once', () => {
    const r = analyze(inputOf([inst('m1', 'base-v1.fp', 'acme'), inst('m2', 'base-v1.fp', 'acme')]));
    expect(r.totals.bytesWithSharing).toBe(3_784_704);
    expect(r.cost!.perInstance.m1).toEqual({
      fairBytes: 1_892_352,
      unsharedBytes: 3_538_944,
      hostBytes: 1_892_352 + 3_538_944,
    });
    expect(r.cost!.perInstance.m2).toEqual({ fairBytes: 1_892_352, unsharedBytes: 0, hostBytes: 1_892_352 });
    expect(r.cost!.host.bytesWithSharing).toBe(3_784_704 + 3_538_944);
  });

  it('directio and loop devices with direct I/O remove the backing-file cache', () => {
    const input = inputOf([inst('m1', 'base-v1.fp', 'acme'), inst('m2', 'base-v2.fp', 'acme')]);
    const dio = analyze(directIo(input));
    expect(dio.unsharedCaches).toEqual([]);
    expect(dio.cost!.host.bytesWithSharing).toBe(6_946_816);
    const loop = analyze(loopDirectIo(input));
    expect(loop.instances.map((i) => [i.backing, i.loopDirectIo])).toEqual([
      ['bdev', true],
      ['bdev', true],
    ]);
    // Both plain, both block class now (R6): the same sharing, no backing-file cache.
    expect(loop.cost!.host.bytesWithSharing).toBe(6_946_816);
  });
});

/** Reference fair shares, written from the oracle records (docs/format.md#sharing-key, mounts in order, one aops class). */
function referenceFair(mounts: { id: string; image: string; domain: string }[]): Map<string, number> {
  const members = new Map<string, { bytes: number; size: number; ids: string[] }>();
  const out = new Map<string, number>(mounts.map((m) => [m.id, 0]));
  for (const m of mounts)
    for (const { file, eligible } of oracleInodes(m.image)) {
      const bytes = Math.ceil(file.size / 4096) * 4096;
      if (!eligible) {
        out.set(m.id, out.get(m.id)! + bytes);
        continue;
      }
      // The first member fixes the size (R5): a later file of another size stays private.
      const key = `${file.fingerprint}/${m.domain}`;
      const g = members.get(key) ?? { bytes, size: file.size, ids: [] };
      if (g.size !== file.size) {
        out.set(m.id, out.get(m.id)! + bytes);
        continue;
      }
      g.ids.push(m.id);
      members.set(key, g);
    }
  for (const g of members.values())
    g.ids.forEach((id, k) => {
      const q = Math.floor(g.bytes / g.ids.length);
      out.set(id, out.get(id)! + q + (k < g.bytes - q * g.ids.length ? 1 : 0));
    });
  return out;
}

describe('containers', () => {
  const users = (i: InstanceInput, u: string[]): InstanceInput => ({ ...i, users: u });
  it('groups instances by the overlays above them, splitting a shared instance between its containers', () => {
    const mounts = [
      { id: 'v1', image: 'base-v1.fp', domain: 'acme' },
      { id: 'v2', image: 'base-v2.fp', domain: 'acme' },
      { id: 'app', image: 'app.fp', domain: 'acme' },
    ];
    const r = analyze(
      inputOf([
        users(inst('v1', 'base-v1.fp', 'acme'), ['web-1']),
        users(inst('v2', 'base-v2.fp', 'acme'), ['web-2']),
        users(inst('app', 'app.fp', 'acme'), ['web-1', 'web-2']),
      ]),
    );
    // The "v1, v2, app" worked figures: 8,675,328 without, 7,434,240 with.
    expect(r.totals.bytesWithSharing).toBe(7_434_240);
    const fair = referenceFair(mounts);
    for (const m of mounts) expect(r.cost!.perInstance[m.id]!.fairBytes).toBe(fair.get(m.id));
    const [w1, w2] = r.cost!.containers;
    expect(r.cost!.containers.map((c) => [c.name, c.instanceIds])).toEqual([
      ['web-1', ['v1', 'app']],
      ['web-2', ['v2', 'app']],
    ]);
    const app = fair.get('app')!;
    expect(w1!.fairBytes).toBe(fair.get('v1')! + Math.ceil(app / 2));
    expect(w2!.fairBytes).toBe(fair.get('v2')! + Math.floor(app / 2));
    expect(w1!.fairBytes + w2!.fairBytes).toBe(7_434_240);
    // Alone, web-1 is the base-v1 + app mounts: its own worked sharing (one domain, two images).
    const alone = analyze(inputOf([inst('v1', 'base-v1.fp', 'acme'), inst('app', 'app.fp', 'acme')]));
    expect(w1!.bytesWithoutSharing).toBe(alone.totals.bytesWithoutSharing);
    expect(w1!.bytesWithSharing).toBe(alone.totals.bytesWithSharing);
  });
});

describe('cost laws on random mounts of the fixture images', () => {
  const IMAGES = ['base-v1.fp', 'base-v2.fp', 'app.fp', 'base-v1.fp.lz4hc', 'base-v2.fp.serial'];
  const CONTAINERS = ['c1', 'c2', 'c3'];
  const mount = fc.record({
    image: fc.constantFrom(...IMAGES),
    domain: fc.constantFrom('acme', 'other', null),
    bdev: fc.boolean(),
    directio: fc.boolean(),
    users: fc.subarray(CONTAINERS),
  });
  it('fair shares sum to the total with sharing; host = totals + R8 lines; containers add up', () => {
    fc.assert(
      fc.property(fc.array(mount, { minLength: 1, maxLength: 5 }), (ms) => {
        const r = analyze(
          inputOf(
            ms.map((m, k) => ({
              ...inst(`i${k}`, m.image, m.domain, {
                backing: m.bdev ? 'bdev' : 'file',
                directio: m.directio,
              }),
              users: m.users,
            })),
          ),
        );
        const c = r.cost!;
        const fair = Object.values(c.perInstance);
        expect(fair.reduce((a, x) => a + x.fairBytes, 0)).toBe(r.totals.bytesWithSharing);
        const unshared = r.unsharedCaches.reduce((a, l) => a + l.bytes, 0);
        expect(c.host.bytesWithSharing).toBe(r.totals.bytesWithSharing + unshared);
        expect(fair.reduce((a, x) => a + x.hostBytes, 0)).toBe(c.host.bytesWithSharing);
        r.instances.forEach((i) => {
          const x = c.perInstance[i.id]!;
          // Fair share lies between "pays nothing shared" and "pays nothing saved".
          expect(x.fairBytes).toBeGreaterThanOrEqual(0);
          expect(x.fairBytes).toBeLessThanOrEqual(r.perInstance[i.id]!.bytesWithoutSharing);
        });
        const orphan = r.instances
          .filter((i) => (i.users ?? []).length === 0)
          .reduce((a, i) => a + c.perInstance[i.id]!.fairBytes, 0);
        expect(c.containers.reduce((a, x) => a + x.fairBytes, 0) + orphan).toBe(r.totals.bytesWithSharing);
        for (const box of c.containers) {
          expect(box.bytesWithSharing).toBeLessThanOrEqual(box.bytesWithoutSharing);
          expect(box.bytesWithSharing).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('fair share on the measured working set', () => {
  const LIBCAP = '/lib/x86_64-linux-gnu/libcap.so.2.66'; // 12 pages
  const OPENSSL_CNF = '/etc/ssl/openssl.cnf'; // 4 pages
  const users = (i: InstanceInput, u: string[]): InstanceInput => ({ ...i, users: u });

  it('divides each shared inode`s measured pages among its members; shares add up to the measured total', () => {
    const r = analyze({
      ...inputOf([
        users(inst('m1', 'base-v1.fp', 'acme'), ['web-1']),
        users(inst('m2', 'base-v1.fp', 'acme'), ['web-1', 'web-2']),
        users(inst('m3', 'base-v1.fp', 'acme'), ['web-2']),
      ]),
      residency: {
        instances: { m1: { [LIBCAP]: 7 }, m2: { [LIBCAP]: 7 }, m3: { [LIBCAP]: 5, [OPENSSL_CNF]: 3 } },
      },
    });
    const m = r.measured!;
    // With sharing: libcap's shared inode 7 pages (largest member count), openssl.cnf's 3 (m3's),
    // both charged to m1, the first member.
    expect(m.totals.bytesWithSharing).toBe(10 * 4096);
    expect(m.perInstance['m1']!.bytesWithSharing).toBe(40_960);
    // libcap's 28,672 bytes in three: 9,558 + 9,557 + 9,557; openssl.cnf's 12,288: 4,096 each.
    expect(r.cost!.measured!.perInstance).toEqual({
      m1: { fairBytes: 9_558 + 4_096 },
      m2: { fairBytes: 9_557 + 4_096 },
      m3: { fairBytes: 9_557 + 4_096 },
    });
    // Containers: m2 is used by both, split 6,827 + 6,826.
    expect(r.cost!.measured!.containers).toEqual([
      { name: 'web-1', fairBytes: 13_654 + 6_827 },
      { name: 'web-2', fairBytes: 6_826 + 13_653 },
    ]);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(Object.values(r.cost!.measured!.perInstance).map((c) => c.fairBytes))).toBe(
      m.totals.bytesWithSharing,
    );
    expect(sum(r.cost!.measured!.containers.map((c) => c.fairBytes))).toBe(m.totals.bytesWithSharing);
    // The static fair shares are those of the static figures, residency or not.
    const plain = analyze(
      inputOf([
        inst('m1', 'base-v1.fp', 'acme'),
        inst('m2', 'base-v1.fp', 'acme'),
        inst('m3', 'base-v1.fp', 'acme'),
      ]),
    );
    expect(r.cost!.perInstance['m1']!.fairBytes).toBe(plain.cost!.perInstance['m1']!.fairBytes);
    expect(plain.cost!.measured).toBeUndefined();

    // Text and markdown show the measured fair share beside the static one (13,654 B = 13.3 KiB,
    // containers 20,481 and 20,479 B = 20.0 KiB).
    const text = renderText(r).split('\n');
    expect(text.find((l) => l.startsWith('  /run/images/m1 '))).toContain(
      '  measured   28.0 KiB ->   40.0 KiB  fair   13.3 KiB',
    );
    expect(text.find((l) => l.startsWith('  web-2 '))).toContain('  measured fair   20.0 KiB  (2 instances)');
    const mdLines = renderMarkdown(r).split('\n');
    for (const line of [
      '| instance | image | domain | state | without | fair share | host cost | measured fair share | with (first member pays) |',
      '| /run/images/m2 | base-v1.fp.img | acme | sharing | 3.6 MiB | 1.2 MiB | 1.2 MiB | 13.3 KiB | 0 B |',
      '| web-1 | 2 | 7.2 MiB | 3.6 MiB | 1.8 MiB | 5.2 MiB | 20.0 KiB |',
    ])
      expect(mdLines).toContain(line);
  });
});
