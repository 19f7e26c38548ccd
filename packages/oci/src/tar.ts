/**
 * A streaming tar reader that follows what mkfs.erofs 1.9.3 (lib/tar.c) accepts: ustar
 * headers with the `prefix` field, PAX `x` (per member) and `g` (global) records, GNU `L`
 * (long name) and `K` (long link name) members, octal or GNU base-256 numbers, and names
 * as raw bytes (a name that is not UTF-8 stays as it is). testdata/oci/README.fixtures.md,
 * "Rules a predictor must follow", rule 1, lists the exact behaviour reproduced here.
 *
 * Why not tar-stream: it decodes names and PAX values as UTF-8 strings, which loses
 * non-UTF-8 names and binary `SCHILY.xattr.security.capability` values; both must stay
 * byte-exact for the prediction (rules 2 and 9).
 */
import { ChunkReader } from './chunks.js';
import { OciError } from './errors.js';
import type { OciLimits } from './limits.js';

export const BLOCK = 512;

export type TarKind = 'file' | 'hardlink' | 'symlink' | 'chr' | 'blk' | 'dir' | 'fifo';

/** The attributes of a member that mkfs.erofs keeps (rules 10, 11). */
export interface TarAttrs {
  /** Permission bits only (`mode & 07777`): mkfs ignores the type bits Go writes (rule 1). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  mtimeNsec: number;
}

export interface TarEntry extends TarAttrs {
  kind: TarKind;
  /** Member name as stored (PAX `path` > GNU `L` > ustar prefix/name), raw bytes; like
   * `linkname`, valid until the next member is read (it may be a view of the read buffer). */
  name: Uint8Array;
  /** Link name (symlink target or hard-link target), raw bytes; empty when none. */
  linkname: Uint8Array;
  devmajor: number;
  devminor: number;
  /** `SCHILY.xattr.*` / `LIBARCHIVE.xattr.*` records in order: full xattr name -> raw value. */
  xattrs: [string, Uint8Array][];
  /** Offset of the member's (first) header in the tar stream. */
  offset: number;
  /** Offset of the member's data in the tar stream (regular files: `size` bytes from here). */
  dataOffset: number;
  /** The member's data, at most once; unread data is skipped by the next iteration. */
  data(): AsyncGenerator<Uint8Array>;
  /**
   * The member's data passed to `sink` chunk by chunk (instead of `data()`, at most once):
   * chunks already buffered are passed without an await, so a small member costs no promise.
   * A chunk is valid only during the call (it is a view of the read buffer).
   */
  eachChunk(sink: (chunk: Uint8Array) => void): Promise<void>;
}

const TYPE_KIND: Record<string, TarKind> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'chr',
  '4': 'blk',
  '5': 'dir',
  '6': 'fifo',
};

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder();

/** Field bytes up to the first NUL. */
function cstr(b: Uint8Array, off: number, len: number): Uint8Array {
  const f = b.subarray(off, off + len);
  const z = f.indexOf(0);
  return z < 0 ? f : f.subarray(0, z);
}

/** Octal (leading spaces, ends at NUL or space) or GNU base-256 (high bit of the first byte). */
export function parseNumber(b: Uint8Array, off: number, len: number, field: string, at: number): number {
  const f = b.subarray(off, off + len);
  if (f[0]! & 0x80) {
    if (f[0] === 0xff) throw new OciError('EFORMAT', `negative base-256 ${field}`, { offset: at });
    let v = f[0]! & 0x7f;
    for (let i = 1; i < f.length; i++) {
      v = v * 256 + f[i]!;
      if (v > Number.MAX_SAFE_INTEGER)
        throw new OciError('ELIMIT', `${field} does not fit 2^53`, { offset: at });
    }
    return v;
  }
  let i = 0;
  while (i < f.length && f[i] === 0x20) i++;
  let v = 0;
  let digits = 0;
  for (; i < f.length; i++) {
    const c = f[i]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) throw new OciError('EFORMAT', `bad octal digit in ${field}`, { offset: at });
    v = v * 8 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? 0 : v;
}

function checksumOk(h: Uint8Array, at: number): boolean {
  const stored = parseNumber(h, 148, 8, 'checksum', at);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return stored === unsigned || stored === signed;
}

