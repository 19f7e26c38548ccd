/**
 * `sharemap collect`: a host snapshot of page-cache residency over every EROFS mount
 * (packages/sharing/src/residency/snapshot.ts has the format; docs/working-set.md the method).
 *
 * Safety: the walk uses lstat-typed directory entries, so symbolic links are never followed,
 * and it never enters a directory on another device than its mount's root (no crossing into
 * mounts below). Files are never read: `fincore` asks mincore(2) (or cachestat(2)) which pages
 * are resident. What cannot be read (EACCES) is counted, not fatal, so an unprivileged user gets
 * a snapshot of what it may see. Runtime and size are bounded (COLLECT_LIMITS).
 */
import { execFile } from 'node:child_process';
import { lstat, opendir, readFile, stat } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import {
  HOST_SNAPSHOT_KIND,
  HOST_SNAPSHOT_VERSION,
  MountConfigError,
  parseMountinfo,
  unescapeHex,
  type HostSnapshot,
  type MountEntry,
  type SnapshotBacking,
  type SnapshotMount,
} from '@sharemap/sharing';
import { inputError, oneLine } from './errors.js';

export const COLLECT_LIMITS = {
  /** Files measured at most, over all mounts (a dense host: 200 images x 10,000 files). */
  maxFiles: 2_000_000,
  /** Wall-clock budget of one collection, in seconds. */
  maxSeconds: 600,
  /** Paths per fincore call, and their bytes at most (ARG_MAX is 2 MiB on Linux; stay far below). */
  batchFiles: 512,
  batchBytes: 256 * 1024,
  /** fincore output kept per call (a line is ~30 bytes plus the path). */
  maxFincoreOutput: 64 * 1024 * 1024,
} as const;

export interface CollectOptions {
  /** mountinfo text and the name to show in errors. */
  mountinfo: { text: string; file: string };
  /** Directory that mount points are mapped under (--root), or null for the live host. */
  root: string | null;
  fincore: string;
  /** The lsattr program (e2fsprogs) that tells the immutable attribute; default lsattr on $PATH. */
  lsattr?: string;
  maxFiles: number;
  maxSeconds: number;
  /** Now, for the deadline and createdAt (tests pass a fixed clock only for createdAt). */
  now?: () => Date;
  onProgress?: (message: string) => void;
}

/** fincore could not be run at all (not installed, not executable). */
export class FincoreMissingError extends Error {
  override readonly name = 'FincoreMissingError';
}

interface FincoreRow {
  pages: number;
  size: number;
}

/**
 * One fincore call over a batch of absolute paths: resident pages and size per path. Paths
 * fincore could not open (EACCES, vanished) are absent from the result (fincore names them on
 * stderr and exits 1; the other lines are still good).
 */
function runFincore(fincore: string, paths: string[], timeoutMs: number): Promise<Map<string, FincoreRow>> {
  return new Promise((resolve, reject) => {
    execFile(
      fincore,
      ['--raw', '--noheadings', '--bytes', '--output', 'PAGES,SIZE,FILE', '--', ...paths],
      { maxBuffer: COLLECT_LIMITS.maxFincoreOutput, timeout: Math.max(1000, timeoutMs), encoding: 'utf8' },
      (err, stdout) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean }) | null;
        if (e && (e.code === 'ENOENT' || e.code === 'EACCES'))
          return reject(new FincoreMissingError(`cannot run ${fincore}: ${e.code}`));
        if (e && e.killed)
          return reject(
            inputError(`fincore timed out or printed more than ${COLLECT_LIMITS.maxFincoreOutput} bytes`),
          );
        const out = new Map<string, FincoreRow>();
        for (const line of stdout.split('\n')) {
          const m = /^(\d+) (\d+) (.+)$/.exec(line);
          if (m) out.set(unescapeHex(m[3]!), { pages: Number(m[1]), size: Number(m[2]) });
        }
        resolve(out);
      },
    );
  });
}

/** The mountinfo lines a snapshot keeps: EROFS mounts and the overlays above them (nothing else of the host). */
function keptMountinfo(text: string): string {
  return text
    .split('\n')
    .filter((l) => / - (?:erofs|overlay) /.test(l))
    .map((l) => l + '\n')
    .join('');
}

