import { describe, expect, it } from 'vitest';
import {
  detectFormat,
  detectResidencyFormat,
  HOST_SNAPSHOT_KIND,
  isHostSnapshotText,
  MountConfigError,
  parseHostSnapshot,
  parseHostSnapshotMounts,
  ResidencyError,
} from '../src/index.js';

const snapshot = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    kind: HOST_SNAPSHOT_KIND,
    version: 1,
    createdAt: '2026-12-05T18:00:00.000Z',
    host: { kernelRelease: '7.0.0', pageSize: 4096 },
    tool: 'fincore from util-linux 2.38.1',
    mountinfo: '36 35 0:51 / /run/images/app ro - erofs /var/lib/images/app.img ro,inode_share\n',
    mounts: [],
    ...extra,
  });

describe('the host snapshot kind, defined once', () => {
  it('is detected by both format detectors and the shared predicate alike', () => {
    const text = snapshot();
    expect(isHostSnapshotText(text)).toBe(true);
    expect(detectFormat(text)).toBe('host-snapshot');
    expect(detectResidencyFormat(text)).toBe('host-snapshot');
  });

  it('is found after a long member list (JSON members come in any order)', () => {
    const { kind, ...rest } = JSON.parse(snapshot()) as Record<string, unknown>;
    const late = JSON.stringify({ ...rest, padding: 'x'.repeat(100_000), kind });
    expect(late.indexOf('"kind"')).toBeGreaterThan(100_000);
    expect(isHostSnapshotText(late)).toBe(true);
    expect(detectFormat(late)).toBe('host-snapshot');
  });

  it('is not claimed by other inputs', () => {
    expect(isHostSnapshotText('{"fincore": []}')).toBe(false);
    expect(isHostSnapshotText('{"kind": "sharemap-mount-plan", "version": 1}')).toBe(false);
    // A string that merely contains the words: JSON escapes its quotes.
    expect(isHostSnapshotText(JSON.stringify({ note: '"kind": "sharemap-host-snapshot"' }))).toBe(false);
    expect(isHostSnapshotText('/run/images/app/usr/bin/x\n"kind": "sharemap-host-snapshot"')).toBe(false);
  });

  it('gives both parsers the same header check and message', () => {
    const v2 = snapshot({ version: 2 });
    const problem = 'unsupported snapshot version 2 (this sharemap reads 1)';
    expect(() => parseHostSnapshot(v2, 's.json')).toThrow(ResidencyError);
    expect(() => parseHostSnapshot(v2, 's.json')).toThrow(problem);
    expect(() => parseHostSnapshotMounts(v2, { file: 's.json' })).toThrow(MountConfigError);
    expect(() => parseHostSnapshotMounts(v2, { file: 's.json' })).toThrow(problem);
    const other = '{"kind": "other", "version": 1}';
    expect(() => parseHostSnapshot(other)).toThrow(
      'not a host snapshot (no "kind": "sharemap-host-snapshot")',
    );
    expect(() => parseHostSnapshotMounts(other)).toThrow(
      'not a host snapshot (no "kind": "sharemap-host-snapshot")',
    );
  });
});