/** POSIX ustar magic "ustar\0" at offset 257 (GNU tar's "ustar  " has no prefix field). */
function isUstarMagic(h: Uint8Array): boolean {
  return (
    h[257] === 0x75 &&
    h[258] === 0x73 &&
    h[259] === 0x74 &&
    h[260] === 0x61 &&
    h[261] === 0x72 &&
    h[262] === 0
  );
}

function isZeroBlock(h: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (h[i] !== 0) return false;
  return true;
}

function decimal(v: Uint8Array, key: string, at: number): number {
  const s = latin1.decode(v);
  if (!/^\d+$/.test(s))
    throw new OciError('EFORMAT', `PAX ${key} is not a decimal number: ${JSON.stringify(s.slice(0, 40))}`, {
      offset: at,
    });
  const n = Number(s);
  if (!Number.isSafeInteger(n))
    throw new OciError('ELIMIT', `PAX ${key} ${s.slice(0, 40)} does not fit 2^53`, { offset: at });
  return n;
}

/** Parse PAX records "LEN KEY=VALUE\n" into key -> raw value (later records win). */
export function parsePax(data: Uint8Array, at: number): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let p = 0;
  while (p < data.length) {
    if (data[p] === 0) break; // NUL padding after the last record
    const sp = data.indexOf(0x20, p);
    if (sp < 0) throw new OciError('EFORMAT', 'PAX record without a length', { offset: at + p });
    const len = Number(latin1.decode(data.subarray(p, sp)));
    if (
      !Number.isSafeInteger(len) ||
      len <= sp - p + 1 ||
      p + len > data.length ||
      data[p + len - 1] !== 0x0a
    ) {
      throw new OciError('EFORMAT', 'malformed PAX record length', { offset: at + p });
    }
    const rec = data.subarray(sp + 1, p + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new OciError('EFORMAT', 'PAX record without "="', { offset: at + p });
    out.set(utf8.decode(rec.subarray(0, eq)), rec.subarray(eq + 1));
    p += len;
  }
  return out;
}

function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function base64Bytes(s: string, at: number): Uint8Array {
  try {
    const bin = atob(s.replace(/\s+/g, ''));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    throw new OciError('EFORMAT', 'LIBARCHIVE.xattr value is not base64', { offset: at });
  }
}

function joinBytes(a: Uint8Array, sep: number, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + 1 + b.length);
  out.set(a);
  out[a.length] = sep;
  out.set(b, a.length + 1);
  return out;
}

/**
 * Members of a tar stream, in order. Throws OciError on truncation, bad checksums and
 * exceeded limits. The stream is read to its end (also past the end-of-archive blocks), so
 * a digest computed over the bytes fed in covers the whole blob.
 */