/** Regular files under one mount, as paths relative to it ('/usr/bin/x'), without following links or crossing devices. */
async function* walk(
  base: string,
  rel: string,
  dev: number,
  counts: { unreadable: number },
): AsyncGenerator<string> {
  let dir;
  try {
    dir = await opendir(join(base, rel));
  } catch {
    counts.unreadable++; // EACCES, vanished: what an unprivileged user cannot see
    return;
  }
  for await (const ent of dir) {
    const child = rel === '/' ? `/${ent.name}` : `${rel}/${ent.name}`;
    if (ent.isFile()) yield child;
    else if (ent.isDirectory()) {
      // Another mount below this one (another device) is not this image's.
      const st = await lstat(join(base, child)).catch(() => null);
      if (st && st.dev === dev) yield* walk(base, child, dev, counts);
    }
    // Symbolic links, devices, sockets, fifos: never followed, never measured.
  }
}

export async function pageSizeOfHost(): Promise<number | null> {
  return new Promise((resolve) => {
    execFile('getconf', ['PAGESIZE'], { timeout: 5000, encoding: 'utf8' }, (err, out) => {
      const n = Number(out.trim());
      resolve(!err && Number.isInteger(n) && n >= 512 ? n : null);
    });
  });
}

export async function fincoreVersion(fincore: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(fincore, ['--version'], { timeout: 5000, encoding: 'utf8' }, (err, out) => {
      const e = err as NodeJS.ErrnoException | null;
      if (e && (e.code === 'ENOENT' || e.code === 'EACCES'))
        return reject(new FincoreMissingError(`cannot run ${fincore}: ${e.code}`));
      resolve(oneLine(out.trim()) || fincore);
    });
  });
}

const LOOP_DEVICE = /^\/dev\/(loop\d+)$/;

/** A host path as the collector sees it: under --root when given. */
const mapped = (root: string | null, path: string): string => (root !== null ? join(root, path) : path);

/** A small file of /sys, trimmed; null when it cannot be read. */
async function sysValue(path: string): Promise<string | null> {
  return readFile(path, 'utf8').then(
    (t) => t.trim(),
    () => null,
  );
}

/**
 * Whether `lsattr -d` shows the immutable flag (`i` in its flag field, FS_IMMUTABLE_FL); null when
 * lsattr is missing or the file system has no such attributes (lsattr fails: the state is unknown).
 */
export function immutableOf(lsattr: string, path: string): Promise<boolean | null> {
  return new Promise((resolve) => {
    execFile(lsattr, ['-d', '--', path], { timeout: 5000, encoding: 'utf8' }, (err, out) => {
      if (err) return resolve(null);
      resolve(immutableFromLsattr(out));
    });
  });
}

/** The immutable flag from one line of `lsattr -d` output (`----i---------e------- /path`). */
export function immutableFromLsattr(out: string): boolean | null {
  const flags = /^(\S+) /.exec(out)?.[1];
  return flags === undefined || !/^[-a-zA-Z]+$/.test(flags) ? null : flags.includes('i');
}

/**
 * The file behind an EROFS mount and its owner, mode and immutable attribute (docs/trust.md,
 * lifetime): a loop device's backing file and direct I/O from /sys/block/loopN/loop, or a
 * file-backed mount's source. Nothing is opened or read.
 */
async function backingOf(
  entry: MountEntry,
  root: string | null,
  lsattr: string,
): Promise<SnapshotBacking | null> {
  const loop = LOOP_DEVICE.exec(entry.source);
  let backing: SnapshotBacking;
  if (loop) {
    const sys = mapped(root, `/sys/block/${loop[1]!}/loop`);
    let path = await sysValue(`${sys}/backing_file`);
    if (path === null || !path.startsWith('/')) return null;
    if (path.endsWith(' (deleted)')) path = path.slice(0, -' (deleted)'.length);
    backing = { path, loopDevice: entry.source };
    const dio = await sysValue(`${sys}/dio`);
    if (dio === '0' || dio === '1') backing.directIo = dio === '1';
  } else if (entry.backing === 'file' && entry.source.startsWith('/')) {
    backing = { path: entry.source };
  } else return null;
  const st = await stat(mapped(root, backing.path)).catch(() => null);
  if (st && st.isFile()) {
    backing.uid = st.uid;
    backing.gid = st.gid;
    backing.mode = st.mode & 0o7777;
    const immutable = await immutableOf(lsattr, mapped(root, backing.path));
    if (immutable !== null) backing.immutable = immutable;
  }
  return backing;
}

