// Metadata scan at scale (docs/benchmarks.md#scale-scan-and-scale-verify-a-million-inodes): `sharemap scan IMAGE --ndjson` (CLI under
// --max-old-space-size=256) vs `dump.erofs -S IMAGE` on a 1,010,101-inode image, whole-process
// wall time and peak RSS, runs alternating. Targets: wall <= 1.5x the peer's, RSS <= 300 MB.
// Without --image, builds its own image of the 1M-inode tree with mkfs.erofs on PATH (Debian's
// 1.5: no fingerprints). `--image IMG` (repeatable) takes e.g. a fingerprinted image made with
// erofs-utils 1.9.3 (`mkfs.erofs --xattr-inode-digest -T0`); `--erofs-utils DIR` names the
// directory of that version's dump.erofs. `--runs N` (default 3). Ratio = sharemap / peer.
import { statSync } from 'node:fs';
import { alternate, fail, have, image, load, nodeCli, options, ratio } from './scale-lib.mjs';

const opts = options();
const dump = opts.bin('dump.erofs');
if (!have(dump)) fail(`${dump} not found (apt-get install erofs-utils, or --erofs-utils DIR)`);
const images = opts.images.length ? opts.images : [image('plain-1m', opts.bin('mkfs.erofs'), '-T0')];
const result = { runs: opts.runs, heapMB: 256, loadBefore: load(), images: {} };
for (const img of images) {
  const m = alternate(
    { sharemap: nodeCli(`scan ${img} --ndjson`), dumpErofs: `${dump} -S ${img}` },
    opts.runs,
  );
  result.images[img] = {
    imageBytes: statSync(img).size,
    sharemapWallS: m.sharemap.wallS,
    sharemapRssMB: m.sharemap.rssMB,
    dumpErofsWallS: m.dumpErofs.wallS,
    dumpErofsRssMB: m.dumpErofs.rssMB,
    sharemapCpuS: m.sharemap.cpuS,
    dumpErofsCpuS: m.dumpErofs.cpuS,
    wallRatio: ratio(m.sharemap.wallS, m.dumpErofs.wallS),
    cpuRatio: ratio(m.sharemap.cpuS, m.dumpErofs.cpuS),
    rssRatio: ratio(m.sharemap.rssMB, m.dumpErofs.rssMB),
    targets: { wallRatio: 1.5, sharemapRssMB: 300 },
    samples: { sharemap: m.sharemap.samples, dumpErofs: m.dumpErofs.samples },
  };
}
result.loadAfter = load();
console.log(JSON.stringify(result));
