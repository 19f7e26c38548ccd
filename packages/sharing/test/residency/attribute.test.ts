import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inst } from '../model-fixtures.js';
import {
  attributeResidency,
  parseFincoreJson,
  parseResidency,
  ResidencyMappingError,
} from '../../src/residency/index.js';

const dir = new URL('../../../../testdata/residency/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, dir), 'utf8');

/** Instances whose mount points are the recorded tree and a directory inside it. */
function instances() {
  const a = inst('a', 'base-v1.fp', 'd');
  a.mountPoints = ['/tmp/smr-tree'];
  const b = inst('b', 'base-v2.fp', 'd');
  b.mountPoints = ['/tmp/smr-tree/share/'];
  return [a, b];
}

describe('attributeResidency', () => {
  it('maps recorded fincore paths by the longest mount point prefix', () => {
    const data = parseFincoreJson(read('tree.fincore-bytes.json'), 'tree.fincore-bytes.json');
    const { residency, warnings } = attributeResidency([{ data }], instances(), 4096);
    expect(warnings).toEqual([]);
    expect(residency.instances).toEqual({
      a: { '/bin/tool': 0, '/etc/os-release': 1, '/lib/libx.so': 10 },
      b: { '/doc/big.txt': 5, '/doc/name with space.txt': 0, '/empty': 0 },
    });
    expect(residency.sources).toEqual(['tree.fincore-bytes.json']);
  });

  it('INSTANCE=FILE: strips that instance mount point, relative paths are from the image root', () => {
    const data = parseResidency('RES PAGES SIZE FILE\n8K 2 9K ./usr/lib/x\n4K 1 4K /tmp/smr-tree/etc/y\n', {
      file: 'r.raw',
    });
    const { residency } = attributeResidency([{ data, instance: 'a' }], instances(), 4096);
    expect(residency.instances).toEqual({ a: { '/usr/lib/x': 2, '/etc/y': 1 } });
  });

  it('converts the tool page size to the report page size (ceil), keeps the largest of repeated counts', () => {
    const data = parseFincoreJson(read('tree.fincore-bytes.json'), 'x.json'); // 4096-byte pages
    const again = parseResidency('/tmp/smr-tree/lib/libx.so\n', { file: 'acc.list' });
    const { residency } = attributeResidency([{ data }, { data: again }], instances(), 16384);
    // libx.so: 10 pages of 4 KiB = 40 KiB = 3 pages of 16 KiB (ceil), then "all" from the access list.
    expect(residency.instances['a']).toEqual({ '/bin/tool': 0, '/etc/os-release': 1, '/lib/libx.so': 'all' });
    expect(residency.instances['b']!['/doc/big.txt']).toBe(2);
  });

  it('warns about records under no mount point, fails on an unknown INSTANCE', () => {
    const data = parseResidency('/elsewhere/x\n/tmp/smr-tree/bin/tool\n', { file: 'acc.list' });
    const { warnings } = attributeResidency([{ data }], instances(), 4096);
    expect(warnings).toEqual([
      '1 residency record(s) of acc.list lie under no mount point of the analysis (first: acc.list:1:1: /elsewhere/x); give INSTANCE=FILE for paths relative to one instance',
    ]);
    expect(() => attributeResidency([{ data, instance: 'zzz' }], instances(), 4096)).toThrow(
      ResidencyMappingError,
    );
  });
});
