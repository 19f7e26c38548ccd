/**
 * Host snapshots: what `sharemap collect` writes (JSON, gzip on disk) and `analyze`, `upload`
 * and the web UI take like a mount configuration. One snapshot holds the EROFS and overlay
 * lines of the host's mountinfo (the mount configuration) and, per EROFS mount point, the
 * resident pages of its regular files at one moment (docs/working-set.md).
 *
 * {
 *   "kind": "sharemap-host-snapshot", "version": 1,
 *   "createdAt": "2026-12-05T18:00:00.000Z",
 *   "host": { "kernelRelease": "7.0.0", "pageSize": 4096 },
 *   "tool": "fincore from util-linux 2.38.1",
 *   "mountinfo": "36 35 0:51 / /run/images/app ro - erofs /var/lib/images/app.img ro,...\n",
 *   "mounts": [{ "mountPoint": "/run/images/app", "source": "...", "overlays": ["/run/c/web-1/rootfs"],
 *                "files": [["/usr/bin/x", 3, 12288]], "unreadable": 0, "truncated": false,
 *                "backing": { "path": "/var/lib/images/app.img", "uid": 0, "gid": 0, "mode": 420, "immutable": true } }]
 * }
 *
 * `files` entries are [path inside the mount, resident pages, size in bytes].
 */
import {
  checkHostSnapshotHeader,
  type HOST_SNAPSHOT_KIND,
  type HOST_SNAPSHOT_VERSION,
} from '../host-snapshot-kind.js';
import { trimTrailingSlashes } from '../mounts/text.js';
import { ResidencyError } from './errors.js';
import { MAX_RESIDENT_PAGES } from './limits.js';
import { checkRecordCount, LocatedJson } from './text.js';
import type { SnapshotBacking } from '../mounts/host-snapshot.js';
import type { ResidencyData, ResidencyRecord } from './types.js';

export interface SnapshotMount {
  mountPoint: string;
  source: string;
  /** Overlay mount points with a lowerdir on this mount (containers reading it). */
  overlays: string[];
  files: [path: string, residentPages: number, size: number][];
  /** Regular files that could not be measured (no read permission, vanished). */
  unreadable: number;
  /** True when a bound (files, time) stopped the walk early: the files listed are a part. */
  truncated: boolean;
  /**
   * The file behind the mount (file-backed source or loop backing file) with its owner, mode and
   * immutable attribute, and the loop device's direct I/O; absent when the source is no file.
   * Read as a mount configuration by mounts/host-snapshot.ts (docs/trust.md, lifetime).
   */
  backing?: SnapshotBacking;
}

export interface HostSnapshot {
  kind: typeof HOST_SNAPSHOT_KIND;
  version: typeof HOST_SNAPSHOT_VERSION;
  createdAt: string;
  host: { kernelRelease: string; pageSize: number };
  tool: string;
  mountinfo: string;
  mounts: SnapshotMount[];
}

/** Joins a mount point and a path inside it. */
function join(mountPoint: string, path: string): string {
  return mountPoint === '/' ? path : trimTrailingSlashes(mountPoint) + path;
}

/** Validates a host snapshot (parsed JSON text) and returns it with its residency as records. */
export function parseHostSnapshot(
  text: string,
  file = 'snapshot.json',
): { snapshot: HostSnapshot; residency: ResidencyData } {
  const json = new LocatedJson(text, file);
  const v = json.value as Record<string, unknown> | null;
  const bad = (ptr: string, problem: string): never => {
    let located: ResidencyError;
    try {
      json.fail(ptr, problem);
    } catch (e) {
      if (!(e instanceof ResidencyError)) throw e;
      located = e;
    }
    throw new ResidencyError('bad-snapshot', located!.problem, located!.file, located!.line, located!.column);
  };
  checkHostSnapshotHeader(v, bad);
  if (typeof v!['createdAt'] !== 'string' || Number.isNaN(Date.parse(v!['createdAt'])))
    bad('/createdAt', '"createdAt" must be an ISO date');
  const host = v!['host'] as Record<string, unknown> | undefined;
  if (!host || typeof host !== 'object') bad('/host', '"host" must be an object');
  const ps = host!['pageSize'];
  if (typeof ps !== 'number' || !Number.isInteger(ps) || ps < 512 || ps > 1 << 20 || (ps & (ps - 1)) !== 0)
    bad('/host/pageSize', '"pageSize" must be a power of two between 512 and 1 MiB');
  if (typeof host!['kernelRelease'] !== 'string')
    bad('/host/kernelRelease', '"kernelRelease" must be a string');
  if (typeof v!['tool'] !== 'string') bad('/tool', '"tool" must be a string');
  if (typeof v!['mountinfo'] !== 'string') bad('/mountinfo', '"mountinfo" must be a string');
  const mounts = v!['mounts'];
  if (!Array.isArray(mounts)) bad('/mounts', '"mounts" must be an array');
  const records: ResidencyRecord[] = [];
  let count = 0;
  (mounts as unknown[]).forEach((m, k) => {
    const ptr = `/mounts/${k}`;
    const mount = m as Record<string, unknown>;
    if (!mount || typeof mount !== 'object' || Array.isArray(mount)) bad(ptr, 'mount must be an object');
    const mp = mount['mountPoint'];
    if (typeof mp !== 'string' || !mp.startsWith('/'))
      bad(`${ptr}/mountPoint`, '"mountPoint" must be an absolute path');
    if (typeof mount['source'] !== 'string') bad(`${ptr}/source`, '"source" must be a string');
    const overlays = mount['overlays'];
    if (!Array.isArray(overlays) || !overlays.every((o) => typeof o === 'string'))
      bad(`${ptr}/overlays`, '"overlays" must be an array of paths');
    if (typeof mount['unreadable'] !== 'number') bad(`${ptr}/unreadable`, '"unreadable" must be a number');
    if (typeof mount['truncated'] !== 'boolean') bad(`${ptr}/truncated`, '"truncated" must be true or false');
    const files = mount['files'];
    if (!Array.isArray(files)) bad(`${ptr}/files`, '"files" must be an array');
    count += (files as unknown[]).length;
    checkRecordCount(count, file, 1);
    (files as unknown[]).forEach((f, j) => {
      const fp = `${ptr}/files/${j}`;
      if (
        !Array.isArray(f) ||
        f.length !== 3 ||
        typeof f[0] !== 'string' ||
        !f[0].startsWith('/') ||
        typeof f[1] !== 'number' ||
        !Number.isInteger(f[1]) ||
        f[1] < 0 ||
        f[1] > MAX_RESIDENT_PAGES ||
        typeof f[2] !== 'number' ||
        !Number.isInteger(f[2]) ||
        f[2] < 0
      )
        bad(fp, 'a file entry must be [absolute path inside the mount, resident pages, size in bytes]');
      const [path, pages, size] = f as [string, number, number];
      if (pages > Math.ceil(size / (ps as number)))
        bad(
          `${fp}/1`,
          `${pages} resident pages exceed the ${Math.ceil(size / (ps as number))} pages of ${size} bytes`,
        );
      records.push({
        path: join(mp as string, path),
        residentPages: pages,
        size,
        origin: { file, line: 1, column: 1 },
      });
    });
  });
  return {
    snapshot: v as unknown as HostSnapshot,
    residency: { format: 'host-snapshot', file, pageSize: ps as number, records },
  };
}
