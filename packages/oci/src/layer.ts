/**
 * One tar (a layer or a rootfs) read into the list of its members: normalised paths, the
 * metadata mkfs.erofs uses, and the sha256 of every regular file's data (computed while
 * streaming; no member's data is held). The list is metadata only, so an image's layers can
 * be applied in order (flattening) and each built on its own (per-layer model) from one read.
 */
import type { HasherFactory } from '@sharemap/erofs';
import { OciError } from './errors.js';
import type { OciLimits } from './limits.js';
import { readTar, type TarAttrs, type TarEntry, type TarKind } from './tar.js';
import { tarHashChunks, type TarHasherFactory } from './tar-hasher.js';

/** Path components as "binary" strings: one char per byte (latin1), so names stay byte-exact
 * and string order is byte order. */
export type PathKey = string;

export interface LayerMember extends TarAttrs {
  kind: TarKind;
  /** Normalised components (rule 2): no "", ".", ".."; empty for the root ("./"). */
  path: PathKey[];
  /** Hard links: the normalised target path. */
  link?: PathKey[];
  /** Symlinks: the target bytes as a binary string. */
  symlink?: PathKey;
  rdev?: [number, number];
  xattrs: [string, Uint8Array][];
  /** Regular files: hex sha256 of the data. */
  sha256?: string;
}

export interface ReadLayerOptions {
  hasher: HasherFactory;
  limits: OciLimits;
  /** Called with the bytes of file data hashed so far (progress). */
  onData?: (bytes: number) => void;
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder();

/** Binary string -> UTF-8 display string (invalid sequences become U+FFFD, as the EROFS reader shows them). */
export function displayKey(k: PathKey): string {
  const b = new Uint8Array(k.length);
  for (let i = 0; i < k.length; i++) b[i] = k.charCodeAt(i);
  return utf8.decode(b);
}

export function displayPath(p: PathKey[]): string {
  return '/' + p.map(displayKey).join('/');
}

/**
 * mkfs.erofs path rules (rule 2): split on "/", skip empty and "." components, ".." goes
 * up. Climbing above the root is refused (EESCAPE): mkfs would clamp it, but such a member
 * is an attack on whatever extracts the tar.
 */
export function normalisePath(raw: Uint8Array, base: PathKey[] = []): PathKey[] | null {
  const out = [...base];
  for (const c of latin1.decode(raw).split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length === 0) return null;
      out.pop();
    } else out.push(c);
  }
  return out;
}

/** A member's record from its tar entry (everything but a regular file's sha256). */
function memberOf(e: TarEntry): LayerMember {
  const path = normalisePath(e.name);
  const shown = () => utf8.decode(e.name); // for error messages only
  if (!path)
    throw new OciError('EESCAPE', 'member path climbs above the root', { path: shown(), offset: e.offset });
  const m: LayerMember = {
    kind: e.kind,
    path,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size: e.size,
    mtime: e.mtime,
    mtimeNsec: e.mtimeNsec,
    xattrs: e.xattrs,
  };
  if (e.kind === 'hardlink') {
    const link = normalisePath(e.linkname);
    if (!link)
      throw new OciError(
        'EESCAPE',
        `hard link target ${JSON.stringify(utf8.decode(e.linkname))} climbs above the root`,
        { path: shown(), offset: e.offset },
      );
    m.link = link;
  } else if (e.kind === 'symlink') {
    // A relative target is resolved from the link's directory; an absolute one from the
    // root. Lexically climbing above "/" is refused: it points outside the image.
    const abs = e.linkname[0] === 0x2f;
    if (!normalisePath(e.linkname, abs ? [] : path.slice(0, -1))) {
      throw new OciError(
        'EESCAPE',
        `symlink target ${JSON.stringify(utf8.decode(e.linkname))} climbs above the root`,
        { path: shown(), offset: e.offset },
      );
    }
    m.symlink = latin1.decode(e.linkname);
  } else if (e.kind === 'chr' || e.kind === 'blk') {
    m.rdev = [e.devmajor, e.devminor];
  }
  return m;
}

/** Read a tar stream into its members, hashing each file on this thread (see the module comment). */
export async function readLayer(
  chunks: AsyncIterable<Uint8Array>,
  opts: ReadLayerOptions,
): Promise<LayerMember[]> {
  const members: LayerMember[] = [];
  let hashed = 0;
  for await (const e of readTar(chunks, opts.limits)) {
    const m = memberOf(e);
    if (e.kind === 'file') {
      // A synchronous hasher (node:crypto) is used without an await, and the data is fed from
      // the read buffer without a promise per chunk: per-member overhead, not hashing, was the
      // cost for small files (docs/benchmarks.md#oci-predicting-from-a-docker-save-archive).
      const made = opts.hasher();
      const h = made instanceof Promise ? await made : made;
      const onData = opts.onData;
      await e.eachChunk((c) => {
        h.update(c);
        hashed += c.length;
        onData?.(hashed);
      });
      m.sha256 = h.digestHex();
    }
    members.push(m);
  }
  return members;
}

export interface ReadLayerHashedOptions {
  /** Hashes the stream and every file's data span (e.g. `workerTarHasher`, on a worker thread). */
  tarHasher: TarHasherFactory;
  limits: OciLimits;
  /** Called with the bytes of the tar stream read so far (progress). */
  onData?: (bytes: number) => void;
}

/**
 * readLayer with the hashing left to a TarHasher: this thread parses headers and skips file
 * data, telling the hasher where each file's data lies; the hasher returns the stream's digest
 * (the layer's diff id) and every file's. Same members, same digests as readLayer.
 */
export async function readLayerHashed(
  chunks: AsyncIterable<Uint8Array>,
  opts: ReadLayerHashedOptions,
): Promise<{ members: LayerMember[]; digest: string }> {
  const th = await opts.tarHasher();
  const members: LayerMember[] = [];
  const files: LayerMember[] = [];
  let read = 0;
  const onData = opts.onData;
  // The hasher sees each chunk as the tar reader pulls it, so every span is declared before
  // the bytes after its first chunk reach the hasher (TarHasher.file).
  const fed = async function* () {
    for await (const c of tarHashChunks(chunks)) {
      th.update(c);
      read += c.length;
      onData?.(read);
      yield c;
    }
  };
  try {
    for await (const e of readTar(fed(), opts.limits)) {
      const m = memberOf(e);
      if (e.kind === 'file') {
        th.file(e.dataOffset, e.size);
        files.push(m);
      }
      members.push(m);
    }
  } catch (e) {
    th.abort();
    throw e;
  }
  const { digest, files: digests } = await th.finish();
  if (digests.length !== files.length)
    throw new Error(`the tar hasher returned ${digests.length} file digests for ${files.length} files`);
  files.forEach((m, i) => (m.sha256 = digests[i]!));
  return { members, digest };
}
