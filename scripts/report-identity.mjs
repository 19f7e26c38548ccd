#!/usr/bin/env node
// Checking a refactor changes nothing (docs/development.md): computes every report sharemap
// produces, in every output form, for the test fixtures and for seeded random fleets, and
// prints one JSON line {fixtures, fleets, count}: sha256 digests of all those outputs and the
// number of outputs hashed. Run it on the tree before and after a change (or on main and on a
// branch): equal digests mean no figure, word or byte of any report changed.
//
//   node scripts/report-identity.mjs [--fleets 10000] [--seed 1] [--root DIR] [--list]
//
// --list also prints, on stderr, one line per output (label, sha256 of it): diff two such
// lists to find which output changed.
//
// It uses the built packages (`pnpm build`) of the tree it sits in, or of --root DIR: to check
// another tree with the same script, run this one with --root (the fleets' manifest header,
// packages/sharing/test/synthetic-manifest.mjs, shared with the tests, comes from the script's
// own tree, so the inputs stay the script's).
//
// Fixtures: every image of testdata/erofs (top level, synthetic/, metabox/) scanned with content
// hashing (the manifest NDJSON is hashed too; images the reader refuses contribute their error
// code and message, as do testdata/erofs/broken/), then analysed through the CLI's pipeline
// (apps/cli runAnalysis: canonical order, mount resolution, trust model) alone, all together
// without mounts, and with each mount sample of testdata/mounts (label-clash: the refusal's
// message), and with the residency samples of testdata/residency.
// Outputs per report: the report JSON, text, Markdown, CSV, the CLI's text/Markdown/JSON results
// with a gate, JUnit XML, the static HTML page (on a fixed template, identity "gzip": the web
// bundle is not part of the check), the report-wire summary and file encoding, the trust
// write-ups, the what-if scenarios, explanations of the first rows, and the delta to the
// previous report.
// Fleets: FLEETS random inputs in the shape of the engine's property tests
// (packages/sharing model/properties.test.ts), wider: 1-4 images of 0-10 files, fingerprints
// from a small pool, sizes around page boundaries, compressed/plain, ishare on/off, 1-6
// instances with unknown or known domains, bdev/file backing, inode_share, directio, dax,
// not-mounted; each analysed and rendered (JSON, text, Markdown, CSV, scenarios).
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { manifestOfRecords } from '../packages/sharing/test/synthetic-manifest.mjs';

