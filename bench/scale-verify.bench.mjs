// Verification at scale (docs/benchmarks.md#scale-scan-and-scale-verify-a-million-inodes): `sharemap scan IMAGE --hash --ndjson` (CLI under
// --max-old-space-size=256) vs `sha256sum IMAGE` and, when the peer can (erofs-utils >= 1.9),
// `fsck.erofs --xattr-inode-digest IMAGE`; whole-process wall time and peak RSS, runs
// alternating. Targets: speed >= 1.5x sha256sum's on plain images, >= 1.0x on lz4hc images,
// as fast as fsck.erofs, RSS <= 300 MB. Without --image, builds plain and lz4hc images of the
// 1M-inode tree with mkfs.erofs on PATH; `--image IMG` (repeatable), `--erofs-utils DIR`,
// `--runs N` as in scale-scan. Ratio = sharemap wall / peer wall (below 1: sharemap faster).
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { alternate, fail, have, image, load, nodeCli, options, ratio } from './scale-lib.mjs';

const opts = options();
if (!have('sha256sum')) fail('sha256sum not found');
const fsck = opts.bin('fsck.erofs');
const fsckDigest =
  have(fsck) && /xattr-inode-digest/.test(spawnSync(fsck, ['--help'], { encoding: 'utf8' }).stdout ?? '');
const mkfs = opts.bin('mkfs.erofs');
const images = opts.images.length
  ? opts.images
  : [image('plain-1m', mkfs, '-T0'), image('lz4hc-1m', mkfs, '-T0 -zlz4hc')];
const result = { runs: opts.runs, heapMB: 256, fsckDigest, loadBefore: load(), images: {} };
for (const img of images) {
  const cmds = { sharemap: nodeCli(`scan ${img} --hash --ndjson`), sha256sum: `sha256sum ${img}` };
  // fsck.erofs refuses an image without digest xattrs (Debian mkfs.erofs 1.5 makes none): one
  // probe run, which also serves as its warm-up, decides whether it is a peer for this image.
  const fsckCmd = `${fsck} --xattr-inode-digest ${img}`;
  if (fsckDigest && spawnSync('sh', ['-c', `${fsckCmd} >/dev/null 2>&1`]).status === 0)
    cmds.fsckErofs = fsckCmd;
  const m = alternate(cmds, opts.runs);
  const r = {
    imageBytes: statSync(img).size,
    sharemapWallS: m.sharemap.wallS,
    sharemapRssMB: m.sharemap.rssMB,
    sha256sumWallS: m.sha256sum.wallS,
    vsSha256sum: ratio(m.sharemap.wallS, m.sha256sum.wallS),
    targets: { vsSha256sumPlain: 1 / 1.5, vsSha256sumLz4hc: 1.0, vsFsckErofs: 1.0, sharemapRssMB: 300 },
    samples: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.samples])),
  };
  if (m.fsckErofs) {
    r.fsckErofsWallS = m.fsckErofs.wallS;
    r.fsckErofsRssMB = m.fsckErofs.rssMB;
    r.vsFsckErofs = ratio(m.sharemap.wallS, m.fsckErofs.wallS);
  }
  result.images[img] = r;
  console.error(JSON.stringify({ [img]: r })); // each image's figures as soon as they exist
}
result.loadAfter = load();
console.log(JSON.stringify(result));
