import { describe, expect, it } from 'vitest';
import { readMountSample } from '../model-fixtures.js';
import {
  createDomainRedactor,
  MountConfigError,
  parseMountCommands,
  resolveInstances,
} from '../../src/mounts/index.js';
import { MountScriptInterpreter } from '../../src/mounts/mount-commands.js';
import type { Command, Sep } from '../../src/mounts/shell-lexer.js';

const read = readMountSample;
const IMAGES = [
  'base-v1.fp',
  'base-v2.fp',
  'app.fp',
  'base-v1.fp.lz4hc',
  'app.fp.lz4hc',
  'edge-mini.chunk4k.blob',
].map((id) => ({ id, name: `${id}.img` }));

describe('mount-commands: mount-commands.sh', () => {
  const cfg = parseMountCommands(read('mount-commands.sh'), {
    file: 'mount-commands.sh',
    domains: createDomainRedactor(),
  });

  it('reads every mount with continuations, quotes and $IMAGES expanded', () => {
    expect(cfg.entries.map((e) => [e.origin.line, e.source, e.mountPoint])).toEqual([
      [6, '/var/lib/images/base-v1.fp.img', '/run/images/base-v1'],
      [7, '/var/lib/images/base-v2.fp.img', '/run/images/base-v2'],
      [10, '/dev/loop3', '/run/images/app'],
      [11, '/dev/loop3', '/run/images/app-again'],
      [12, '/var/lib/images/base-v1.fp.lz4hc.img', '/run/images/base-v1-z'],
      [13, '/var/lib/images/edge-mini.chunk4k.blob.img', '/run/images/chunked'],
      [14, '/var/lib/images/app.fp.lz4hc.img', '/run/images/app-z'],
    ]);
    expect(cfg.loopDevices).toEqual({ '/dev/loop3': '/var/lib/images/app.fp.img' });
    expect(cfg.entries.slice(0, 5).map((e) => e.domain?.label)).toEqual(['D1', 'D1', 'D1', 'D1', 'D1']);
    expect(cfg.entries[1]!.options.readOnly).toBe(true);
    expect(cfg.entries[5]!.options.devices).toEqual(['/var/lib/images/edge-mini.chunk4k.blob.blob']);
    expect(cfg.entries[5]!.options.inodeShare).toBe(false);
  });

  it('R2 mount without domain_id fails with EINVAL and set -e stops the script', () => {
    const z = cfg.entries[6]!;
    expect(z.mountError).toEqual({
      errno: 'EINVAL',
      reason: 'no-domain',
      message: 'domain_id is needed when inode_ishare is on',
    });
    expect(z.notMounted).toBeNull();
    expect(cfg.context).toHaveLength(1);
    expect(cfg.context[0]).toMatchObject({
      mountPoint: '/run/c/1',
      active: false,
      lowerdirs: ['/run/images/app', '/run/images/base-v1'],
    });
    expect(cfg.warnings.map((w) => [w.code, w.origin.line])).toEqual([
      ['mount-failed', 14],
      ['script-stopped', 14],
    ]);
  });

  it('R9 two mounts of /dev/loop3 are one instance; the overlay that never ran adds no users', () => {
    const { instances, unresolved } = resolveInstances([cfg], IMAGES);
    expect(unresolved).toEqual([]);
    expect(instances.map((i) => [i.imageId, i.mountPoints, i.backing, i.mountError ?? null])).toEqual([
      ['base-v1.fp', ['/run/images/base-v1'], 'file', null],
      ['base-v2.fp', ['/run/images/base-v2'], 'file', null],
      ['app.fp', ['/run/images/app', '/run/images/app-again'], 'bdev', null],
      ['base-v1.fp.lz4hc', ['/run/images/base-v1-z'], 'file', null],
      ['edge-mini.chunk4k.blob', ['/run/images/chunked'], 'file', null],
      ['app.fp.lz4hc', ['/run/images/app-z'], 'file', 'domain_id is needed when inode_ishare is on'],
    ]);
    expect(instances.every((i) => i.users === undefined)).toBe(true);
    expect(instances[3]!.options.directio).toBe(true);
    expect(instances[4]!.options.devices).toEqual(['/var/lib/images/edge-mini.chunk4k.blob.blob']);
  });

  it('later lines after a failing mount are reported as not run', () => {
    const c = parseMountCommands(
      'set -e\nmount -t erofs -o inode_share /a.img /a\nmount -t erofs /b.img /b\n',
      { file: 's' },
    );
    expect(c.entries.map((e) => e.notMounted)).toEqual([null, 'script-stopped']);
    const noE = parseMountCommands('mount -t erofs -o inode_share /a.img /a\nmount -t erofs /b.img /b\n', {
      file: 's',
    });
    expect(noE.entries.map((e) => e.notMounted)).toEqual([null, null]);
    const guarded = parseMountCommands(
      'set -e\nmount -t erofs -o inode_share /a.img /a || true\nmount -t erofs /b.img /b\n',
      { file: 's' },
    );
    expect(guarded.entries.map((e) => e.notMounted)).toEqual([null, null]);
  });

  it('variables: ${VAR}, ${VAR:-default}, export, set -u on an unset variable stops the script', () => {
    const c = parseMountCommands(
      'export D=/img\nO="inode_share,domain_id=acme-signed"\nmount -t erofs -o "$O" ${D}/a.img ${MP:-/mnt/a}\nset -u\nmount -t erofs $NOPE/b.img /b\n',
      { file: 's' },
    );
    expect(c.entries.map((e) => [e.source, e.mountPoint, e.domain?.label ?? null, e.notMounted])).toEqual([
      ['/img/a.img', '/mnt/a', 'D1', null],
      ['/b.img', '/b', null, 'script-stopped'],
    ]);
    expect(JSON.stringify(c)).not.toContain('acme-signed');
  });

  it('unterminated quote: error with line and column', () => {
    let err: unknown;
    try {
      parseMountCommands("mount -t erofs \\\n  -o 'inode_share,domain_id=x /a.img /a\n", { file: 's.sh' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MountConfigError);
    expect([(err as MountConfigError).code, (err as MountConfigError).message]).toEqual([
      'unterminated-quote',
      's.sh:2:6: unterminated single quote',
    ]);
    expect(() => parseMountCommands('mount -o "ro /a /b\n', { file: 'q' })).toThrow(
      'q:1:10: unterminated double quote',
    );
  });

  it('bad option value in a script points at the option and fails that mount (EINVAL)', () => {
    const c = parseMountCommands('mount -t erofs -o ro,dax=sometimes /a.img /a\n', { file: 's' });
    expect(c.entries[0]!.mountError?.reason).toBe('bad-value');
    expect(c.warnings[0]!.message).toBe(
      's:1:22: dax= must be always or never: the kernel refuses the mount (EINVAL)',
    );
  });
});

describe('mount-commands interpreter (MountScriptInterpreter) on commands as the lexer hands them over', () => {
  /** One command per entry: its words (columns 1, 10, 20, ...) and the separator after it. */
  function run(cmds: [string[], Sep][]) {
    const it = new MountScriptInterpreter('', 'x.sh', createDomainRedactor());
    let before: Sep = '\n';
    cmds.forEach(([words, after], k) => {
      const cmd: Command = {
        words: words.map((value, j) => ({ value, line: k + 1, column: 1 + 10 * j })),
        before,
        after,
        line: k + 1,
      };
      it.execute(cmd);
      before = after;
    });
    return it;
  }

  it('losetup maps a loop device; sudo is skipped; several -o are joined as mount(8) does', () => {
    const it = run([
      [['sudo', 'losetup', '-r', '/dev/loop3', '/v/app.img'], '\n'],
      [['mount', '-t', 'erofs', '-o', 'inode_share', '-o', 'domain_id=a', '/dev/loop3', '/run/app'], '\n'],
    ]);
    expect(it.config.loopDevices).toEqual({ '/dev/loop3': '/v/app.img' });
    expect(
      it.config.entries.map((e) => [e.source, e.mountPoint, e.options.inodeShare, e.domain?.label]),
    ).toEqual([['/dev/loop3', '/run/app', true, 'D1']]);
  });

  it('losetup --direct-io: on, =on, =off and absent (off, the default); detach forgets the device', () => {
    const it = run([
      [['losetup', '--direct-io', '/dev/loop1', '/v/a.img'], '\n'],
      [['losetup', '--direct-io=on', '-r', '/dev/loop2', '/v/b.img'], '\n'],
      [['losetup', '--direct-io=off', '/dev/loop3', '/v/c.img'], '\n'],
      [['losetup', '-r', '/dev/loop4', '/v/d.img'], '\n'],
      [['losetup', '-r', '/dev/loop5', '/v/e.img'], '\n'],
      [['losetup', '-d', '/dev/loop5'], '\n'],
    ]);
    expect(it.config.loopDirectIo).toEqual({
      '/dev/loop1': true,
      '/dev/loop2': true,
      '/dev/loop3': false,
      '/dev/loop4': false,
    });
    expect(Object.keys(it.config.loopDevices)).toEqual([
      '/dev/loop1',
      '/dev/loop2',
      '/dev/loop3',
      '/dev/loop4',
    ]);
  });

  it('set -e: a failing mount (EINVAL, R2) stops the script; later mounts are script-stopped', () => {
    const it = run([
      [['set', '-e'], '\n'],
      [['mount', '-t', 'erofs', '-o', 'inode_share', '/v/a.img', '/run/a'], '\n'],
      [['mount', '-t', 'erofs', '-o', 'inode_share,domain_id=x', '/v/b.img', '/run/b'], '\n'],
    ]);
    expect(
      it.config.entries.map((e) => [e.mountPoint, e.mountError !== undefined, e.notMounted ?? null]),
    ).toEqual([
      ['/run/a', true, null],
      ['/run/b', true, 'script-stopped'], // not mounted either: it holds nothing
    ]);
    expect(it.stoppedAt).toEqual({ file: 'x.sh', line: 2, column: 1 });
  });

  it('a failure inside an && / || list does not stop set -e; || runs only after a failure', () => {
    const it = run([
      [['set', '-e'], '\n'],
      [['mount', '-t', 'erofs', '-o', 'inode_share', '/v/a.img', '/run/a'], '||'],
      [['mount', '-t', 'erofs', '-o', 'inode_share,domain_id=x', '/v/a.img', '/run/a2'], '&&'],
      [['mount', '-t', 'erofs', '-o', 'inode_share,domain_id=x', '/v/c.img', '/run/c'], '||'],
      [['mount', '-t', 'erofs', '-o', 'inode_share,domain_id=x', '/v/d.img', '/run/d'], '\n'],
    ]);
    expect(it.stoppedAt).toBeNull();
    expect(it.config.entries.map((e) => e.mountPoint)).toEqual(['/run/a', '/run/a2', '/run/c']);
  });

  it('assignments set variables; mount -a and operand-less mounts are warnings, not entries', () => {
    const it = run([
      [['IMAGES=/v', 'X=1'], '\n'],
      [['mount', '-a'], '\n'],
      [['mount', '-t', 'erofs', '/v/a.img'], '\n'],
    ]);
    expect([...it.vars]).toEqual([
      ['IMAGES', '/v'],
      ['X', '1'],
    ]);
    expect(it.config.entries).toEqual([]);
    expect(it.config.warnings.map((w) => w.message)).toEqual([
      'x.sh:2:11: mount -a mounts /etc/fstab entries: parse the fstab instead',
      'x.sh:3:1: mount with 1 operand(s) is not modelled (expected SOURCE DIR)',
    ]);
  });
});
