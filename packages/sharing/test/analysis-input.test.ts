/**
 * A report is a function of its inputs (docs/metrics.md#determinism-a-report-is-a-function-of-its-inputs). For random fleets (images with
 * repeated names, mount configurations with domains, unknown domains and failed mounts), every
 * order of the images gives a byte-identical report.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '@sharemap/erofs';
import { manifestHeader, manifestToNdjson } from '@sharemap/erofs';
import { oracleManifest } from './model-fixtures.js';
import { buildAnalysisInput, canonicalAnalysisInput, imagesNeedingDigest } from '../src/analysis-input.js';
import { analyze } from '../src/model/engine.js';
import { createDomainRedactor } from '../src/mounts/domains.js';
import { parseMountConfig } from '../src/mounts/index.js';
import type { AnalysisInput } from '../src/report.js';

const FIXTURES = [
  'base-v1.fp',
  'base-v2.fp',
  'app.fp',
  'base-v1.fp.lz4hc',
  'base-v2.fp.serial',
  'base-v2.fp.forged',
];
const CREATED = '2026-01-01T00:00:00.000Z';

/** A manifest of fixture `name` under file name `as` (repeated names happen: two hosts' app.img). */
function manifestAs(name: string, as: string): Manifest {
  const m = oracleManifest(name);
  return { ...m, image: { ...m.image, name: as } };
}

function reportJson(manifests: Manifest[], mountTexts: string[], opts: { pageSize?: number } = {}): string {
  const domains = createDomainRedactor(new Uint8Array(32)); // a fixed key: labels do not depend on the run
  const configs = mountTexts.map((t, k) => parseMountConfig(t, { file: `m${k}.fstab`, domains }));
  // what the CLI does: the NDJSON digest of the images whose name and header are equal
  const sources = manifests.map((m) => ({
    header: manifestHeader(m),
    payload: m,
    digest: undefined as string | undefined,
  }));
  for (const k of imagesNeedingDigest(sources))
    sources[k]!.digest = createHash('sha256')
      .update([...manifestToNdjson(manifests[k]!)].join(''))
      .digest('hex');
  const built = buildAnalysisInput({ images: sources, mountConfigs: configs });
  const input: AnalysisInput = {
    images: built.images.map((x) => ({ image: x.image, manifest: x.payload })),
    instances: built.instances,
    options: opts.pageSize ? { pageSize: opts.pageSize } : {},
    createdAt: CREATED,
  };
  return JSON.stringify(analyze(input));
}

/** Every permutation of a short list (Heap's algorithm). */
function permutations<T>(xs: T[]): T[][] {
  const out: T[][] = [];
  const a = [...xs];
  const c = new Array<number>(a.length).fill(0);
  out.push([...a]);
  for (let i = 1; i < a.length;) {
    if (c[i]! < i) {
      const j = i % 2 ? c[i]! : 0;
      [a[j], a[i]] = [a[i]!, a[j]!];
      out.push([...a]);
      c[i]!++;
      i = 1;
    } else c[i++] = 0;
  }
  return out;
}

describe('a report is a function of its inputs (buildAnalysisInput orders canonically)', () => {
  it('base-v1.fp, base-v2.fp, app.fp, base-v1.fp.lz4hc in every order -> one byte-identical report', () => {
    const ms = ['base-v1.fp', 'base-v2.fp', 'app.fp', 'base-v1.fp.lz4hc'].map((n) =>
      manifestAs(n, `${n}.img`),
    );
    const all = permutations(ms).map((p) => reportJson(p, []));
    expect(all).toHaveLength(24);
    expect(new Set(all).size).toBe(1);
    const report = JSON.parse(all[0]!) as { images: { name: string }[]; totals: { bytesSaved: number } };
    expect(report.images.map((i) => i.name)).toEqual([
      'app.fp.img',
      'base-v1.fp.img',
      'base-v1.fp.lz4hc.img',
      'base-v2.fp.img',
    ]);
  });

  it('property: random fleets (repeated names, mounts, domains), every image order -> byte-identical report', () => {
    const fleet = fc.record({
      images: fc.array(
        fc.record({
          fixture: fc.constantFrom(...FIXTURES),
          as: fc.constantFrom('a.img', 'b.img', 'c.img', 'own'),
        }),
        {
          minLength: 1,
          maxLength: 5,
        },
      ),
      // per image: mounted with a domain, with inode_share but no domain_id (EINVAL), without inode_share, or twice
      mounts: fc.array(fc.record({ domain: fc.constantFrom('tenant-a', 'tenant-b', '', 'none', 'twice') }), {
        minLength: 5,
        maxLength: 5,
      }),
      withMounts: fc.boolean(),
      pageSize: fc.constantFrom(4096, 16384),
      order: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 5, maxLength: 5 }),
    });
    fc.assert(
      fc.property(fleet, (f) => {
        const ms = f.images.map((x) => manifestAs(x.fixture, x.as === 'own' ? `${x.fixture}.img` : x.as));
        const texts: string[] = [];
        if (f.withMounts) {
          // sources name images by file name; with repeated names the resolver maps a name to the first id
          const lines = ms.map((m, k) => {
            const d = f.mounts[k]!.domain;
            const src = `/var/lib/images/${m.image.name}`;
            const mp = `/run/images/${k}`;
            if (d === 'none') return `${src} ${mp} erofs ro 0 0`;
            if (d === '') return `${src} ${mp} erofs ro,inode_share 0 0`;
            if (d === 'twice')
              return `${src} ${mp} erofs ro,inode_share,domain_id=tenant-a 0 0\n${src} ${mp}-2 erofs ro,inode_share,domain_id=tenant-b 0 0`;
            return `${src} ${mp} erofs ro,inode_share,domain_id=${d} 0 0`;
          });
          texts.push(lines.join('\n') + '\n');
        }
        const base = reportJson(ms, texts, { pageSize: f.pageSize });
        // a shuffled order (random keys) and every permutation for short fleets
        const shuffled = ms
          .map((m, k) => ({ m, key: f.order[k]! }))
          .sort((a, b) => a.key - b.key)
          .map((x) => x.m);
        expect(reportJson(shuffled, texts, { pageSize: f.pageSize })).toBe(base);
        if (ms.length <= 4)
          for (const p of permutations(ms)) expect(reportJson(p, texts, { pageSize: f.pageSize })).toBe(base);
      }),
      { numRuns: 40 },
    );
  }, 300_000);

  it('canonicalAnalysisInput (the browser worker) orders a built input the same way, idempotently', () => {
    const ms = ['base-v2.fp', 'app.fp', 'base-v1.fp'].map((n) => manifestAs(n, `${n}.img`));
    const built = buildAnalysisInput({ images: ms.map((m) => ({ header: manifestHeader(m), payload: m })) });
    const input: AnalysisInput = {
      images: built.images.map((x) => ({ image: x.image, manifest: x.payload })),
      instances: built.instances,
      createdAt: CREATED,
    };
    const reversed: AnalysisInput = { ...input, images: [...input.images].reverse() };
    expect(JSON.stringify(analyze(canonicalAnalysisInput(reversed)))).toBe(JSON.stringify(analyze(input)));
    expect(canonicalAnalysisInput(input)).toEqual(input);
  });
});
