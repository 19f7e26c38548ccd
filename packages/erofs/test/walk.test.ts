/**
 * TreeWalker's reuseEntries (the sorted scan without digest threads): children() hands out the
 * same entry and inode objects again, one set per depth, instead of new ones per path. A walk
 * that is done with a directory's children before it reads a sibling directory's must see
 * exactly what it sees with new objects: every path, depth, parent and inode field (getters
 * included) on every image of testdata, and the same error on the broken ones.
 */
import { describe, expect, it } from 'vitest';
import type { Inode } from '../src/disk/inode.js';
import type { ErofsImage } from '../src/image.js';
import { openImageFile } from '../src/node.js';
import { TreeWalker, type WalkEntry } from '../src/walk.js';
import { repositoryImages } from './repository-images.js';

const INODE_FIELDS: readonly (keyof Inode)[] = [
  'nid',
  'offset',
  'inMetabox',
  'format',
  'extended',
  'inodeSize',
  'layout',
  'layoutName',
  'dotOmitted',
  'xattrIcount',
  'xattrIsize',
  'mode',
  'type',
  'nlink',
  'size',
  'mtime',
  'mtimeNsec',
  'uid',
  'gid',
  'rawU',
  'hi',
  'startBlk',
  'hole',
  'chunkFormat',
  'rdev',
  'dataOffset',
];

/** What a walk sees of an entry when it reaches it, copied (the objects may be reused later). */
function seen(e: WalkEntry): unknown {
  const inode: Record<string, unknown> = {};
  for (const k of INODE_FIELDS) inode[k] = structuredClone(e.inode[k]);
  return { path: e.path, bytes: [...e.pathBytes], depth: e.depth, parentNid: e.parentNid, inode };
}

interface Walked {
  seen: unknown[];
  error: string | undefined;
  entries: Set<WalkEntry>;
  inodes: Set<Inode>;
}

/** Depth first in name order, each directory's children read when it is reached (the scan's order of reads). */
async function walkDepthFirst(image: ErofsImage, reuseEntries: boolean): Promise<Walked> {
  const walker = new TreeWalker(image, { reuseEntries });
  const out: Walked = { seen: [], error: undefined, entries: new Set(), inodes: new Set() };
  const visit = async (e: WalkEntry): Promise<void> => {
    walker.visit(e);
    out.seen.push(seen(e));
    out.entries.add(e);
    out.inodes.add(e.inode);
    if (e.inode.type !== 'dir') return;
    for (const child of await walker.children(e)) await visit(child);
  };
  try {
    await visit(walker.root);
  } catch (err) {
    out.error = String(err);
  }
  return out;
}

describe('TreeWalker reuseEntries', () => {
  const images = repositoryImages([
    ...['erofs', 'erofs/synthetic', 'erofs/metabox', 'oci', 'hostile'],
    'erofs/broken',
  ]);

  it.each(images.map((i) => [i.name, i] as const))(
    '%s: the same walk as with new objects',
    async (_, img) => {
      let opened;
      try {
        opened = await openImageFile(img.path, { devices: img.devices });
      } catch {
        return; // refused at open: no walk to compare
      }
      try {
        const fresh = await walkDepthFirst(opened.image, false);
        const reused = await walkDepthFirst(opened.image, true);
        expect(reused.error).toBe(fresh.error);
        expect(reused.seen).toEqual(fresh.seen);
        expect(fresh.entries.size).toBe(fresh.seen.length);
      } finally {
        await opened.close();
      }
    },
  );

  it('reuses entry and inode objects across directories of one depth', async () => {
    // The image with the most paths of those that walk without error.
    let best: { walked: Walked; fresh: Walked } | undefined;
    for (const img of repositoryImages()) {
      const opened = await openImageFile(img.path, { devices: img.devices }).catch(() => undefined);
      if (!opened) continue;
      try {
        const walked = await walkDepthFirst(opened.image, true);
        if (walked.error !== undefined) continue;
        if (!best || walked.seen.length > best.walked.seen.length)
          best = { walked, fresh: await walkDepthFirst(opened.image, false) };
      } finally {
        await opened.close();
      }
    }
    expect(best).toBeDefined();
    const { walked, fresh } = best!;
    expect(walked.seen).toEqual(fresh.seen);
    expect(walked.entries.size).toBeLessThan(walked.seen.length);
    expect(walked.inodes.size).toBeLessThan(fresh.inodes.size);
  });
});