export async function* readTar(
  source: AsyncIterable<Uint8Array>,
  limits: OciLimits,
): AsyncGenerator<TarEntry> {
  const r = new ChunkReader(source);
  let members = 0;
  let globalPax = new Map<string, Uint8Array>();
  let pax: Map<string, Uint8Array> | null = null;
  let longName: Uint8Array | null = null;
  let longLink: Uint8Array | null = null;
  /** Unread data + padding of the previous member, and that padding (not counted as missing
   * data in a truncation error, so a skipped member's error reads as a read one's). */
  let pending = 0;
  let pendingPad = 0;
  let pendingPath: () => string = () => '';

  const checkTotal = () => {
    if (r.offset > limits.maxTarBytes) {
      throw new OciError('ELIMIT', `tar stream larger than maxTarBytes (${limits.maxTarBytes})`, {
        offset: r.offset,
      });
    }
  };
  const skip = async (n: number, path: () => string, padding = 0) => {
    while (n > 0) {
      const c = r.readSomeBuffered(n) ?? (await r.readSome(n));
      const missing = n > padding ? n - padding : n;
      if (!c)
        throw new OciError(
          'ETRUNCATED',
          `archive ends inside the data of a member (${missing} bytes missing)`,
          {
            path: path(),
            offset: r.offset,
          },
        );
      n -= c.length;
    }
    checkTotal();
  };
  const readAll = async (size: number, what: string): Promise<Uint8Array> => {
    if (size > limits.maxExtendedHeader) {
      throw new OciError(
        'ELIMIT',
        `${what} of ${size} bytes exceeds maxExtendedHeader (${limits.maxExtendedHeader})`,
        { offset: r.offset },
      );
    }
    const d = r.readBuffered(size) ?? (await r.read(size));
    if (!d) throw new OciError('ETRUNCATED', `archive ends inside a ${what}`, { offset: r.offset });
    const copy = d.slice();
    await skip(pad(size), () => '');
    return copy;
  };

  try {
    for (;;) {
      if (pending > 0) await skip(pending, pendingPath, pendingPad);
      pending = 0;
      pendingPad = 0;
      const at = r.offset;
      const h = r.readBuffered(BLOCK) ?? (await r.read(BLOCK));
      if (!h) {
        throw new OciError(
          'ETRUNCATED',
          r.offset === at ? 'archive ends without the end-of-archive blocks' : 'archive ends inside a header',
          { offset: at },
        );
      }
      if (isZeroBlock(h)) {
        // End of archive (one zero block suffices, as for GNU tar and mkfs). Drain the rest so
        // the caller's digest covers every byte of the blob.
        while (await r.readSome(1 << 20)) checkTotal();
        return;
      }
      if (!checksumOk(h, at))
        throw new OciError('EFORMAT', 'bad tar header checksum (not a tar archive, or corrupt)', {
          offset: at,
        });
      if (++members > limits.maxEntries)
        throw new OciError('ELIMIT', `more than maxEntries (${limits.maxEntries}) tar members`, {
          offset: at,
        });
      const type = String.fromCharCode(h[156]!);
      let size = parseNumber(h, 124, 12, 'size', at);

      if (type === 'x' || type === 'g') {
        const recs = parsePax(await readAll(size, 'PAX header'), at);
        if (type === 'g') globalPax = new Map([...globalPax, ...recs]);
        else pax = new Map([...(pax ?? []), ...recs]);
        continue;
      }
      if (type === 'L' || type === 'K') {
        const d = cstr(await readAll(size, `GNU long ${type === 'L' ? 'name' : 'link name'}`), 0, size);
        if (d.length > limits.maxPathBytes)
          throw new OciError('ELIMIT', `GNU long name longer than maxPathBytes (${limits.maxPathBytes})`, {
            offset: at,
          });
        if (type === 'L') longName = d;
        else longLink = d;
        continue;
      }
      // Records for this member: the global ones overridden by its own (copied only when both exist).
      const recs = pax === null ? globalPax : globalPax.size === 0 ? pax : new Map([...globalPax, ...pax]);
      pax = null;

      // Name: PAX path > GNU L > ustar prefix + "/" + name (prefix only in POSIX ustar headers).
      let name: Uint8Array;
      const paxPath = recs.get('path');
      if (paxPath) name = paxPath;
      else if (longName) name = longName;
      else {
        name = cstr(h, 0, 100);
        const posix = isUstarMagic(h);
        const prefix = posix ? cstr(h, 345, 155) : new Uint8Array(0);
        if (prefix.length) name = joinBytes(prefix, 0x2f, name);
      }
      const linkname = recs.get('linkpath') ?? longLink ?? cstr(h, 157, 100);
      longName = null;
      longLink = null;
      // The display name is for error messages only: decoded when one is thrown, from a copy
      // (the header may lie in a read buffer that is reused meanwhile: StreamOptions.recycle).
      const nameBytes = name.slice();
      const shownPath = () => utf8.decode(nameBytes);
      if (name.length > limits.maxPathBytes || linkname.length > limits.maxPathBytes) {
        throw new OciError('ELIMIT', `name longer than maxPathBytes (${limits.maxPathBytes})`, {
          path: shownPath().slice(0, 200),
          offset: at,
        });
      }

      const paxSize = recs.get('size');
      if (paxSize) size = decimal(paxSize, 'size', at);
      let storedSize = size;

      if (type === 'S') {
        // GNU sparse member: mkfs.erofs 1.9.3 skips it silently (the file is missing from
        // the image). Its data is the stored (non-hole) bytes; an "isextended" flag means
        // more sparse-map blocks follow the header (GNU tar's oldgnu format).
        let ext = h[482] !== 0;
        while (ext) {
          const e = await r.read(BLOCK);
          if (!e)
            throw new OciError('ETRUNCATED', 'archive ends inside a GNU sparse map', { offset: r.offset });
          ext = e[504] !== 0;
        }
        pending = size + pad(size);
        pendingPad = pad(size);
        pendingPath = shownPath;
        continue;
      }
      const kind = TYPE_KIND[type];
      if (!kind) {
        // Unknown typeflags are skipped, as mkfs does (rule 1).
        pending = size + pad(size);
        pendingPad = pad(size);
        pendingPath = shownPath;
        continue;
      }
      if (size > limits.maxMemberSize) {
        throw new OciError(
          'ELIMIT',
          `member of ${size} bytes exceeds maxMemberSize (${limits.maxMemberSize})`,
          { path: shownPath().slice(0, 200), offset: at },
        );
      }
      // Links, directories and devices carry no data in the image; a tar may still store
      // bytes for them (skipped). Only regular files' data is read.
      if (kind !== 'file') storedSize = size;

      let mtime = parseNumber(h, 136, 12, 'mtime', at);
      let mtimeNsec = 0;
      const paxMtime = recs.get('mtime');
      if (paxMtime) {
        const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(latin1.decode(paxMtime));
        if (!m) throw new OciError('EFORMAT', 'PAX mtime is not a number', { offset: at });
        mtime = Number(m[2]) * (m[1] ? -1 : 1);
        mtimeNsec = Number(((m[3] ?? '') + '000000000').slice(0, 9));
      }
      const xattrs: [string, Uint8Array][] = [];
      for (const [k, v] of recs.size === 0 ? [] : recs) {
        if (k.startsWith('SCHILY.xattr.')) xattrs.push([k.slice(13), v]);
        else if (k.startsWith('LIBARCHIVE.xattr.'))
          xattrs.push([percentDecode(k.slice(17)), base64Bytes(latin1.decode(v), at)]);
      }
      const uidRec = recs.get('uid');
      const gidRec = recs.get('gid');
      let remaining = storedSize;
      pending = storedSize + pad(storedSize);
      pendingPad = pad(storedSize);
      pendingPath = shownPath;
      const truncatedData = () =>
        new OciError('ETRUNCATED', `archive ends inside the data of a member (${remaining} bytes missing)`, {
          path: shownPath(),
          offset: r.offset,
        });
      const entry: TarEntry = {
        kind,
        name,
        linkname,
        mode: parseNumber(h, 100, 8, 'mode', at) & 0o7777,
        uid: uidRec ? decimal(uidRec, 'uid', at) : parseNumber(h, 108, 8, 'uid', at),
        gid: gidRec ? decimal(gidRec, 'gid', at) : parseNumber(h, 116, 8, 'gid', at),
        size,
        mtime,
        mtimeNsec,
        devmajor: kind === 'chr' || kind === 'blk' ? parseNumber(h, 329, 8, 'devmajor', at) : 0,
        devminor: kind === 'chr' || kind === 'blk' ? parseNumber(h, 337, 8, 'devminor', at) : 0,
        xattrs,
        offset: at,
        dataOffset: r.offset,
        async *data() {
          if (kind !== 'file') return;
          while (remaining > 0) {
            const c = await r.readSome(remaining);
            if (!c) throw truncatedData();
            remaining -= c.length;
            pending -= c.length;
            yield c;
          }
          checkTotal();
        },
        async eachChunk(sink) {
          if (kind !== 'file') return;
          while (remaining > 0) {
            const c = r.readSomeBuffered(remaining) ?? (await r.readSome(remaining));
            if (!c) throw truncatedData();
            remaining -= c.length;
            pending -= c.length;
            sink(c);
          }
          checkTotal();
        },
      };
      yield entry;
    }
  } catch (e) {
    await r.cancel().catch(() => undefined);
    throw e;
  }
}

function pad(n: number): number {
  return (BLOCK - (n % BLOCK)) % BLOCK;
}