export async function collectSnapshot(opts: CollectOptions): Promise<HostSnapshot> {
  const now = opts.now ?? ((): Date => new Date());
  const started = Date.now();
  const deadline = started + opts.maxSeconds * 1000;
  const tool = await fincoreVersion(opts.fincore);
  let config;
  try {
    config = parseMountinfo(opts.mountinfo.text, { file: opts.mountinfo.file });
  } catch (e) {
    if (e instanceof MountConfigError) throw inputError(oneLine(e.message));
    throw e;
  }
  const pageSize = (await pageSizeOfHost()) ?? 4096;
  const mounts: SnapshotMount[] = [];
  let total = 0;
  let stopped = false;
  for (const entry of config.entries) {
    const mp = entry.mountPoint;
    const overlays = config.context
      .filter((c) => c.kind === 'overlay' && c.lowerdirs.some((l) => l === mp || l.startsWith(mp + '/')))
      .map((c) => c.mountPoint);
    const mount: SnapshotMount = {
      mountPoint: mp,
      source: entry.source,
      overlays,
      files: [],
      unreadable: 0,
      truncated: false,
    };
    const backing = await backingOf(entry, opts.root, opts.lsattr ?? 'lsattr');
    if (backing) mount.backing = backing;
    mounts.push(mount);
    if (mounts.some((m) => m !== mount && m.mountPoint === mp)) continue; // one walk per mount point (the top mount)
    const base = opts.root !== null ? join(opts.root, mp) : mp;
    const rootStat = await lstat(base).catch(() => null);
    if (!rootStat || !rootStat.isDirectory()) {
      mount.unreadable++;
      opts.onProgress?.(`${mp}: not found${opts.root !== null ? ` under ${opts.root}` : ''}; skipped`);
      continue;
    }
    if (stopped) {
      mount.truncated = true;
      continue;
    }
    const counts = { unreadable: 0 };
    let batch: string[] = [];
    let batchBytes = 0;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const rows = await runFincore(
        opts.fincore,
        batch.map((p) => base + p),
        deadline - Date.now(),
      );
      for (const rel of batch) {
        const r = rows.get(base + rel);
        if (r) mount.files.push([rel, r.pages, r.size]);
        else counts.unreadable++;
      }
      batch = [];
      batchBytes = 0;
    };
    for await (const rel of walk(base, '/', rootStat.dev, counts)) {
      if (total >= opts.maxFiles || Date.now() > deadline) {
        mount.truncated = stopped = true;
        break;
      }
      total++;
      batch.push(rel);
      batchBytes += base.length + rel.length + 1;
      if (batch.length >= COLLECT_LIMITS.batchFiles || batchBytes >= COLLECT_LIMITS.batchBytes) await flush();
    }
    await flush();
    mount.unreadable += counts.unreadable;
    mount.files.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    opts.onProgress?.(
      `${mp}: ${mount.files.length} files${mount.unreadable ? `, ${mount.unreadable} unreadable` : ''}${mount.truncated ? ' (stopped at a limit)' : ''}`,
    );
  }
  return {
    kind: HOST_SNAPSHOT_KIND,
    version: HOST_SNAPSHOT_VERSION,
    createdAt: now().toISOString(),
    host: { kernelRelease: release(), pageSize },
    tool,
    mountinfo: keptMountinfo(opts.mountinfo.text),
    mounts,
  };
}

export async function readMountinfoFile(path: string): Promise<{ text: string; file: string }> {
  try {
    return { text: await readFile(path, 'utf8'), file: path };
  } catch (e) {
    throw inputError(`${path}: cannot read: ${(e as Error).message}`);
  }
}
