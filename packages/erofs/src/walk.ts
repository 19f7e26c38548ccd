/**
 * Whole-tree walk with the robustness rules of docs/format.md#validate-dirs: a directory nid seen
 * twice is a cycle (ECORRUPT), "." must point to the directory and ".." to its parent,
 * dirent file types must agree with the inodes, and depth / entry / time budgets are
 * enforced. Iterative (explicit stack): never recursion-deep, never unbounded.
 *
 * The unit of work is one directory (TreeWalker.children): its entries are read and its
 * children's inodes decoded in one go, synchronously when the image reads synchronously
 * (image.inodeNow). walk() yields entries one by one; scanManifest takes whole directories.
 */
import { decodeName } from './disk/bytes.js';
import { FT_NAMES } from './disk/dirent.js';
import { reusableInode, type Inode } from './disk/inode.js';
import { ErofsError } from './errors.js';
import type { ErofsImage } from './image.js';
import type { ErofsLimits } from './limits.js';

export interface WalkEntry {
  /** Absolute path ("/" for the root). */
  readonly path: string;
  /**
   * Path as raw bytes (names need not be UTF-8; sort key of the manifest): a view of
   * pathBuf, made when read. The walk itself reads the bytes in place, from pathBuf.
   */
  readonly pathBytes: Uint8Array;
  /** The path's bytes are pathBuf[pathStart, pathStart + pathLength) (the walk's slab, shared). */
  readonly pathBuf: Uint8Array;
  readonly pathStart: number;
  readonly pathLength: number;
  inode: Inode;
  readonly depth: number;
  /** nid of the containing directory (root: its own nid). */
  readonly parentNid: number;
}

export interface WalkOptions {
  /** Override image limits for this walk. */
  limits?: Partial<Pick<ErofsLimits, 'maxPathDepth' | 'maxInodesWalked' | 'maxWalkMillis'>>;
  /** Check that dirent file types match the inodes (default true). */
  checkTypes?: boolean;
  /**
   * TreeWalker only: children() reuses its entry objects and their inodes, one set per depth
   * of the tree, so that a walk of a million paths makes an object per path for neither. An
   * entry (and its `inode`) is then valid only until children() reads the next directory at
   * its parent's depth: for a depth-first walk that is done with a directory's children before
   * it reads a sibling directory's (the sorted scan without digest threads). Default false.
   */
  reuseEntries?: boolean;
}

const SLASH = 0x2f;
const PATH_SLAB_BYTES = 256 * 1024;

/** One walk's state: budgets, visited directories, and the bytes of the paths it made. */
export class TreeWalker {
  readonly root: WalkEntry;
  private readonly maxDepth: number;
  private readonly maxInodes: number;
  private readonly maxMillis: number;
  private readonly checkTypes: boolean;
  /** With reuseEntries: the entries children() hands out, by their depth, reused by index. */
  private readonly pools: ChildEntry[][] | undefined;
  private readonly started = Date.now();
  private readonly visitedDirs = new Set<number>();
  private count = 0;
  // Path bytes are carved out of slabs: one ArrayBuffer per path cost more than the walk.
  private slab = new Uint8Array(0);
  private slabUsed = 0;
  private freeLists: DirentLists | undefined = new DirentLists();

  constructor(
    private readonly image: ErofsImage,
    opts: WalkOptions = {},
  ) {
    this.maxDepth = opts.limits?.maxPathDepth ?? image.limits.maxPathDepth;
    this.maxInodes = opts.limits?.maxInodesWalked ?? image.limits.maxInodesWalked;
    this.maxMillis = opts.limits?.maxWalkMillis ?? image.limits.maxWalkMillis;
    this.checkTypes = opts.checkTypes ?? true;
    this.pools = opts.reuseEntries ? [] : undefined;
    const rootPath = Uint8Array.of(SLASH);
    this.root = {
      path: '/',
      pathBytes: rootPath,
      pathBuf: rootPath,
      pathStart: 0,
      pathLength: 1,
      inode: image.root,
      depth: 0,
      parentNid: image.root.nid,
    };
  }

