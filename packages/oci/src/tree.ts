/**
 * The file tree mkfs.erofs builds from a tar, and the same tree for a flattened image.
 * Rules (numbers) are those of testdata/oci/README.fixtures.md, "Rules a predictor must
 * follow to reproduce mkfs.erofs --tar=f", learned from erofs-utils 1.9.3 lib/tar.c,
 * lib/rebuild.c and lib/inode.c and checked against images it built.
 */
import type { FileType } from '@sharemap/erofs';
import { OciError } from './errors.js';
import { displayPath, type LayerMember, type PathKey } from './layer.js';

export interface Inode {
  type: FileType;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  mtimeNsec: number;
  /** Regular files: data size; whiteouts: the member's size; others: ignored. */
  size: number;
  symlink?: PathKey;
  rdev?: [number, number];
  /** In order; a directory over a directory appends (rule 3), duplicates kept. */
  xattrs: [string, Uint8Array][];
  sha256?: string;
  children?: Map<PathKey, Dentry>;
}

export interface Dentry {
  inode: Inode;
  /** Flattening: index of the layer that last wrote this entry (whiteouts hide lower ones only). */
  layer: number;
}

const TYPE_OF: Record<string, FileType> = {
  file: 'file',
  symlink: 'symlink',
  chr: 'chr',
  blk: 'blk',
  dir: 'dir',
  fifo: 'fifo',
};

export function newRoot(mode: number, uid: number, gid: number, mtime: number): Dentry {
  return {
    inode: { type: 'dir', mode, uid, gid, mtime, mtimeNsec: 0, size: 0, xattrs: [], children: new Map() },
    layer: -1,
  };
}

function inodeOf(m: LayerMember): Inode {
  const ino: Inode = {
    type: TYPE_OF[m.kind]!,
    mode: m.mode,
    uid: m.uid,
    gid: m.gid,
    mtime: m.mtime,
    mtimeNsec: m.mtimeNsec,
    size: m.kind === 'file' ? m.size : 0,
    xattrs: [...m.xattrs],
  };
  if (m.symlink !== undefined) ino.symlink = m.symlink;
  if (m.rdev) ino.rdev = m.rdev;
  if (m.sha256 !== undefined) ino.sha256 = m.sha256;
  if (m.kind === 'dir') ino.children = new Map();
  return ino;
}

/** Rule 4: an implicitly created parent gets 0755 plus its parent's group/other write bits and its parent's owner and mtime. */
function implicitDir(parent: Inode, layer: number): Dentry {
  return {
    inode: {
      type: 'dir',
      mode: 0o755 | (parent.mode & 0o022),
      uid: parent.uid,
      gid: parent.gid,
      mtime: parent.mtime,
      mtimeNsec: parent.mtimeNsec,
      size: 0,
      xattrs: [],
      children: new Map(),
    },
    layer,
  };
}

function setXattrOnce(ino: Inode, name: string, value: Uint8Array): void {
  if (!ino.xattrs.some(([n]) => n === name)) ino.xattrs.push([name, value]);
}

function lookup(root: Dentry, path: PathKey[]): Dentry | undefined {
  let d: Dentry | undefined = root;
  for (const c of path) {
    d = d.inode.children?.get(c);
    if (!d) return undefined;
  }
  return d;
}

/** What a layer does to a path of the layers below it (the image detail, docs/oci.md). */
export type LayerChange = 'added' | 'changed' | 'deleted';
export type OnLayerChange = (kind: LayerChange, path: PathKey[]) => void;

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';
const EMPTY = new Uint8Array(0);
const Y = new Uint8Array([0x79]);

/**
 * Parent directory of `path`, creating missing ones (rule 4). A non-directory in the way:
 * mkfs fails (ENOTDIR) in a single tar; when flattening, an entry of a lower layer is
 * replaced (the layer changed a file into a directory).
 */
function parentOf(
  root: Dentry,
  path: PathKey[],
  layer: number,
  flatten: boolean,
  onChange?: OnLayerChange,
): Dentry {
  let d = root;
  for (let i = 0; i < path.length - 1; i++) {
    const c = path[i]!;
    let next = d.inode.children!.get(c);
    if (next && !next.inode.children) {
      if (!flatten || next.layer >= layer) {
        throw new OciError('EMKFS', `a path component is not a directory (mkfs.erofs fails with ENOTDIR)`, {
          path: displayPath(path),
        });
      }
      next = undefined;
      onChange?.('changed', path.slice(0, i + 1));
    } else if (!next) onChange?.('added', path.slice(0, i + 1));
    if (!next) {
      next = implicitDir(d.inode, layer);
      d.inode.children!.set(c, next);
    }
    d = next;
  }
  return d;
}

/**
 * A directory member over an existing directory (or "./" over the root): the directory keeps
 * its children and takes the member's mode, owner and mtime. mkfs.erofs appends the xattrs
 * (rule 3); flattening takes the upper layer's (overlayfs copy-up semantics).
 */
function takeDirAttrs(ino: Inode, m: LayerMember, appendXattrs: boolean): void {
  ino.mode = m.mode;
  ino.uid = m.uid;
  ino.gid = m.gid;
  ino.mtime = m.mtime;
  ino.mtimeNsec = m.mtimeNsec;
  ino.xattrs = appendXattrs ? [...ino.xattrs, ...m.xattrs] : [...m.xattrs];
}

