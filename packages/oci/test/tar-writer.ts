/** A small ustar/PAX/GNU tar writer for synthesising test cases (headers exactly as specified). */
const enc = new TextEncoder();

export interface W {
  name: string | Uint8Array;
  type?: string; // typeflag, default '0'
  data?: Uint8Array | string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string | Uint8Array;
  /** Size written in the header when it must differ from the data (huge synthesised members). */
  size?: number;
  dev?: [number, number];
  magic?: 'ustar' | 'gnu';
  /** Raw header field overrides: [offset, bytes]. */
  raw?: [number, Uint8Array][];
}

const bytes = (x: string | Uint8Array | undefined): Uint8Array =>
  x === undefined ? new Uint8Array(0) : typeof x === 'string' ? enc.encode(x) : x;

function octal(h: Uint8Array, off: number, len: number, v: number) {
  h.set(enc.encode(v.toString(8).padStart(len - 1, '0')), off);
}

export function header(w: W): Uint8Array {
  const h = new Uint8Array(512);
  const name = bytes(w.name);
  h.set(name.subarray(0, 100), 0);
  octal(h, 100, 8, w.mode ?? 0o644);
  octal(h, 108, 8, w.uid ?? 0);
  octal(h, 116, 8, w.gid ?? 0);
  const size = w.size ?? bytes(w.data).length;
  if (size >= 8 ** 11) {
    // GNU base-256
    h[124] = 0x80;
    let v = size;
    for (let i = 135; i > 124; i--) {
      h[i] = v % 256;
      v = Math.floor(v / 256);
    }
  } else octal(h, 124, 12, size);
  octal(h, 136, 12, w.mtime ?? 1600000000);
  h[156] = (w.type ?? '0').charCodeAt(0);
  h.set(bytes(w.linkname).subarray(0, 100), 157);
  if (w.magic === 'gnu') h.set(enc.encode('ustar  \0'), 257);
  else h.set(enc.encode('ustar\x0000'), 257);
  if (w.dev) {
    octal(h, 329, 8, w.dev[0]);
    octal(h, 337, 8, w.dev[1]);
  }
  for (const [off, b] of w.raw ?? []) h.set(b, off);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.set(enc.encode(sum.toString(8).padStart(6, '0') + '\0 '), 148);
  return h;
}

function padded(d: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(d.length / 512) * 512);
  out.set(d);
  return out;
}

export function member(w: W): Uint8Array[] {
  return [header(w), padded(bytes(w.data))];
}

export function paxRecords(recs: [string, string | Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [k, v] of recs) {
    const body = [enc.encode(' ' + k + '='), bytes(v), enc.encode('\n')];
    const bodyLen = body.reduce((s, b) => s + b.length, 0);
    let len = bodyLen + 1;
    while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
    parts.push(enc.encode(String(len)), ...body);
  }
  return concat(parts);
}

export function pax(recs: [string, string | Uint8Array][], w: W): Uint8Array[] {
  return [...member({ name: 'PaxHeader', type: 'x', data: paxRecords(recs) }), ...member(w)];
}

export function gnuLong(type: 'L' | 'K', name: string | Uint8Array): Uint8Array[] {
  const b = bytes(name);
  const d = new Uint8Array(b.length + 1);
  d.set(b);
  return member({ name: '././@LongLink', type, data: d, magic: 'gnu' });
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let p = 0;
  for (const x of parts) {
    out.set(x, p);
    p += x.length;
  }
  return out;
}

/** A complete tar: members, then two zero blocks. */
export function tar(...members: Uint8Array[][]): Uint8Array {
  return concat([...members.flat(), new Uint8Array(1024)]);
}
