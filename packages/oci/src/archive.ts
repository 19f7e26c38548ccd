/**
 * Images from a `docker save` archive or an OCI image layout (directory or tar), and plain
 * root-filesystem tars (`docker export`), recognised from their bytes and members, never
 * from file names. References:
 *  - OCI image-spec image-layout.md (oci-layout, index.json, blobs/<alg>/<hex>),
 *    image-index.md (platform selection), manifest.md and descriptor.md (every blob's
 *    digest and size are verified), config.md (rootfs.diff_ids: digests of the uncompressed
 *    layer tars, verified too);
 *  - Docker's docker-archive format (manifest.json: Config, RepoTags, Layers).
 * Layers are streamed once; identical diff ids are read once (a layerCache may be shared by
 * several archives).
 */
import type { ByteSource, HasherFactory } from '@sharemap/erofs';
import { compressionOf, decompress, looksLikeTar, type Compression } from './compress.js';
import { OciError } from './errors.js';
import { readLayer, readLayerHashed, type LayerMember } from './layer.js';
import { resolveOciLimits, type OciLimits } from './limits.js';
import type { TarHasherFactory } from './tar-hasher.js';
import { indexTar, rangeChunks, tarFiles, type ArchiveFile, type ArchiveFiles } from './tar-index.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

/** "linux/arm64/v8" -> Platform. */
export function parsePlatform(s: string): Platform {
  const [os, architecture, variant] = s.split('/');
  if (!os || !architecture)
    throw new OciError('EPLATFORM', `platform ${JSON.stringify(s)} is not os/arch[/variant]`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function platformString(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

export interface OciLayer {
  /** sha256:... of the uncompressed tar (config rootfs.diff_ids). */
  diffId: string;
  /** Digest of the blob as stored (compressed for gzip/zstd layers). */
  digest: string;
  mediaType?: string;
  compression: Compression;
  /** Bytes as stored, and uncompressed. */
  storedSize: number;
  size: number;
  members: LayerMember[];
}

export interface OciImage {
  /** Display name: first repo tag, the OCI ref.name annotation, or the manifest/config digest. */
  name: string;
  repoTags: string[];
  /** Image manifest digest (OCI layouts), else undefined. */
  manifestDigest?: string;
  configDigest: string;
  platform?: Platform;
  layers: OciLayer[];
}

export type ArchiveKind = 'docker-save' | 'oci-layout' | 'rootfs';

export interface LoadOptions {
  /** Hashes every file's data (its fingerprint) and the JSON documents. */
  hasher: HasherFactory;
  /** Hashes each layer blob whole (its digest, its diff id); default `hasher`. In Node,
   * `workerSha256` of `@sharemap/oci/node` runs these on a second core. */
  digestHasher?: HasherFactory;
  /** Hashes each layer's tar stream and its files' data in one pass (the diff id and the
   * fingerprints) instead of `hasher` per file; in Node, `workerTarHasher` of
   * `@sharemap/oci/node` does it on a worker thread. Same results. */
  tarHasher?: TarHasherFactory;
  limits?: Partial<OciLimits>;
  /** Platform picked from a multi-platform index (default linux/amd64). */
  platform?: Platform;
  /** Layers already read, by diff id: identical layers are read once. */
  layerCache?: Map<string, OciLayer>;
  onProgress?: (p: { layer: string; bytes: number }) => void;
}

const SHA256 = /^sha256:[0-9a-f]{64}$/;

async function readAllBounded(f: ArchiveFile, max: number, what: string): Promise<Uint8Array> {
  if (f.size > max)
    throw new OciError('ELIMIT', `${what} of ${f.size} bytes exceeds maxJsonBytes (${max})`, {
      member: what,
    });
  const out = new Uint8Array(f.size);
  let p = 0;
  for await (const c of f.stream()) {
    if (p + c.length > f.size)
      throw new OciError('EFORMAT', `${what} is longer than its size`, { member: what });
    out.set(c, p);
    p += c.length;
  }
  if (p !== f.size) throw new OciError('ETRUNCATED', `${what} is shorter than its size`, { member: what });
  return out;
}

async function sha256Of(hasher: HasherFactory, b: Uint8Array): Promise<string> {
  const h = await hasher();
  h.update(b);
  return 'sha256:' + h.digestHex();
}

type Json = Record<string, unknown>;

function parseJson(b: Uint8Array, what: string): Json {
  try {
    const v: unknown = JSON.parse(new TextDecoder().decode(b));
    if (typeof v !== 'object' || v === null) throw new Error('not an object or array');
    return v as Json;
  } catch (e) {
    throw new OciError('EFORMAT', `${what} is not valid JSON: ${(e as Error).message}`, { member: what });
  }
}

class Loader {
  readonly limits: OciLimits;
  constructor(
    readonly files: ArchiveFiles,
    readonly o: LoadOptions,
  ) {
    this.limits = resolveOciLimits(o.limits);
  }

  async need(path: string, what: string): Promise<ArchiveFile> {
    const f = await this.files.get(path);
    if (!f) throw new OciError('EMISSING', `${what} is not in ${this.files.name}`, { member: path });
    return f;
  }

  /** A JSON document; `digest` (+ `size`) verified when given. */
  async json(path: string, what: string, digest?: string, size?: number): Promise<Json> {
    const f = await this.need(path, what);
    if (size !== undefined && f.size !== size)
      throw new OciError('EDIGEST', `${what} has ${f.size} bytes, its descriptor says ${size}`, {
        member: path,
      });
    const b = await readAllBounded(f, this.limits.maxJsonBytes, path);
    if (digest !== undefined) {
      const got = await sha256Of(this.o.hasher, b);
      if (got !== digest)
        throw new OciError('EDIGEST', `${what} has digest ${got}, expected ${digest}`, { member: path });
    }
    return parseJson(b, path);
  }

  /**
   * Stream one layer: verify the stored blob's digest/size (when known), decompress by its
   * magic bytes, verify the uncompressed digest against the diff id, and read its members.
   */
  async layer(
    path: string,
    diffId: string,
    digest: string | undefined,
    size: number | undefined,
    mediaType?: string,
  ): Promise<OciLayer> {
    const cached = this.o.layerCache?.get(diffId);
    if (cached) return cached;
    const f = await this.need(path, `layer ${diffId}`);
    if (size !== undefined && f.size !== size)
      throw new OciError('EDIGEST', `layer blob has ${f.size} bytes, its descriptor says ${size}`, {
        member: path,
      });
    const digestHasher = this.o.digestHasher ?? this.o.hasher;
    const tarHasher = this.o.tarHasher;
    // The magic bytes, from a first chunk read on its own (the stream proper is opened
    // knowing the compression: an uncompressed one may recycle its buffers).
    let head: Uint8Array = new Uint8Array(0);
    for await (const c of f.stream()) {
      head = c.subarray(0, 512);
      break;
    }
    const compression = compressionOf(head);
    // An uncompressed blob is the tar itself: with a TarHasher its digest is the tar stream's.
    const rawHash = compression === 'none' && tarHasher ? null : await digestHasher();
    let stored = 0;
    // Every consumer below hashes or copies a chunk before the tar reader pulls the next
    // (StreamOptions.recycle); the decompressors are not known to, so they get fresh buffers.
    const stream = f.stream({ recycle: compression === 'none' });
    const blob = async function* () {
      for await (const c of stream) {
        rawHash?.update(c);
        stored += c.length;
        yield c;
      }
    };
    const diffHash = compression === 'none' || tarHasher ? null : await digestHasher();
    let size_ = 0;
    const progress = this.o.onProgress;
    const tar = async function* (src: AsyncIterable<Uint8Array>) {
      for await (const c of src) {
        diffHash?.update(c);
        size_ += c.length;
        progress?.({ layer: diffId, bytes: size_ });
        yield c;
      }
    };
    let members: LayerMember[];
    let tarDigest: string | undefined;
    try {
      const chunks = tar(decompress(compression, blob(), path));
      if (tarHasher) {
        const read = await readLayerHashed(chunks, { tarHasher, limits: this.limits });
        members = read.members;
        tarDigest = 'sha256:' + read.digest;
      } else members = await readLayer(chunks, { hasher: this.o.hasher, limits: this.limits });
    } catch (e) {
      throw e instanceof OciError ? e.inMember(path) : e;
    }
    const rawDigest = rawHash ? 'sha256:' + rawHash.digestHex() : tarDigest!;
    tarDigest ??= diffHash ? 'sha256:' + diffHash.digestHex() : rawDigest;
    if (digest !== undefined && rawDigest !== digest)
      throw new OciError('EDIGEST', `layer blob has digest ${rawDigest}, its descriptor says ${digest}`, {
        member: path,
      });
    if (tarDigest !== diffId)
      throw new OciError(
        'EDIGEST',
        `uncompressed layer has digest ${tarDigest}, the config's diff id is ${diffId}`,
        { member: path },
      );
    const layer: OciLayer = {
      diffId,
      digest: digest ?? rawDigest,
      compression,
      storedSize: stored,
      size: size_,
      members,
    };
    if (mediaType) layer.mediaType = mediaType;
    this.o.layerCache?.set(diffId, layer);
    return layer;
  }

  diffIds(config: Json, what: string): string[] {
    const rootfs = config.rootfs as Json | undefined;
    const ids = rootfs?.diff_ids;
    if (!Array.isArray(ids) || !ids.every((d) => typeof d === 'string' && SHA256.test(d))) {
      throw new OciError('EFORMAT', 'config has no rootfs.diff_ids list of sha256 digests', { member: what });
    }
    if (ids.length > this.limits.maxLayers)
      throw new OciError('ELIMIT', `more than maxLayers (${this.limits.maxLayers}) layers`, { member: what });
    return ids as string[];
  }

  /** docker save: manifest.json = [{ Config, RepoTags, Layers }]. */
  async dockerSave(): Promise<OciImage[]> {
    const list = await this.json('manifest.json', 'manifest.json');
    if (!Array.isArray(list))
      throw new OciError('EFORMAT', 'manifest.json is not a list', { member: 'manifest.json' });
    const images: OciImage[] = [];
    for (const [i, entry] of (list as Json[]).entries()) {
      const cfgPath = entry?.Config;
      const layerPaths = entry?.Layers;
      if (
        typeof cfgPath !== 'string' ||
        !Array.isArray(layerPaths) ||
        !layerPaths.every((l) => typeof l === 'string')
      ) {
        throw new OciError('EFORMAT', `manifest.json entry ${i} lacks Config or Layers`, {
          member: 'manifest.json',
        });
      }
      // The config's name is its digest ("<hex>.json" before Docker 25, "blobs/sha256/<hex>" after).
      const hex = /([0-9a-f]{64})(\.json)?$/.exec(cfgPath)?.[1];
      const configDigest = hex ? `sha256:${hex}` : undefined;
      const config = await this.json(cfgPath, 'image config', configDigest);
      const ids = this.diffIds(config, cfgPath);
      if (ids.length !== layerPaths.length)
        throw new OciError(
          'EFORMAT',
          `manifest.json lists ${layerPaths.length} layers, the config ${ids.length} diff ids`,
          { member: cfgPath },
        );
      const layers: OciLayer[] = [];
      for (const [j, lp] of (layerPaths as string[]).entries()) {
        const blobHex = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(lp)?.[1];
        layers.push(await this.layer(lp, ids[j]!, blobHex ? `sha256:${blobHex}` : undefined, undefined));
      }
      const repoTags = Array.isArray(entry.RepoTags)
        ? (entry.RepoTags as unknown[]).filter((t): t is string => typeof t === 'string')
        : [];
      images.push({
        name: repoTags[0] ?? configDigest ?? cfgPath,
        repoTags,
        configDigest: configDigest ?? '',
        layers,
      });
    }
    return images;
  }

  /** OCI layout: index.json -> (nested indexes ->) the manifest of the chosen platform. */
  async ociLayout(): Promise<OciImage[]> {
    const index = await this.json('index.json', 'index.json');
    const want = this.o.platform ?? DEFAULT_PLATFORM;
    const images: OciImage[] = [];
    const seen = new Set<string>();
    const visit = async (idx: Json, where: string, depth: number, refName?: string): Promise<void> => {
      if (depth > 4) throw new OciError('ELIMIT', 'image indexes nested more than 4 deep', { member: where });
      const ms = idx.manifests;
      if (!Array.isArray(ms)) throw new OciError('EFORMAT', 'index has no manifests list', { member: where });
      const descs = ms as Json[];
      const withPlatform = descs.filter((d) => d.platform);
      const matches = (d: Json) => {
        const p = d.platform as Json | undefined;
        if (!p) return true;
        return (
          p.os === want.os &&
          p.architecture === want.architecture &&
          (want.variant === undefined || p.variant === want.variant)
        );
      };
      const chosen = descs.filter(matches);
      if (withPlatform.length && !chosen.length) {
        const have = withPlatform.map((d) => platformString(d.platform as Platform)).join(', ');
        throw new OciError('EPLATFORM', `no manifest for ${platformString(want)} (the index has ${have})`, {
          member: where,
        });
      }
      for (const d of chosen) {
        const digest = d.digest;
        if (typeof digest !== 'string' || !SHA256.test(digest))
          throw new OciError('EFORMAT', 'descriptor without a sha256 digest', { member: where });
        if (seen.has(digest)) continue;
        seen.add(digest);
        const ann = d.annotations as Json | undefined;
        const ref =
          typeof ann?.['org.opencontainers.image.ref.name'] === 'string'
            ? (ann['org.opencontainers.image.ref.name'] as string)
            : refName;
        const path = `blobs/sha256/${digest.slice(7)}`;
        const doc = await this.json(
          path,
          'manifest',
          digest,
          typeof d.size === 'number' ? d.size : undefined,
        );
        if (Array.isArray(doc.manifests)) await visit(doc, path, depth + 1, ref);
        else
          images.push(await this.imageManifest(doc, digest, path, ref, d.platform as Platform | undefined));
      }
    };
    await visit(index, 'index.json', 0);
    return images;
  }

  async imageManifest(
    doc: Json,
    digest: string,
    where: string,
    ref: string | undefined,
    platform?: Platform,
  ): Promise<OciImage> {
    const cfg = doc.config as Json | undefined;
    const layers = doc.layers;
    if (!cfg || typeof cfg.digest !== 'string' || !SHA256.test(cfg.digest) || !Array.isArray(layers)) {
      throw new OciError('EFORMAT', 'image manifest without config or layers', { member: where });
    }
    const cfgPath = `blobs/sha256/${cfg.digest.slice(7)}`;
    const config = await this.json(
      cfgPath,
      'image config',
      cfg.digest,
      typeof cfg.size === 'number' ? cfg.size : undefined,
    );
    const ids = this.diffIds(config, cfgPath);
    if (ids.length !== layers.length)
      throw new OciError(
        'EFORMAT',
        `manifest lists ${layers.length} layers, the config ${ids.length} diff ids`,
        { member: where },
      );
    const out: OciLayer[] = [];
    for (const [i, l] of (layers as Json[]).entries()) {
      if (typeof l.digest !== 'string' || !SHA256.test(l.digest))
        throw new OciError('EFORMAT', `layer ${i} without a sha256 digest`, { member: where });
      out.push(
        await this.layer(
          `blobs/sha256/${l.digest.slice(7)}`,
          ids[i]!,
          l.digest,
          typeof l.size === 'number' ? l.size : undefined,
          typeof l.mediaType === 'string' ? l.mediaType : undefined,
        ),
      );
    }
    const img: OciImage = {
      name: ref ?? digest,
      repoTags: ref ? [ref] : [],
      manifestDigest: digest,
      configDigest: cfg.digest,
      layers: out,
    };
    const p =
      platform ??
      (config.os && config.architecture
        ? {
            os: String(config.os),
            architecture: String(config.architecture),
            ...(config.variant ? { variant: String(config.variant) } : {}),
          }
        : undefined);
    if (p) img.platform = p;
    return img;
  }
}

/** Images of an archive given as files (an OCI layout directory, or an indexed tar). */
export async function loadImages(
  files: ArchiveFiles,
  o: LoadOptions,
): Promise<{ kind: ArchiveKind; images: OciImage[] }> {
  const l = new Loader(files, o);
  // Docker 25+ writes both manifest.json and an OCI layout: manifest.json names the images of
  // the save (with their tags) for both generations, so it goes first.
  if (await files.get('manifest.json')) return { kind: 'docker-save', images: await l.dockerSave() };
  if ((await files.get('oci-layout')) && (await files.get('index.json')))
    return { kind: 'oci-layout', images: await l.ociLayout() };
  throw new OciError(
    'EFORMAT',
    'neither a docker save archive (manifest.json) nor an OCI image layout (oci-layout, index.json)',
    { member: files.name },
  );
}

/** Members an image archive can hold at its top level; anything else marks a rootfs tar. */
const IMAGE_ARCHIVE_MEMBER =
  /^(manifest\.json|repositories|index\.json|oci-layout|[0-9a-f]{64}\.json|[0-9a-f]{64}(\/(VERSION|json|layer\.tar))?|blobs(\/sha256(\/[0-9a-f]{64})?)?)$/;

export type OpenedArchive =
  | { kind: 'docker-save' | 'oci-layout'; files: ArchiveFiles }
  | { kind: 'rootfs'; compression: Compression; stream(): AsyncIterable<Uint8Array> };

/**
 * What a byte source holds: an image archive (a tar of manifest.json / an OCI layout) or a
 * root-filesystem tar (plain, gzip or zstd), from its bytes. A compressed tar is taken as a
 * rootfs: image archives must be random-access (docker save writes manifest.json last).
 */
export async function openArchive(
  source: ByteSource,
  name: string,
  limits?: Partial<OciLimits>,
): Promise<OpenedArchive> {
  const head = await source.read(0, Math.min(512, source.size));
  const compression = compressionOf(head);
  const rootfs = (c: Compression): OpenedArchive => ({
    kind: 'rootfs',
    compression: c,
    stream: () => decompress(c, rangeChunks(source, 0, source.size, undefined, c === 'none'), name),
  });
  if (compression !== 'none') return rootfs(compression);
  if (!looksLikeTar(head))
    throw new OciError(
      'EFORMAT',
      'not a tar archive, gzip or zstd stream (no valid tar header at offset 0)',
      { member: name },
    );
  const lim = resolveOciLimits(limits);
  const index = await indexTar(source, lim, name, (m) => !IMAGE_ARCHIVE_MEMBER.test(m));
  if (!index) return rootfs('none');
  const files = tarFiles(source, index, name);
  if (index.has('manifest.json')) return { kind: 'docker-save', files };
  if (index.has('oci-layout') && index.has('index.json')) return { kind: 'oci-layout', files };
  return rootfs('none');
}
