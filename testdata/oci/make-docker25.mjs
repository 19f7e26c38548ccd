#!/usr/bin/env node
/**
 * Builds image.docker25.tar: the image of image.docker.tar as Docker >= 25 `docker save` writes
 * it, an OCI image layout inside the archive (oci-layout, index.json, blobs/sha256/<hex> for the
 * image manifest, the config and each layer tar) plus the classic manifest.json, whose Config
 * and Layers now name blobs, and repositories. Same config and layer bytes, so the prediction
 * must equal the classic form's. Reproducible: fixed mtimes, members in a fixed order, no
 * dependencies. Usage (from the repository root): node testdata/oci/make-docker25.mjs
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const BLOCK = 512;
const MTIME = 1700000000;

/** Members of a plain ustar archive whose names fit the 100-byte name field (the classic fixture). */
function readTar(buf) {
  const out = new Map();
  for (let off = 0; off + BLOCK <= buf.length; ) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    const field = (from, len) => {
      const f = h.subarray(from, from + len).toString('latin1');
      const nul = f.indexOf('\0');
      return nul < 0 ? f : f.slice(0, nul);
    };
    const name = field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    out.set(name, buf.subarray(off + BLOCK, off + BLOCK + size));
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}

function octal(n, width) {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** One ustar header + data (padded); directories when `data` is null. */
function member(name, data) {
  if (Buffer.byteLength(name) > 100) throw new Error(`name too long for this writer: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 'latin1');
  h.write(octal(data ? 0o644 : 0o755, 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1');
  h.write(octal(0, 8), 116, 'latin1');
  h.write(octal(data ? data.length : 0, 12), 124, 'latin1');
  h.write(octal(MTIME, 12), 136, 'latin1');
  h.write(data ? '0' : '5', 156, 'latin1');
  h.write('ustar\0' + '00', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  if (!data) return [h];
  const pad = Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK);
  return [h, data, pad];
}

const sha = (b) => createHash('sha256').update(b).digest('hex');
const json = (v) => Buffer.from(JSON.stringify(v));

const classic = readTar(readFileSync(join(here, 'image.docker.tar')));
const [entry] = JSON.parse(classic.get('manifest.json').toString('utf8'));
const config = classic.get(entry.Config);
const layers = entry.Layers.map((p) => classic.get(p));
const cfgHex = sha(config);
const layerHex = layers.map(sha);
const imageManifest = json({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${cfgHex}`, size: config.length },
  layers: layers.map((l, i) => ({
    mediaType: 'application/vnd.oci.image.layer.v1.tar',
    digest: `sha256:${layerHex[i]}`,
    size: l.length,
  })),
});
const manHex = sha(imageManifest);
const tag = entry.RepoTags[0];
const index = json({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: `sha256:${manHex}`,
      size: imageManifest.length,
      annotations: { 'io.containerd.image.name': `docker.io/${tag}`, 'org.opencontainers.image.ref.name': tag.split(':')[1] },
    },
  ],
});
const blobs = new Map([[cfgHex, config], [manHex, imageManifest], ...layerHex.map((h, i) => [h, layers[i]])]);
const parts = [
  ...member('blobs/', null),
  ...member('blobs/sha256/', null),
  ...[...blobs.keys()].sort().flatMap((h) => member(`blobs/sha256/${h}`, blobs.get(h))),
  ...member('index.json', index),
  ...member(
    'manifest.json',
    json([{ Config: `blobs/sha256/${cfgHex}`, RepoTags: entry.RepoTags, Layers: layerHex.map((h) => `blobs/sha256/${h}`) }]),
  ),
  ...member('oci-layout', json({ imageLayoutVersion: '1.0.0' })),
  ...member('repositories', classic.get('repositories')),
  Buffer.alloc(BLOCK * 2),
];
const out = Buffer.concat(parts);
writeFileSync(join(here, 'image.docker25.tar'), out);
console.log(`image.docker25.tar: ${out.length} bytes, sha256 ${sha(out)}`);
