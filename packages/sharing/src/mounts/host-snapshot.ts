/**
 * A `sharemap collect` host snapshot read as a mount configuration: its kept mountinfo lines
 * (EROFS and overlay mounts) are the mounts, and what the collector recorded of each mount's
 * backing (a loop device's backing file and direct-I/O state; the backing file's owner, mode and
 * immutable attribute) goes to `loopDevices`, `loopDirectIo` and `backingFiles`, which the trust
 * model's lifetime section reads (docs/trust.md). The per-file residency of the snapshot is the
 * residency parser's (residency/snapshot.ts) and is ignored here, so a snapshot with its `files`
 * emptied (`snapshotMountConfigText`) is a complete mount configuration.
 *
 *   "mounts": [{ "mountPoint": "/run/images/app", "source": "/dev/loop0", ...,
 *                "backing": { "path": "/var/lib/images/app.img", "loopDevice": "/dev/loop0",
 *                             "directIo": false, "uid": 0, "gid": 0, "mode": 420, "immutable": true } }]
 */
import { checkHostSnapshotHeader } from '../host-snapshot-kind.js';
import type { BackingFileAttributes } from '../trust/types.js';
import { MountConfigError } from './errors.js';
import { parseJsonLocated, type Json } from './json.js';
import { parseMountinfo } from './mountinfo.js';
import { checkInputSize } from './text.js';
import type { MountConfig, ParseOptions } from './types.js';

/** Largest uid/gid (Linux uid_t is 32 bits; (uid_t)-1 means "none"). */
const MAX_ID = 0xfffffffe;

export interface SnapshotBacking extends BackingFileAttributes {
  /** The file holding the image: a file-backed mount's source, or the loop device's backing file. */
  path: string;
  /** The loop device the mount's source names, when it is one. */
  loopDevice?: string;
  /** Whether that loop device uses direct I/O (/sys/block/loopN/loop/dio). */
  directIo?: boolean;
}

type Obj = { [k: string]: Json };
const isObj = (v: Json | undefined): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export function parseHostSnapshotMounts(text: string, opts: ParseOptions = {}): MountConfig {
  const file = opts.file ?? 'snapshot.json';
  checkInputSize(text, file);
  const { value, positions } = parseJsonLocated(text, file);
  const bad = (ptr: string, problem: string): never => {
    const p = positions.get(ptr) ?? { line: 1, column: 1 };
    throw new MountConfigError('bad-snapshot', problem, file, p.line, p.column);
  };
  checkHostSnapshotHeader(value, bad);
  const top = value as Obj;
  const mountinfo = top['mountinfo'];
  if (typeof mountinfo !== 'string') bad('/mountinfo', '"mountinfo" must be a string');
  // Origins point into the embedded mount table: "<file> mountinfo:LINE:COLUMN".
  const config = parseMountinfo(mountinfo as string, { ...opts, file: `${file} mountinfo` });
  config.format = 'host-snapshot';
  const mounts = top['mounts'];
  if (!Array.isArray(mounts)) bad('/mounts', '"mounts" must be an array');
  (mounts as Json[]).forEach((m, k) => {
    if (!isObj(m)) bad(`/mounts/${k}`, 'mount must be an object');
    const b = (m as Obj)['backing'];
    if (b === undefined || b === null) return; // collected before backing was recorded, or not a file
    const ptr = `/mounts/${k}/backing`;
    if (!isObj(b)) bad(ptr, '"backing" must be an object');
    const backing = readBacking(b as Obj, ptr, bad);
    if (backing.loopDevice !== undefined) {
      config.loopDevices[backing.loopDevice] = backing.path;
      if (backing.directIo !== undefined) (config.loopDirectIo ??= {})[backing.loopDevice] = backing.directIo;
    }
    const attributes: BackingFileAttributes = {};
    if (backing.uid !== undefined) attributes.uid = backing.uid;
    if (backing.gid !== undefined) attributes.gid = backing.gid;
    if (backing.mode !== undefined) attributes.mode = backing.mode;
    if (backing.immutable !== undefined) attributes.immutable = backing.immutable;
    if (Object.keys(attributes).length > 0) (config.backingFiles ??= {})[backing.path] = attributes;
  });
  return config;
}

function readBacking(b: Obj, ptr: string, bad: (ptr: string, problem: string) => never): SnapshotBacking {
  const path = b['path'];
  if (typeof path !== 'string' || !path.startsWith('/'))
    bad(`${ptr}/path`, '"path" must be an absolute path');
  const out: SnapshotBacking = { path: path as string };
  const loop = b['loopDevice'];
  if (loop !== undefined) {
    if (typeof loop !== 'string' || !/^\/dev\/loop\d+$/.test(loop))
      bad(`${ptr}/loopDevice`, '"loopDevice" must be a /dev/loopN path');
    out.loopDevice = loop as string;
  }
  for (const key of ['directIo', 'immutable'] as const) {
    const v = b[key];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') bad(`${ptr}/${key}`, `"${key}" must be true or false`);
    out[key] = v as boolean;
  }
  for (const key of ['uid', 'gid'] as const) {
    const v = b[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_ID)
      bad(`${ptr}/${key}`, `"${key}" must be an integer between 0 and ${MAX_ID}`);
    out[key] = v as number;
  }
  const mode = b['mode'];
  if (mode !== undefined) {
    if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o7777)
      bad(`${ptr}/mode`, '"mode" must be the permission bits, an integer between 0 and 0o7777 (4095)');
    out.mode = mode as number;
  }
  return out;
}

/**
 * A host snapshot's mount configuration as text: the snapshot with every mount's `files` emptied
 * (the residency goes its own way), so uploads and stored configurations stay small and keep what
 * the collector recorded of the backing files.
 */
export function snapshotMountConfigText(snapshot: { mounts: { files: unknown[] }[] }): string {
  return JSON.stringify({ ...snapshot, mounts: snapshot.mounts.map((m) => ({ ...m, files: [] })) });
}
