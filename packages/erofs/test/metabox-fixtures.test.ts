/**
 * METABOX images made by mkfs.erofs 1.9.3 (`-m4096`, testdata/erofs/metabox/README.md) against
 * the ground truth written from the source tree (`NAME.files.json`, never read from an image).
 * Nids exactly as erofs-utils prints them (docs/format.md#nid) (bit 63 set for inodes in the
 * metabox), the kernel's inode number beside them; content equal to the source tree.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openImage } from '../src/image.js';
import {
  inodeNumber,
  manifestToJson,
  manifestToNdjson,
  parseManifest,
  scanManifest,
} from '../src/manifest.js';
import type { FileRecord, Manifest } from '../src/manifest-types.js';
import { nodeSha256 } from '../src/node.js';
import { memorySource } from '../src/source/memory.js';

const DIR = new URL('../../../testdata/erofs/metabox/', import.meta.url);
const BIT63 = 1n << 63n;

interface Truth {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  mode: string;
  uid: number;
  gid: number;
  size: number | null;
  nlink: number;
  target?: string;
  sha256?: string;
  fingerprint?: string | null;
  xattrs?: Record<string, string>;
  hardlink_group?: string[];
}

/** What the README's verification recorded for each image (erofs-utils' own output). */
const IMAGES = [
  {
    name: 'mbox.metabox.fp',
    // `fsck.erofs --xattr-inode-digest`: "digest MISMATCH @ nid 9223372036854776064"
    fsckDigestNid: '9223372036854776064',
    // What `fsck.erofs --extract` 1.9.3 wrote (sha256 prefixes) vs the source tree
    fsckWrong: {
      '/bin/runner': '2fec76caf8be168d',
      '/catalog/record-0000-4c488dcdaf8d652b2c': '46b2b42870be6e84',
      '/catalog/record-0001-081706ccee3f19f0175': '28ea14d341809694',
    } as Record<string, string>,
  },
  {
    name: 'mbox.metabox.fp.lz4hc',
    fsckDigestNid: '9223372036854775995',
    fsckWrong: {
      '/catalog/record-0000-4c488dcdaf8d652b2c': 'bcaa85c74297ddc2',
      '/catalog/record-0001-081706ccee3f19f0175': 'df180feda0025bc7',
    } as Record<string, string>,
  },
];

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe.each(IMAGES)(
  'METABOX fixture $name (mkfs.erofs 1.9.3 -m4096)',
  ({ name, fsckDigestNid, fsckWrong }) => {
    const bytes = new Uint8Array(readFileSync(new URL(`${name}.img`, DIR)));
    const truth = JSON.parse(readFileSync(new URL(`${name}.files.json`, DIR), 'utf8')) as Truth[];
    let manifest: Manifest;
    const rec = (path: string): FileRecord => manifest.files.find((f) => f.path === path)!;

    it('scans to one record per path of the source tree, every field equal to the ground truth', async () => {
      const img = await openImage(memorySource(bytes));
      manifest = await scanManifest(img, {
        imageName: `${name}.img`,
        imageSize: bytes.length,
        hash: true,
        hasher: nodeSha256,
      });
      expect(manifest.files.map((f) => f.path)).toEqual(truth.map((t) => t.path));
      for (const t of truth) {
        const r = rec(t.path);
        expect({ path: r.path, type: r.type, mode: r.mode, uid: r.uid, gid: r.gid, nlink: r.nlink }).toEqual({
          path: t.path,
          type: t.type,
          mode: t.mode,
          uid: t.uid,
          gid: t.gid,
          nlink: t.nlink,
        });
        if (t.size !== null) expect(r.size).toBe(t.size);
        expect(r.mtime).toBe(1700000000); // -T1700000000 (README: "Mtime")
        if (t.type === 'symlink') expect(r.target).toBe(t.target);
        if (t.type === 'file') {
          expect([t.path, r.sha256]).toEqual([t.path, t.sha256]);
          expect([t.path, r.fingerprint]).toEqual([t.path, t.fingerprint ?? null]);
        }
        expect(r.xattrs).toEqual(t.xattrs ?? {});
      }
    });

    it('nids are what erofs-utils prints: bit 63 set, decimal strings; ino is the kernel inode number', () => {
      expect(manifest.superblock.root_nid).toBe('9223372036854775936'); // README: (1<<63) | 128
      expect(manifest.superblock.metabox_nid).toBe(37);
      expect(rec('/').nid).toBe('9223372036854775936');
      // erofs_nid_to_ino64(): bit 63 -> bit 31, bits 31..62 up one place (docs/format.md#nid)
      expect(rec('/').ino).toBe(2 ** 31 + 128);
      const nids = new Set<string>();
      for (const r of manifest.files) {
        expect(typeof r.nid).toBe('string');
        const n = BigInt(r.nid);
        expect(n & BIT63).toBe(BIT63); // every inode of these images sits in the metabox
        const slot = n & (BIT63 - 1n);
        expect(r.ino).toBe(Number(((slot >> 31n) << 32n) | (1n << 31n) | (slot & 0x7fffffffn)));
        nids.add(String(r.nid));
      }
      // README: 218 distinct nids reachable by the listed paths (one hard link)
      expect(nids.size).toBe(218);
      // the nid fsck.erofs names in its digest message is one of ours, as printed
      expect(nids.has(fsckDigestNid)).toBe(true);
      // hard links: one nid, one inode number
      for (const t of truth.filter((x) => x.hardlink_group))
        expect(new Set(t.hardlink_group!.map((p) => rec(p).nid)).size).toBe(1);
      expect(inodeNumber(rec('/bin/runner'))).toBe(inodeNumber(rec('/bin/runner-hardlink')));
    });

    it('the manifest round-trips through NDJSON and JSON with the nids unchanged', () => {
      expect(parseManifest([...manifestToNdjson(manifest)].join(''))).toEqual(manifest);
      expect(parseManifest(manifestToJson(manifest))).toEqual(manifest);
    });

    it('a version-1 manifest (nids were the inode numbers) is still read, and upgraded to the printed nids', () => {
      const v1 = {
        ...manifest,
        version: 1,
        superblock: { ...manifest.superblock, root_nid: rec('/').ino },
        files: manifest.files.map(({ ino, ...r }) => ({ ...r, nid: ino })),
      };
      expect(parseManifest(JSON.stringify(v1))).toEqual(manifest);
      // a version-2 manifest must carry the matching ino on METABOX images
      const bad = manifest.files.map((r, i) => (i === 3 ? { ...r, ino: (r.ino ?? 0) + 1 } : r));
      expect(() => parseManifest(JSON.stringify({ ...manifest, files: bad }))).toThrow(/files\[3\]\.ino/);
    });

    it('fsck.erofs 1.9.3 extracts wrong bytes for inline files in a metabox; our reader matches the source tree', async () => {
      // fsck.erofs 1.9.3 (erofs_verify_inode_data -> erofs_read_one_data) reads an inline tail at
      // its metabox-relative offset (nid & ~bit63) * 32 + inode size + xattr size, but from the
      // primary device (README "Surprise"). Rebuild those bytes and check that they are what it
      // wrote, while the reader's bytes are the source tree's.
      const img = await openImage(memorySource(bytes));
      const bs = img.blockSize;
      for (const [path, wrongPrefix] of Object.entries(fsckWrong)) {
        const r = rec(path);
        expect(r.layout).toBe('flat_inline');
        const truthSha = truth.find((t) => t.path === path)!.sha256!;
        const content = await img.readFile(path);
        expect(sha256(content)).toBe(truthSha);
        const tailLen = r.size % bs;
        const full = r.size - tailLen;
        const at = Number(BigInt(r.nid) & (BIT63 - 1n)) * 32 + r.inode_size + r.xattr_isize;
        const fsckBytes = new Uint8Array(r.size);
        fsckBytes.set(content.subarray(0, full));
        fsckBytes.set(bytes.subarray(at, at + tailLen), full);
        expect(sha256(fsckBytes).slice(0, 16)).toBe(wrongPrefix);
        expect(wrongPrefix).not.toBe(truthSha.slice(0, 16));
      }
    });
  },
);
