import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/model/engine.js';
import { compareReports } from '../../src/model/compare.js';
import { formatBytes, formatInteger } from '../../src/render/bytes.js';
import { reportToCsv, CSV_COLUMNS } from '../../src/render/csv.js';
import { renderMarkdown } from '../../src/render/markdown.js';
import { renderText } from '../../src/render/text.js';
import { headline } from '../../src/render/common.js';
import { readFileSync } from 'node:fs';
import { manifestHeader } from '@sharemap/erofs';
import { buildAnalysisInput } from '../../src/analysis-input.js';
import { parseFstab } from '../../src/mounts/fstab.js';
import { fleetInstances, image, inputOf, inst } from '../model-fixtures.js';

describe('formatBytes', () => {
  it('uses binary units and gives exact bytes on request', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(7_602_176)).toBe('7.3 MiB');
    expect(formatBytes(7_602_176, { exact: true })).toBe('7.3 MiB (7,602,176 bytes)');
    expect(formatBytes(-655_360)).toBe('-640.0 KiB');
    expect(formatBytes(3 * 1024 ** 3, { decimals: 2 })).toBe('3.00 GiB');
    expect(formatInteger(17_666_048)).toBe('17,666,048');
  });
});

describe('renderers', () => {
  const report = analyze(inputOf(fleetInstances()));

  it('renderText: headline, instances, findings', () => {
    const text = renderText(report);
    expect(text.split('\n')[0]).toBe(
      '6 instances, 16.8 MiB of page cache without sharing, 14.1 MiB with, 2.8 MiB saved (16.5 %)',
    );
    expect(text).toContain('17,666,048');
    expect(text).toContain('read order: with sharing between');
    expect(text).toContain('[error] mount-failed');
  });

  it('headline: with unknown domains the range is in the headline itself, not only on a later line', () => {
    // Two file-backed instances of base-v1.fp and base-v2.fp, domains unknown: the worked
    // figures' 7,602,176 bytes when each is alone (worst), 6,946,816 in one domain (best).
    const unknown = analyze(inputOf([inst('a', 'base-v1.fp', null), inst('b', 'base-v2.fp', null)]));
    expect(unknown.bounds?.best.bytesWithSharing).toBe(6_946_816);
    expect(unknown.bounds?.worst.bytesWithSharing).toBe(7_602_176);
    expect(headline(unknown)).toBe(
      '2 instances, 7.3 MiB of page cache without sharing, 6.6 MiB – 7.3 MiB with, 0 B – 640.0 KiB saved (0.0 % – 8.6 %), depending on the unknown domains',
    );
    expect(renderText(unknown).split('\n')[0]).toBe(headline(unknown));
    // Known domains: no range, the plain figures.
    const known = analyze(inputOf([inst('a', 'base-v1.fp', 'D1'), inst('b', 'base-v2.fp', 'D1')]));
    expect(known.bounds).toBeUndefined();
    expect(headline(known)).toBe(
      '2 instances, 7.3 MiB of page cache without sharing, 6.6 MiB with, 640.0 KiB saved (8.6 %)',
    );
  });

  it('renderText of a parsed fstab names domains by label only, never by their domain_id', () => {
    // fleet.fstab's domain ids are "acme-signed" and "thirdparty" (secrets, R11).
    const config = parseFstab(
      readFileSync(new URL('../../../../testdata/mounts/fleet.fstab', import.meta.url), 'utf8'),
      {
        file: 'fleet.fstab',
      },
    );
    const built = buildAnalysisInput({
      images: ['base-v1.fp', 'base-v2.fp', 'app.fp', 'base-v1.fp.lz4hc', 'app.fp.lz4hc', 'edge'].map((n) => {
        const { manifest } = image(n);
        return { header: manifestHeader(manifest), name: `${n}.img`, payload: manifest };
      }),
      mountConfigs: [config],
    });
    const text = renderText(
      analyze({
        images: built.images.map((x) => ({ image: x.image, manifest: x.payload })),
        instances: built.instances,
      }),
    );
    // fstab lines 4-11 (line 12's image is not given): acme-signed is D1, thirdparty D2.
    expect(built.instances.map((i) => i.domain?.label ?? null)).toEqual([
      'D1',
      'D1',
      'D1',
      'D1',
      'D2',
      'D1',
      null,
      'D1',
    ]);
    expect(text).toContain('D2');
    expect(text).not.toContain('acme-signed');
    expect(text.replaceAll('/run/images/app-thirdparty', '')).not.toContain('thirdparty'); // a mount point's name is no secret
  });

  it('renderMarkdown: tables, link, delta', () => {
    const base = analyze(inputOf([inst('a', 'base-v1.fp', 'D1'), inst('b', 'base-v2.fp', 'D1')]));
    const next = analyze(inputOf([inst('a', 'base-v1.fp', 'D1'), inst('b', 'base-v2.fp', 'D2')]));
    const md = renderMarkdown(next, {
      url: 'https://sharemap.example/r/1',
      delta: compareReports(base, next),
    });
    expect(md).toContain('[Full report](https://sharemap.example/r/1)');
    expect(md).toContain('saved -640.0 KiB');
    expect(md).toContain('| stopped sharing | saved before |');
    expect(md).toContain('| D2 | 1 |');
    const fleetMd = renderMarkdown(report);
    expect(fleetMd).toContain('| top shared files |');
    expect(fleetMd).toContain('#### Findings');
  });

  it('reportToCsv: one row per instance x file, quoted, CRLF', () => {
    const small = analyze(inputOf([inst('a', 'edge-mini.b16k', 'D1')]));
    const csv = reportToCsv(small);
    expect(csv.endsWith('\r\n')).toBe(true);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(small.files.instance.length + 1);
    // The one path of edge-mini with a quote (and ;, &, space): quoted, the quote doubled.
    const quoted = lines.filter((l) => l.includes('special;chars'));
    expect(quoted).toEqual([
      `a,/run/images/a,edge-mini.b16k.img,"/names/with space & special;chars'""",private-no-inode-share,,8,1,1,4096,4096,-1,`,
    ]);
  });
});
