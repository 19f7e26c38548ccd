/**
 * The scan's record order (docs/manifest.md: path byte order) on trees whose sibling names
 * continue one another with bytes below and above "/": a directory "a" with siblings "a b",
 * "a-x", "a.txt" (before "a/...") and "a0" (after it), nested. The walk places each subtree
 * without sorting (stepsOf); whatever the tree, the paths come out sorted by their bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openImage } from '../src/image.js';
import { scanManifest } from '../src/manifest.js';
import { memorySource } from '../src/source/memory.js';
import { compactInode, dirBlock, ImageBytes, S_IFDIR, S_IFREG, writeSuperblock } from './synthetic-image.js';

const PROPERTY_SEED = Number(process.env.SHAREMAP_PROPERTY_SEED ?? 20261206);
const BS = 4096;
const FT_FILE = 1;
const FT_DIR = 2;

/** A directory's children: name -> a subdirectory's children, or null for a file. */
interface Tree {
  [name: string]: Tree | null;
}

/** An image of `tree` under the root, every inode in its own block (FLAT_INLINE dirs). */
function buildTree(tree: Tree): Uint8Array {
  // Inodes numbered depth first; a directory knows its children's numbers.
  const inodes: { parent: number; kids: [string, number][] | null }[] = [];
  const add = (dir: Tree | null, parent: number): number => {
    const k = inodes.length;
    const node = { parent: parent < 0 ? k : parent, kids: dir ? ([] as [string, number][]) : null };
    inodes.push(node);
    if (dir) for (const [name, child] of Object.entries(dir)) node.kids!.push([name, add(child, k)]);
    return k;
  };
  add(tree, -1);
  const nid = (k: number) => BigInt(((1 + k) * BS) / 32);
  const img = new ImageBytes(BS, 1 + inodes.length);
  inodes.forEach(({ parent, kids }, k) => {
    const at = (1 + k) * BS;
    if (!kids) {
      img.set(at, compactInode({ layout: 0, mode: S_IFREG | 0o644, size: 0, u: 0 }));
      return;
    }
    const isDir = (c: number) => inodes[c]!.kids !== null;
    const block = dirBlock([
      ['.', nid(k), FT_DIR],
      ['..', nid(parent), FT_DIR],
      ...kids.map(([name, c]): [string, bigint, number] => [name, nid(c), isDir(c) ? FT_DIR : FT_FILE]),
    ]);
    const nlink = 2 + kids.filter(([, c]) => isDir(c)).length;
    img.set(at, compactInode({ layout: 2, mode: S_IFDIR | 0o755, size: block.length, u: -1, nlink }));
    img.set(at + 32, block);
  });
  writeSuperblock(img, { rootNid16: Number(nid(0)), inos: inodes.length });
  return img.bytes;
}

const name = fc
  .array(fc.constantFrom('a', 'b', ' ', '!', '-', '.', '0', '~'), { minLength: 1, maxLength: 3 })
  .map((cs) => cs.join(''))
  .filter((n) => n !== '.' && n !== '..');
const tree: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree; node: Tree | null }>((tie) => ({
  tree: fc.dictionary(name, tie('node'), { maxKeys: 6 }),
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.constant(null), tie('tree')),
})).tree;

async function scanPaths(bytes: Uint8Array): Promise<string[]> {
  const image = await openImage(memorySource(bytes));
  const m = await scanManifest(image, { imageName: 'x.img', imageSize: bytes.length });
  return m.files.map((f) => f.path);
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('scan order', () => {
  it('a directory between siblings that continue its name', async () => {
    const paths = await scanPaths(
      buildTree({
        a: { x: null, 'x-y': { z: null } },
        'a b': null,
        'a-x': { q: null },
        'a.txt': null,
        a0: null,
        b: null,
      }),
    );
    expect(paths).toEqual([
      '/',
      '/a',
      '/a b',
      '/a-x',
      '/a-x/q',
      '/a.txt',
      '/a/x',
      '/a/x-y',
      '/a/x-y/z',
      '/a0',
      '/b',
    ]);
  });

  it('any tree: the paths in byte order, each once', async () => {
    await fc.assert(
      fc.asyncProperty(tree, async (t) => {
        const paths = await scanPaths(buildTree(t));
        expect(paths).toEqual([...paths].sort(byBytes));
        expect(new Set(paths).size).toBe(paths.length);
      }),
      { seed: PROPERTY_SEED, numRuns: 400 },
    );
  });
});
