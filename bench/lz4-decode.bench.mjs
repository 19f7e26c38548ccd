// The LZ4 block decoder alone (docs/benchmarks.md#lz4-decode-the-lz4-block-decoder): a corpus of
// LZ4 pclusters decoded in a loop, into a new buffer per pcluster (the pcluster cache's path)
// and into one reused scratch buffer (the `scan --hash` path), as MB/s of output per CPU
// second. `--image IMG` captures the pclusters of an LZ4 image (e.g. mkfs.erofs -zlz4hc of
// /usr/share) as `scan --hash` decodes them, up to CORPUS_BYTES of output; without it the
// corpus is the lz4 tool's blocks in packages/erofs/test/decompress-fixtures. `--runs N`
// (default 3) passes over the corpus per variant. Every decode is compared with the first.
// Both decoders run: the JavaScript one (js*) and the WebAssembly one (wasm*, wasm/lz4.wat);
// `wasmOverJs` is the WebAssembly decoder's speed over the JavaScript one's, per variant.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadavg } from 'node:os';

const erofs = path.resolve('packages/erofs/dist');
const { DECOMPRESSORS, lz4Decompress, lz4DecompressWasm, lz4WasmAvailable } = await import(
  `${erofs}/decompress/index.js`
);
const { scanImageFileTo } = await import(`${erofs}/node.js`);

/** Decoded bytes captured from an image: enough for a stable figure, bounded memory. */
const CORPUS_BYTES = 200e6;

const argv = process.argv.slice(2);
const arg = (name) => {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
};
const runs = Number(arg('--runs') ?? 3);
const imagePath = arg('--image');

async function imageCorpus(img) {
  const corpus = [];
  let total = 0;
  const lz4 = DECOMPRESSORS[0];
  DECOMPRESSORS[0] = (s, n, o) => {
    if (total < CORPUS_BYTES) {
      corpus.push({
        src: s.slice(),
        outLen: n,
        partial: o.partial,
        maxDistance: o.lz4MaxDistance || undefined,
      });
      total += n;
    }
    return lz4(s, n, o);
  };
  await scanImageFileTo(img, { hash: true }, { header() {}, record() {} });
  DECOMPRESSORS[0] = lz4;
  return corpus;
}

function fixtureCorpus() {
  const dir = path.resolve('packages/erofs/test/decompress-fixtures');
  const block = (name, outLen) => {
    const f = new Uint8Array(readFileSync(path.join(dir, name)));
    const size = new DataView(f.buffer, f.byteOffset).getUint32(15, true);
    return { src: f.subarray(19, 19 + size), outLen, partial: false, maxDistance: undefined };
  };
  const runsLen = readFileSync(path.join(dir, 'runs.bin')).length;
  const sampleLen = readFileSync(path.join(dir, 'sample.bin')).length;
  const one = [
    block('runs.lz4frame', runsLen),
    block('runs-hc.lz4frame', runsLen),
    block('sample.lz4frame', sampleLen),
  ];
  return Array.from({ length: 1000 }, () => one).flat();
}

const corpus = imagePath ? await imageCorpus(imagePath) : fixtureCorpus();
const outBytes = corpus.reduce((n, c) => n + c.outLen, 0);
const scratch = new Uint8Array(Math.max(...corpus.map((c) => c.outLen)));
const expected = corpus.map((c) => Buffer.from(lz4Decompress(c.src, c.outLen, c.partial, c.maxDistance)));

if (!lz4WasmAvailable()) throw new Error('the WebAssembly LZ4 decoder cannot be instantiated here');
const variants = {
  jsNewBuffer: (c) => lz4Decompress(c.src, c.outLen, c.partial, c.maxDistance),
  jsReusedScratch: (c) => lz4Decompress(c.src, c.outLen, c.partial, c.maxDistance, scratch),
  wasmNewBuffer: (c) => lz4DecompressWasm(c.src, c.outLen, c.partial, c.maxDistance),
  wasmReusedScratch: (c) => lz4DecompressWasm(c.src, c.outLen, c.partial, c.maxDistance, scratch),
};
const result = {
  corpus: imagePath ?? 'decompress-fixtures',
  pclusters: corpus.length,
  outputMB: +(outBytes / 1e6).toFixed(1),
  runs,
  loadBefore: loadavg().map((x) => +x.toFixed(2)),
  mbPerCpuS: {},
};
for (const [name, decode] of Object.entries(variants)) {
  corpus.forEach((c, i) => {
    if (!expected[i].equals(decode(c))) throw new Error(`${name}: pcluster ${i} decodes differently`);
  });
  const samples = [];
  for (let r = 0; r < runs; r++) {
    const t = process.cpuUsage();
    for (const c of corpus) decode(c);
    const u = process.cpuUsage(t);
    samples.push(+(outBytes / (u.user + u.system)).toFixed(0)); // bytes per µs = MB/s
  }
  result.mbPerCpuS[name] = { best: Math.max(...samples), samples };
}
const m = result.mbPerCpuS;
result.wasmOverJs = {
  newBuffer: +(m.wasmNewBuffer.best / m.jsNewBuffer.best).toFixed(2),
  reusedScratch: +(m.wasmReusedScratch.best / m.jsReusedScratch.best).toFixed(2),
};
result.loadAfter = loadavg().map((x) => +x.toFixed(2));
console.log(JSON.stringify(result));