const { values: args } = parseArgs({
  options: {
    fleets: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    root: { type: 'string' },
    list: { type: 'boolean', default: false },
  },
});
const ROOT = resolve(args.root ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const FLEETS = Number(args.fleets);
const SEED = Number(args.seed);
if (!Number.isSafeInteger(FLEETS) || FLEETS < 0) throw new Error(`--fleets: not a count: ${args.fleets}`);
if (!Number.isSafeInteger(SEED)) throw new Error(`--seed: not an integer: ${args.seed}`);
const CREATED_AT = '2026-01-01T00:00:00.000Z';

const load = (rel) => import(pathToFileURL(join(ROOT, rel)).href);
const erofs = await load('packages/erofs/dist/node.js');
const sharing = await load('packages/sharing/dist/index.js');
const wire = await load('packages/report-wire/dist/index.js');
const { runAnalysis } = await load('apps/cli/dist/analysis.js');
const { renderResult } = await load('apps/cli/dist/output/render.js');
const { renderJunit } = await load('apps/cli/dist/output/junit.js');
const { evaluateGate } = await load('apps/cli/dist/gate.js');
const { FINDING_CODES } = await load('apps/cli/dist/config.js');

/** A digest that also counts what went in; each part is length-prefixed (no ambiguity). */
function digest() {
  const h = createHash('sha256');
  let count = 0;
  return {
    add(label, text) {
      const s = typeof text === 'string' ? text : Buffer.from(text).toString('base64');
      h.update(`${label}\u0000${Buffer.byteLength(s)}\u0000${s}\u0000`);
      count++;
      if (args.list) process.stderr.write(`${label} ${createHash('sha256').update(s).digest('hex')}\n`);
    },
    get count() {
      return count;
    },
    hex: () => h.digest('hex'),
  };
}

const TEMPLATE = `<!doctype html><html><head><title>t</title>${wire.STATIC_TEMPLATE_META}</head><body>${wire.STATIC_SUMMARY_MARK}<p>x</p></body></html>`;

/** Every output form of one report (and its input, for the scenarios). */
function addReport(d, label, report, input, previous) {
  d.add(`${label}/json`, JSON.stringify(report));
  d.add(`${label}/text`, sharing.renderText(report));
  d.add(`${label}/markdown`, sharing.renderMarkdown(report));
  d.add(`${label}/csv`, sharing.reportToCsv(report));
  d.add(`${label}/headline`, sharing.headline(report));
  const thresholds = { minSavedPercent: 10, minSavedBytes: 4096, failOn: FINDING_CODES };
  const delta = previous ? sharing.compareReports(previous, report) : null;
  if (delta) d.add(`${label}/delta`, JSON.stringify(delta));
  let gate;
  try {
    gate = evaluateGate(report, thresholds, delta);
  } catch (e) {
    gate = { passed: false, checks: [] };
    d.add(`${label}/gate-error`, String(e.message));
  }
  const result = { report, gate, delta, baseline: delta ? 'previous' : undefined, threatModel: true };
  for (const f of ['text', 'markdown', 'json']) d.add(`${label}/result-${f}`, renderResult(result, f));
  d.add(`${label}/result-text-plain`, renderResult({ ...result, threatModel: false }, 'text'));
  d.add(`${label}/junit`, renderJunit(report, gate, delta, sharing.headline(report)));
  d.add(
    `${label}/html`,
    wire.renderStaticReport(TEMPLATE, report, (b) => b, sharing.headline(report)),
  );
  d.add(`${label}/wire-summary`, JSON.stringify(wire.reportSummary(report)));
  d.add(`${label}/wire-files`, wire.encodeFiles(report));
  if (report.trust) {
    d.add(`${label}/trust-text`, sharing.renderTrustText(report.trust));
    d.add(`${label}/trust-markdown`, sharing.renderTrustMarkdown(report.trust));
  }
  const rows = Math.min(report.files.instance.length, 40);
  for (let r = 0; r < rows; r++)
    d.add(`${label}/explain${r}`, JSON.stringify(sharing.explainFile(report, r)));
  if (input) {
    try {
      d.add(`${label}/scenarios`, JSON.stringify(sharing.runScenarios(input, undefined, report)));
    } catch (e) {
      d.add(`${label}/scenarios-error`, String(e.message));
    }
  }
}

// ---- fixtures ----
const fixtures = digest();
const erofsDir = join(ROOT, 'testdata/erofs');
const imageFiles = (dir) =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.img'))
    .sort()
    .map((n) => join(dir, n));
const manifests = [];
for (const path of [
  ...imageFiles(erofsDir),
  ...imageFiles(join(erofsDir, 'synthetic')),
  ...imageFiles(join(erofsDir, 'metabox')),
  ...imageFiles(join(erofsDir, 'broken')),
]) {
  const rel = path.slice(ROOT.length + 1);
  // Images with extra devices: the --blobdev blob, the --tar=i tarball (both beside the image).
  const extra = { 'edge-mini.chunk4k.blob.img': '.blob', 'edge-mini.tar-i.img': '.tar' }[basename(path)];
  const devices = extra ? [path.replace(/\.img$/, extra)] : [];
  try {
    const m = await erofs.scanImageFile(path, { hash: true, devices });
    fixtures.add(`scan/${rel}`, [...erofs.manifestToNdjson(m)].join(''));
    // The mount samples name the top-level images (their basenames) only.
    if (dirname(path) === erofsDir) manifests.push(m);
  } catch (e) {
    fixtures.add(`scan-error/${rel}`, `${e.code ?? e.name}: ${e.message}`);
  }
}

const mountsDir = join(ROOT, 'testdata/mounts');
const m = (n) => join(mountsDir, n);
const mountSets = [
  [],
  [m('fleet.fstab')],
  [m('host.mountinfo')],
  [m('host.mounts')],
  [m('losetup.json'), m('host.mountinfo')],
  [m('mount-commands.sh')],
  readdirSync(m('units'))
    .sort()
    .map((n) => join(mountsDir, 'units', n)),
  [m('label-clash/host.fstab'), m('label-clash/extra.plan.json')],
  [m('fleet.fstab'), m('host.mountinfo')],
  [join(ROOT, 'testdata/residency/host.snapshot.json.gz')],
];
const residencyDir = join(ROOT, 'testdata/residency');
const residencyFiles = readdirSync(residencyDir)
  .filter((n) => n.startsWith('tree.'))
  .sort();

async function analyseCase(label, req, previous) {
  try {
    const { report, warnings, mountConfigs } = await runAnalysis({
      mapping: {},
      publishers: {},
      createdAt: CREATED_AT,
      ...req,
    });
    fixtures.add(`${label}/warnings`, JSON.stringify({ warnings, mountConfigs }));
    addReport(fixtures, label, report, null, previous);
    return report;
  } catch (e) {
    fixtures.add(`${label}/error`, `${e.exitCode ?? e.code ?? e.name}: ${e.message}`);
    return previous;
  }
}

let previous = null;
for (const man of manifests)
  previous = await analyseCase(`alone/${man.image.name}`, { manifests: [man], mounts: [] }, previous);
for (const mounts of mountSets) {
  const label = `mounts/${mounts.map((p) => basename(p)).join('+') || 'none'}`;
  previous = await analyseCase(label, { manifests, mounts }, previous);
  previous = await analyseCase(
    `${label}/publishers`,
    {
      manifests,
      mounts,
      publishers: { 'app.fp.img': 'thirdparty-inc', 'edge.img': 'edge-inc' },
      pageSize: 16384,
      workingSet: 0.25,
    },
    previous,
  );
}
// Residency samples: each over the fixture fleet, in the given instance.
for (const file of residencyFiles)
  previous = await analyseCase(
    `residency/${file}`,
    { manifests, mounts: [m('fleet.fstab')], residency: [join(residencyDir, file)], cwd: ROOT },
    previous,
  );
// The engine directly, with scenarios, on the fixture manifests as default instances.
{
  const built = sharing.buildAnalysisInput({
    images: manifests.map((x) => ({ header: erofs.manifestHeader(x), payload: x })),
  });
  const input = {
    images: built.images.map((x) => ({ image: x.image, manifest: x.payload })),
    instances: built.instances,
    createdAt: CREATED_AT,
  };
  addReport(fixtures, 'engine/default-instances', sharing.analyze(input), input, null);
}

// ---- random fleets ----
/** mulberry32: a small seeded PRNG (the same as bench/fleet.mjs). */
function prng(seed) {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const FP_SIZES = [0, 1, 4095, 4096, 4097, 10_000, 65_536, 123_457];
const LAYOUTS = ['flat_plain', 'flat_inline', 'compressed_compact', 'compressed_full', 'chunk_based'];

function randomFleet(rand) {
  const int = (n) => Math.floor(rand() * n);
  const pick = (xs) => xs[int(xs.length)];
  const nImages = 1 + int(4);
  const images = [];
  for (let k = 0; k < nImages; k++) {
    const ishare = rand() < 0.8;
    const hashed = rand() < 0.3;
    const nFiles = int(11);
    const files = [];
    for (let j = 0; j < nFiles; j++) {
      const dir = rand() < 0.15;
      const fp = int(7) - 1; // -1: none
      const hardlink = j > 0 && rand() < 0.08;
      // Mostly sha256 fingerprints; some serials (unverifiable) and short ones whose
      // concatenation with a domain id can collide with another's (docs/format.md#sharing-key).
      const kind = rand();
      const fingerprint =
        dir || fp < 0
          ? null
          : kind < 0.8
            ? '7368613235363a' + fp.toString(16).padStart(64, '0')
            : kind < 0.85
              ? Buffer.from(`serial-${fp}`).toString('hex')
              : Buffer.from(['a', 'ab', 'abc'][fp % 3]).toString('hex');
      const short = fingerprint !== null && kind >= 0.85;
      const digestHex =
        fp < 0 ? (j + 1000 * k).toString(16).padStart(64, '0') : fp.toString(16).padStart(64, '0');
      const record = {
        path: `/d${int(3)}/f${String(j).padStart(3, '0')}`,
        nid: hardlink ? 100 + j - 1 : 100 + j,
        type: dir ? 'dir' : 'file',
        mode: '0644',
        uid: 0,
        gid: 0,
        size: dir || short ? 4096 : rand() < 0.7 && fp >= 0 ? FP_SIZES[fp + 1] : pick(FP_SIZES),
        nlink: hardlink ? 2 : 1,
        mtime: 0,
        mtime_nsec: 0,
        layout: dir ? 'flat_inline' : short ? 'flat_plain' : pick(LAYOUTS),
        inode_size: 32,
        xattr_isize: 0,
        xattrs: {},
        fingerprint,
      };
      // Hashed images: the content digest, now and then not the one the fingerprint claims (R12).
      if (hashed && !dir) record.sha256 = rand() < 0.1 ? 'f'.repeat(64) : digestHex;
      files.push(record);
    }
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const seen = new Set();
    const unique = files.filter((f) => !seen.has(f.path) && seen.add(f.path));
    const blockSize = rand() < 0.9 ? 4096 : pick([512, 16384]);
    // Drawn in this order (the image size, then the block count): the seed's fleets stay the same.
    const imageSize = rand() < 0.2 ? 0 : blockSize * (unique.length + 1 + int(50));
    const blocks = unique.length + 1 + int(20);
    const manifest = manifestOfRecords({
      version: erofs.MANIFEST_VERSION,
      name: `img${k}.img`,
      imageSize,
      blockSize,
      blocks,
      ishare,
      hashed,
      files: unique,
    });
    const entry = sharing.imageEntryFromManifest(
      manifest,
      rand() < 0.3 ? { id: `img${k}`, publisher: pick(['acme', 'other']) } : { id: `img${k}` },
    );
    images.push({ image: entry, manifest });
  }
  // Some fleets name their domains by raw domain id through a redactor, as parsed mount
  // configurations do: the engine then compares the raw ids (key concatenation, R4).
  const redactor = rand() < 0.5 ? sharing.createDomainRedactor(new Uint8Array(32)) : null;
  const nInst = 1 + int(6);
  const instances = [];
  for (let i = 0; i < nInst; i++) {
    const img = int(nImages);
    const domain = int(4) - 1;
    const bdev = rand() < 0.3;
    const inst = {
      id: `i${i}`,
      label: `/m/${i}`,
      imageId: `img${img}`,
      mountPoints: [`/m/${i}`],
      source: bdev ? `/dev/loop${i}` : `img${img}.img`,
      backing: bdev ? 'bdev' : 'file',
      domain:
        domain < 0
          ? null
          : redactor
            ? redactor.labelFor(['c', 'bc', 'abc'][domain])
            : { label: `D${domain + 1}` },
      options: {
        inodeShare: rand() < 0.85,
        dax: rand() < 0.05 ? 'always' : null,
        directio: rand() < 0.15,
        cacheStrategy: null,
        devices: [],
        fsoffset: 0,
      },
    };
    if (rand() < 0.1) inst.options.domainIdGiven = domain >= 0;
    if (rand() < 0.05) inst.notMounted = 'noauto';
    instances.push(inst);
  }
  const input = { images, instances, createdAt: CREATED_AT };
  if (redactor) input.domainSecrets = redactor;
  if (rand() < 0.2)
    input.options = { pageSize: pick([4096, 16384, 65536]), workingSetFraction: pick([0.1, 0.5, 1]) };
  return input;
}

const fleets = digest();
const rand = prng(SEED);
/** Findings per code over the fleets (--list prints it: the fleets should reach every code). */
const codes = new Map();
for (let n = 0; n < FLEETS; n++) {
  const input = randomFleet(rand);
  let report;
  try {
    report = sharing.analyze(input);
  } catch (e) {
    fleets.add(`fleet${n}/error`, String(e.message));
    continue;
  }
  for (const f of report.findings) codes.set(f.code, (codes.get(f.code) ?? 0) + 1);
  fleets.add(`fleet${n}/json`, JSON.stringify(report));
  fleets.add(`fleet${n}/text`, sharing.renderText(report));
  fleets.add(`fleet${n}/markdown`, sharing.renderMarkdown(report));
  fleets.add(`fleet${n}/csv`, sharing.reportToCsv(report));
  if (n % 10 === 0) {
    fleets.add(`fleet${n}/scenarios`, JSON.stringify(sharing.runScenarios(input, undefined, report)));
    const trusted = sharing.withTrust(report, input);
    fleets.add(`fleet${n}/trust`, sharing.renderTrustMarkdown(trusted.trust));
  }
}

if (args.list) process.stderr.write(`fleet findings: ${JSON.stringify(Object.fromEntries(codes))}\n`);
console.log(
  JSON.stringify({ fixtures: fixtures.hex(), fleets: fleets.hex(), count: fixtures.count + fleets.count }),
);
