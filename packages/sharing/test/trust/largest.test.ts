/**
 * LargestGroups (the trust model's bounded choice of a domain's largest cross-image inodes)
 * against a full sort, and the trust model of a domain with more cross-image inodes than it
 * lists, against a reference computed from the report's groups.
 */
import { describe, expect, it } from 'vitest';
import type { Manifest } from '@sharemap/erofs';
import { seededRandom } from '@sharemap/erofs/testing';
import { analyze } from '../../src/model/engine.js';
import { imageEntryFromManifest } from '../../src/model/input.js';
import type { AnalysisInput, InstanceInput } from '../../src/report.js';
import { LargestGroups } from '../../src/trust/largest.js';
import { buildTrustModel } from '../../src/trust/model.js';
import { syntheticManifest, syntheticRecord } from '../model-fixtures.js';
import { MAX_TRUST_INODES, MAX_TRUST_ROWS, TRUST_EXAMPLES } from '../../src/trust/types.js';

/** The reference: every group, largest figure first, ties in group order, the first k. */
function fullSort(bytes: Float64Array, groups: number[], k: number): number[] {
  return [...groups].sort((a, b) => bytes[b]! - bytes[a]! || a - b).slice(0, k);
}

describe('LargestGroups', () => {
  it('keeps the k largest, largest first and ties in group order, as a full sort does', () => {
    const next = seededRandom(7);
    for (const [n, distinct] of [
      [0, 1],
      [1, 1],
      [50, 3],
      [1000, 5],
      [1000, 1000],
      [5000, 40],
    ] as const) {
      // Few distinct figures: most groups tie with many others.
      const bytes = Float64Array.from({ length: n }, () => Math.floor(next() * distinct) * 4096);
      // Every other group offered (the groups of one domain), ascending.
      const groups = Array.from({ length: n }, (_, g) => g).filter((g) => g % 2 === 0 || next() < 0.5);
      for (const k of [0, 1, 3, 200, n + 1]) {
        const largest = new LargestGroups(k, bytes);
        for (const g of groups) largest.add(g);
        expect(largest.sorted(), `n ${n}, ${distinct} figures, k ${k}`).toEqual(fullSort(bytes, groups, k));
      }
    }
  });
});

function manifestOf(name: string, sizes: number[]): Manifest {
  const files = sizes.map((size, k) =>
    syntheticRecord(k, {
      type: 'file',
      size,
      layout: 'flat_plain',
      fingerprint: '7368613235363a' + k.toString(16).padStart(64, '0'),
    }),
  );
  return syntheticManifest(name, files, true);
}

function instance(k: number, imageId: string): InstanceInput {
  return {
    id: `i${k}`,
    label: `/m/${k}`,
    imageId,
    mountPoints: [],
    source: `${imageId}.img`,
    backing: 'file',
    domain: { label: 'D' },
    options: { inodeShare: true, dax: null, directio: false, cacheStrategy: null, devices: [], fsoffset: 0 },
  };
}

describe('trust model: a domain with more cross-image inodes than it lists', () => {
  it('lists the largest MAX_TRUST_INODES, counts and sums them all, rows and examples from the largest', () => {
    // 700 files in two images, one domain, three instances: each file is one shared inode
    // read across images. Sizes of few distinct page counts, so many inodes tie.
    const next = seededRandom(11);
    const n = 700;
    const sizes = Array.from({ length: n }, () => 1 + Math.floor(next() * 6) * 4096);
    const images = ['a', 'b'].map((id) => {
      const manifest = manifestOf(`${id}.img`, sizes);
      return { image: imageEntryFromManifest(manifest, { id }), manifest };
    });
    const input: AnalysisInput = {
      images,
      instances: [instance(0, 'a'), instance(1, 'b'), instance(2, 'b')],
      createdAt: 'x',
    };
    const report = analyze(input);
    const trust = buildTrustModel(report, input);
    const d = trust.domains.find((x) => x.label === 'D')!;

    // Reference: each group's bytes read by members of other images than its first member's.
    const ps = report.options.pageSize;
    const bytes = new Float64Array(report.groups.length);
    const cross: number[] = [];
    report.groups.forEach((g, gi) => {
      const imageOf = (r: number): string => report.instances[report.files.instance[r]!]!.imageId;
      for (const r of g.members.slice(1))
        if (imageOf(r) !== imageOf(g.members[0]!))
          bytes[gi] = bytes[gi]! + report.files.pagesWithout[r]! * ps;
      if (g.members.slice(1).some((r) => imageOf(r) !== imageOf(g.members[0]!))) cross.push(gi);
    });
    expect(cross).toHaveLength(n);
    const order = fullSort(bytes, cross, cross.length);
    expect(d.crossImageInodeCount).toBe(n);
    expect(d.crossImageBytes).toBe(cross.reduce((s, gi) => s + bytes[gi]!, 0));
    expect(d.crossImageInodes.map((x) => x.group)).toEqual(order.slice(0, MAX_TRUST_INODES));
    expect(d.crossImageInodes.map((x) => x.bytes)).toEqual(
      order.slice(0, MAX_TRUST_INODES).map((g) => bytes[g]),
    );
    const st = d.statements.find((s) => s.rule === 'R5, R12')!;
    expect(st.rows).toEqual(order.flatMap((gi) => report.groups[gi]!.members).slice(0, MAX_TRUST_ROWS));
    expect(st.rowCount).toBe(3 * n);
    expect(st.examples).toEqual(
      order
        .slice(0, TRUST_EXAMPLES)
        .map((gi) => `a.img:${report.paths.a![report.files.file[report.groups[gi]!.members[0]!]!]}`),
    );
  });
});