function hardLinkTarget(root: Dentry, m: LayerMember): Inode {
  const t = lookup(root, m.link!);
  if (!t) {
    throw new OciError(
      'EMKFS',
      `hard link to ${JSON.stringify(displayPath(m.link!))}, which is not in the tar before it (mkfs.erofs fails with ENOENT)`,
      { path: displayPath(m.path) },
    );
  }
  if (t.inode.children) {
    throw new OciError(
      'EMKFS',
      `hard link to the directory ${JSON.stringify(displayPath(m.link!))} (mkfs.erofs fails with EISDIR)`,
      { path: displayPath(m.path) },
    );
  }
  return t.inode;
}

/**
 * Apply one member as mkfs.erofs --tar=f does within a single tar (rules 2-7), with
 * `--aufs` whiteout conversion (rules 13-15) when `aufs` is set; without it `.wh.*` members
 * are ordinary files (rule 16).
 */
export function applyMkfs(root: Dentry, m: LayerMember, aufs: boolean): void {
  if (m.path.length === 0) {
    // "./" sets the root's attributes; xattrs are appended as for any directory over a directory.
    if (m.kind === 'dir') takeDirAttrs(root.inode, m, true);
    return;
  }
  const parent = parentOf(root, m.path, 0, false);
  let name = m.path[m.path.length - 1]!;
  const kids = parent.inode.children!;
  if (aufs && name.startsWith(WH)) {
    if (name === OPAQUE) {
      setXattrOnce(parent.inode, 'trusted.overlay.opaque', Y);
      return;
    }
    name = name.slice(WH.length);
    // Rule 13: chr 0:0, permission bits dropped, owner and mtime of the member; rule 14: the
    // directory gets trusted.overlay.origin (empty) so overlayfs hides whiteouts when mounted alone.
    kids.set(name, {
      inode: {
        type: 'chr',
        mode: 0,
        uid: m.uid,
        gid: m.gid,
        mtime: m.mtime,
        mtimeNsec: m.mtimeNsec,
        size: m.size,
        rdev: [0, 0],
        xattrs: [],
      },
      layer: 0,
    });
    setXattrOnce(parent.inode, 'trusted.overlay.origin', EMPTY);
    return;
  }
  if (m.kind === 'hardlink') {
    kids.set(name, { inode: hardLinkTarget(root, m), layer: 0 });
    return;
  }
  const old = kids.get(name);
  if (old?.inode.children && m.kind === 'dir') {
    takeDirAttrs(old.inode, m, true); // rule 3
    return;
  }
  kids.set(name, { inode: inodeOf(m), layer: 0 });
}

/** Opaque directory: hide every entry lower layers put below it (entries of this layer stay). */
function hideLower(dir: Inode, layer: number, path: PathKey[], onChange?: OnLayerChange): void {
  for (const [k, d] of dir.children!) {
    if (d.layer < layer) {
      dir.children!.delete(k);
      onChange?.('deleted', [...path, k]);
    } else if (d.inode.children) hideLower(d.inode, layer, [...path, k], onChange);
  }
}

/** Whether a directory member changes a directory's attributes (mode, owner, mtime, xattrs). */
function dirAttrsDiffer(ino: Inode, m: LayerMember): boolean {
  if (ino.mode !== m.mode || ino.uid !== m.uid || ino.gid !== m.gid) return true;
  if (ino.mtime !== m.mtime || ino.mtimeNsec !== m.mtimeNsec) return true;
  if (ino.xattrs.length !== m.xattrs.length) return true;
  return ino.xattrs.some(([n, v], i) => {
    const [n2, v2] = m.xattrs[i]!;
    return n !== n2 || v.length !== v2.length || v.some((b, j) => b !== v2[j]);
  });
}

/**
 * Apply one member of layer `layer` to a flattened tree, as the OCI image spec's
 * "Applying Changesets" and "Whiteouts" sections say (image-spec layer.md): a `.wh.NAME`
 * entry deletes NAME of lower layers, `.wh..wh..opq` hides every lower entry of its
 * directory, whiteouts never hide entries of their own layer; other entries are applied
 * in order, a directory over a directory keeps its children and takes the upper metadata,
 * anything else replaces the whole lower path. Hard links may name files of lower layers.
 */
export function applyFlatten(root: Dentry, m: LayerMember, layer: number, onChange?: OnLayerChange): void {
  if (m.path.length === 0) {
    if (m.kind === 'dir') {
      if (dirAttrsDiffer(root.inode, m)) onChange?.('changed', []);
      takeDirAttrs(root.inode, m, false);
    }
    return;
  }
  const name = m.path[m.path.length - 1]!;
  if (name.startsWith(WH)) {
    const dir = lookup(root, m.path.slice(0, -1));
    if (!dir?.inode.children) return; // nothing below to hide
    if (name === OPAQUE) hideLower(dir.inode, layer, m.path.slice(0, -1), onChange);
    else {
      const victim = dir.inode.children.get(name.slice(WH.length));
      if (victim && victim.layer < layer) {
        dir.inode.children.delete(name.slice(WH.length));
        onChange?.('deleted', [...m.path.slice(0, -1), name.slice(WH.length)]);
      }
    }
    return;
  }
  const parent = parentOf(root, m.path, layer, true, onChange);
  const kids = parent.inode.children!;
  const old = kids.get(name);
  if (m.kind === 'hardlink') {
    kids.set(name, { inode: hardLinkTarget(root, m), layer });
    onChange?.(old ? 'changed' : 'added', m.path);
    return;
  }
  if (old?.inode.children && m.kind === 'dir') {
    if (dirAttrsDiffer(old.inode, m)) onChange?.('changed', m.path);
    takeDirAttrs(old.inode, m, false);
    old.layer = layer;
    return;
  }
  kids.set(name, { inode: inodeOf(m), layer });
  onChange?.(old ? 'changed' : 'added', m.path);
}
