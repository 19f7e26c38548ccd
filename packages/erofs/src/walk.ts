/**
 * Whole-tree walk with the robustness rules of spec §5.4 / §10.4: a directory nid seen
 * twice is a cycle (ECORRUPT), "." must point to the directory and ".." to its parent,
 * dirent file types must agree with the inodes, and depth / entry / time budgets are
 * enforced. Iterative (explicit stack): never recursion-deep, never unbounded.
 */
import { decodeName } from './disk/bytes.js';
import { FT_NAMES } from './disk/dirent.js';
import type { Inode } from './disk/inode.js';
import { ErofsError } from './errors.js';
import { isDotOrDotDot, type ErofsImage } from './image.js';
import type { ErofsLimits } from './limits.js';

export interface WalkEntry {
  /** Absolute path ("/" for the root). */
  path: string;
  /** Path as raw bytes (names need not be UTF-8; sort key of the manifest). */
  pathBytes: Uint8Array;
  inode: Inode;
  depth: number;
  /** nid of the containing directory (root: its own nid). */
  parentNid: number;
}

export interface WalkOptions {
  /** Override image limits for this walk. */
  limits?: Partial<Pick<ErofsLimits, 'maxPathDepth' | 'maxInodesWalked' | 'maxWalkMillis'>>;
  /** Check that dirent file types match the inodes (default true). */
  checkTypes?: boolean;
}

const SLASH = 0x2f;

function joinPath(parent: Uint8Array, name: Uint8Array): Uint8Array {
  const root = parent.length === 1 && parent[0] === SLASH;
  const out = new Uint8Array(parent.length + (root ? 0 : 1) + name.length);
  out.set(parent, 0);
  let p = parent.length;
  if (!root) out[p++] = SLASH;
  out.set(name, p);
  return out;
}

/** Walk every path reachable from the root, parents before children, names in byte order. */
export async function* walk(image: ErofsImage, opts: WalkOptions = {}): AsyncGenerator<WalkEntry> {
  const maxDepth = opts.limits?.maxPathDepth ?? image.limits.maxPathDepth;
  const maxInodes = opts.limits?.maxInodesWalked ?? image.limits.maxInodesWalked;
  const maxMillis = opts.limits?.maxWalkMillis ?? image.limits.maxWalkMillis;
  const checkTypes = opts.checkTypes ?? true;
  const started = Date.now();
  const visitedDirs = new Set<number>();
  let count = 0;
  const stack: WalkEntry[] = [
    { path: '/', pathBytes: new Uint8Array([SLASH]), inode: image.root, depth: 0, parentNid: image.root.nid },
  ];
  while (stack.length) {
    const e = stack.pop()!;
    if (++count > maxInodes)
      throw new ErofsError('ELIMIT', `more than ${maxInodes} entries walked`, { path: e.path });
    if (maxMillis > 0 && Date.now() - started > maxMillis)
      throw new ErofsError('ELIMIT', `walk exceeded ${maxMillis} ms`, { path: e.path });
    yield e;
    const dir = e.inode;
    if (dir.type !== 'dir') continue;
    if (visitedDirs.has(dir.nid))
      throw new ErofsError('ECORRUPT', `directory cycle: directory nid ${dir.nid} reached twice`, {
        nid: dir.nid,
        path: e.path,
      });
    visitedDirs.add(dir.nid);
    let ents;
    try {
      ents = await image.dirents(dir);
    } catch (err) {
      throw err instanceof ErofsError ? err.withPath(e.path) : err;
    }
    let sawDot = false;
    let sawDotDot = false;
    const children: WalkEntry[] = [];
    for (const d of ents) {
      if (isDotOrDotDot(d.name)) {
        const isDot = d.name.length === 1;
        const want = isDot ? dir.nid : e.parentNid;
        if (d.nid !== want) {
          throw new ErofsError(
            'ECORRUPT',
            `"${isDot ? '.' : '..'}" points to nid ${d.nid}, expected ${want}`,
            { nid: dir.nid, path: e.path },
          );
        }
        if (isDot) sawDot = true;
        else sawDotDot = true;
        continue;
      }
      if (e.depth + 1 > maxDepth)
        throw new ErofsError('ELIMIT', `tree deeper than ${maxDepth}`, { path: e.path });
      const pathBytes = joinPath(e.pathBytes, d.name);
      const path = decodeName(pathBytes);
      let ino: Inode;
      try {
        ino = await image.inode(d.nid);
      } catch (err) {
        throw err instanceof ErofsError ? err.withPath(path) : err;
      }
      if (checkTypes && d.fileType !== 0 && FT_NAMES[d.fileType] !== ino.type) {
        throw new ErofsError(
          'ECORRUPT',
          `dirent type ${FT_NAMES[d.fileType]} disagrees with inode type ${ino.type}`,
          { nid: d.nid, path },
        );
      }
      children.push({ path, pathBytes, inode: ino, depth: e.depth + 1, parentNid: dir.nid });
    }
    if (!sawDotDot || (!sawDot && !dir.dotOmitted)) {
      throw new ErofsError('ECORRUPT', `directory lacks ${sawDotDot ? '"."' : '".."'} entry`, {
        nid: dir.nid,
        path: e.path,
      });
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
}