  /** Count an entry against the budgets (every entry, the root included, once). */
  visit(e: WalkEntry): void {
    if (++this.count > this.maxInodes)
      throw new ErofsError('ELIMIT', `more than ${this.maxInodes} entries walked`, { path: e.path });
    if (this.maxMillis > 0 && Date.now() - this.started > this.maxMillis)
      throw new ErofsError('ELIMIT', `walk exceeded ${this.maxMillis} ms`, { path: e.path });
  }

  /**
   * The entries of directory `e` in name byte order, "." and ".." checked and left out: in
   * `out` when given (its earlier entries replaced, its length set), so that a walk can keep
   * one list for every directory.
   */
  async children(e: WalkEntry, out: WalkEntry[] = []): Promise<WalkEntry[]> {
    const image = this.image;
    const dir = e.inode;
    if (this.visitedDirs.has(dir.nid))
      throw new ErofsError('ECORRUPT', `directory cycle: directory nid ${dir.nid} reached twice`, {
        nid: dir.nid,
        path: e.path,
      });
    this.visitedDirs.add(dir.nid);
    // The entries as bounds in the directory's bytes (no object per entry), taken once the
    // whole directory passed dirents()'s checks. The walker's own lists when free (a walk
    // asks for one directory at a time): five new arrays per directory, grown entry by entry,
    // were 115 MB of a 1M-path scan's allocation.
    const lists = this.freeLists ?? new DirentLists();
    this.freeLists = undefined;
    lists.n = 0;
    const { nids, types, bytes, starts, ends } = lists;
    try {
      await image.forEachDirent(dir, lists.add);
    } catch (err) {
      throw err instanceof ErofsError ? err.withPath(e.path) : err;
    }
    let sawDot = false;
    let sawDotDot = false;
    const children = out;
    let k = 0;
    const childPath = (i: number): string =>
      (e.depth === 0 ? '/' : e.path + '/') + decodeName(bytes[i]!.subarray(starts[i]!, ends[i]!));
    const depth = e.depth + 1;
    const pool = this.pools ? (this.pools[depth] ??= []) : undefined;
    for (let i = 0, n = lists.n; i < n; i++) {
      const b = bytes[i]!;
      const start = starts[i]!;
      const len = ends[i]! - start;
      if (b[start] === DOT && (len === 1 || (len === 2 && b[start + 1] === DOT))) {
        const isDot = len === 1;
        const want = isDot ? dir.nid : e.parentNid;
        if (nids[i] !== want) {
          throw new ErofsError(
            'ECORRUPT',
            `"${isDot ? '.' : '..'}" points to nid ${nids[i]}, expected ${want}`,
            { nid: dir.nid, path: e.path },
          );
        }
        if (isDot) sawDot = true;
        else sawDotDot = true;
        continue;
      }
      if (e.depth + 1 > this.maxDepth)
        throw new ErofsError('ELIMIT', `tree deeper than ${this.maxDepth}`, { path: e.path });
      const nid = nids[i]!;
      // With reuseEntries, the k-th entry of the last directory read at this depth, inode included.
      const reused = pool
        ? (pool[k] ??= new ChildEntry(e, this.slab, 0, 0, reusableInode(), depth))
        : undefined;
      let ino: Inode;
      try {
        ino = image.inodeNow(nid, reused?.own) ?? (await image.inode(nid));
      } catch (err) {
        throw err instanceof ErofsError ? err.withPath(childPath(i)) : err;
      }
      const fileType = types[i]!;
      if (this.checkTypes && fileType !== 0 && FT_NAMES[fileType] !== ino.type) {
        throw new ErofsError(
          'ECORRUPT',
          `dirent type ${FT_NAMES[fileType]} disagrees with inode type ${ino.type}`,
          { nid, path: childPath(i) },
        );
      }
      const pathStart = this.joinPath(e, b, start, ends[i]!);
      const length = this.slabUsed - pathStart;
      if (reused) reused.reset(e, this.slab, pathStart, length, ino);
      children[k++] = reused ?? new ChildEntry(e, this.slab, pathStart, length, ino, depth);
    }
    if (!sawDotDot || (!sawDot && !dir.dotOmitted)) {
      throw new ErofsError('ECORRUPT', `directory lacks ${sawDotDot ? '"."' : '".."'} entry`, {
        nid: dir.nid,
        path: e.path,
      });
    }
    children.length = k;
    // Not after a throw: that walk is over, and the lists go with it.
    lists.release();
    this.freeLists = lists;
    return children;
  }

