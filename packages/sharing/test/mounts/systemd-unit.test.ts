import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  createDomainRedactor,
  parseSystemdUnit,
  parseSystemdUnits,
  resolveInstances,
  unitNameToPath,
} from '../../src/mounts/index.js';

const UNITS = fileURLToPath(new URL('../../../../testdata/mounts/units/', import.meta.url));
const read = (name: string): string => readFileSync(UNITS + name, 'utf8');
const IMAGES = ['base-v1.fp', 'app.fp', 'app.fp.lz4hc'].map((id) => ({ id, name: `${id}.img` }));
const NAMES = ['run-images-app.mount', 'run-images-base\\x2dv1.mount'];

describe('systemd-unit: units/*.mount', () => {
  const domains = createDomainRedactor();
  const cfg = parseSystemdUnits(
    NAMES.map((name) => ({ name, text: read(name) })),
    { domains },
  );

  it('unescapes unit names (\\x2d is -)', () => {
    expect(unitNameToPath('run-images-base\\x2dv1.mount')).toBe('/run/images/base-v1');
    expect(unitNameToPath('-.mount')).toBe('/');
    expect(unitNameToPath('foo.service')).toBeNull();
  });

  it('reads What/Where/Type/Options with domains and origins', () => {
    expect(
      cfg.entries.map((e) => [
        e.source,
        e.mountPoint,
        e.domain?.label,
        e.options.inodeShare,
        e.options.cacheStrategy,
        e.origin,
      ]),
    ).toEqual([
      [
        '/var/lib/images/app.fp.lz4hc.img',
        '/run/images/app',
        'D1',
        true,
        'readahead',
        { file: NAMES[0], line: 5, column: 6 },
      ],
      [
        '/var/lib/images/base-v1.fp.img',
        '/run/images/base-v1',
        'D1',
        true,
        null,
        { file: NAMES[1], line: 6, column: 6 },
      ],
    ]);
    expect(cfg.warnings).toEqual([]);
    const { instances } = resolveInstances([cfg], IMAGES);
    expect(instances.map((i) => [i.imageId, i.inodeShareConfig])).toEqual([
      ['app.fp.lz4hc', null],
      ['base-v1.fp', null],
    ]);
  });

  it('R11 domain strings never appear in output', () => {
    expect(JSON.stringify(cfg)).not.toContain('acme-signed');
  });

  it('reports a Where= that does not match the unit name', () => {
    const c = parseSystemdUnit('[Mount]\nWhat=/a.img\nWhere=/mnt/x\nType=erofs\n', { file: 'mnt-y.mount' });
    expect(c.warnings.map((w) => [w.code, w.origin.line])).toEqual([['unit-name-mismatch', 3]]);
  });

  it('bad option value on the Options= line fails that mount (EINVAL)', () => {
    const c = parseSystemdUnit('[Mount]\nWhat=/a.img\nWhere=/a\nType=erofs\nOptions=ro,cache_strategy=x\n', {
      file: 'a.mount',
    });
    expect(c.entries[0]!.mountError?.reason).toBe('bad-value');
    expect(c.warnings[0]!.message).toBe(
      'a.mount:5:12: cache_strategy= must be one of disabled, readahead, readaround, got "x": the kernel refuses the mount (EINVAL)',
    );
  });
});