  /**
   * Write the path of `parent`'s child named name[start, end) into the slab; returns where it
   * starts (it ends at slabUsed). The child keeps the slab and two numbers, not a view: a
   * subarray per path was the largest item (200 MB) of a 1M-path scan's allocation.
   */
  private joinPath(parent: WalkEntry, name: Uint8Array, start: number, end: number): number {
    const parentLength = parent.pathLength;
    const root = parent.depth === 0;
    const length = (root ? 0 : parentLength) + 1 + (end - start);
    if (this.slabUsed + length > this.slab.length) {
      this.slab = new Uint8Array(Math.max(PATH_SLAB_BYTES, length));
      this.slabUsed = 0;
    }
    const out = this.slab;
    const at = this.slabUsed;
    let p = at;
    if (!root) {
      const from = parent.pathBuf;
      for (let i = parent.pathStart, e = i + parentLength; i < e; i++) out[p++] = from[i]!;
    }
    out[p++] = SLASH;
    for (let i = start; i < end; i++) out[p++] = name[i]!;
    this.slabUsed = p;
    return at;
  }
}

const DOT = 0x2e;

/**
 * One directory's entries as forEachDirent gives them (the first `n` of each list), kept from
 * one directory to the next: written by index, never truncated, so the lists keep their storage.
 */
class DirentLists {
  readonly nids: number[] = [];
  readonly types: number[] = [];
  readonly bytes: (Uint8Array | undefined)[] = [];
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  n = 0;
  readonly add = (nid: number, fileType: number, b: Uint8Array, start: number, end: number): void => {
    const i = this.n++;
    this.nids[i] = nid;
    this.types[i] = fileType;
    this.bytes[i] = b;
    this.starts[i] = start;
    this.ends[i] = end;
  };
  /** Done with the directory: no directory bytes kept alive by the lists. */
  release(): void {
    this.bytes.fill(undefined, 0, this.n);
    this.n = 0;
  }
}

/**
 * An entry below the root. Its path string is made when first read, from the parent's and
 * its own name's bytes: a scan writes ASCII paths from their bytes (manifest-encode.ts) and
 * never reads most of them, and a string per path was a large part of its garbage.
 */
class ChildEntry implements WalkEntry {
  private text: string | undefined;
  /** With reuseEntries: the inode object this entry decodes into (`inode`, unless the inode came from the inode cache). */
  readonly own: Inode;
  constructor(
    private parent: WalkEntry,
    public pathBuf: Uint8Array,
    public pathStart: number,
    public pathLength: number,
    public inode: Inode,
    readonly depth: number,
  ) {
    this.own = inode;
  }
  /** Another path at the same depth (reuseEntries). */
  reset(parent: WalkEntry, pathBuf: Uint8Array, pathStart: number, pathLength: number, inode: Inode): void {
    this.parent = parent;
    this.pathBuf = pathBuf;
    this.pathStart = pathStart;
    this.pathLength = pathLength;
    this.inode = inode;
    this.text = undefined;
  }
  // The parent's, not an own field: a million entries, 8 bytes a field.
  get parentNid(): number {
    return this.parent.inode.nid;
  }
  get pathBytes(): Uint8Array {
    return this.pathBuf.subarray(this.pathStart, this.pathStart + this.pathLength);
  }
  get path(): string {
    if (this.text === undefined) {
      const p = this.parent;
      // "/" is never part of a UTF-8 sequence, so decoding name by name equals decoding the path.
      const nameStart = this.pathStart + (p.depth === 0 ? 1 : p.pathLength + 1);
      const name = this.pathBuf.subarray(nameStart, this.pathStart + this.pathLength);
      this.text = (p.depth === 0 ? '/' : p.path + '/') + decodeName(name);
    }
    return this.text;
  }
}

/** Walk every path reachable from the root, parents before children, names in byte order. */
export async function* walk(image: ErofsImage, opts: WalkOptions = {}): AsyncGenerator<WalkEntry> {
  const walker = new TreeWalker(image, opts);
  const stack: WalkEntry[] = [walker.root];
  while (stack.length) {
    const e = stack.pop()!;
    walker.visit(e);
    yield e;
    if (e.inode.type !== 'dir') continue;
    const children = await walker.children(e);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
}
