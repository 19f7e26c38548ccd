/**
 * Manifests from UTF-8 bytes, pushed a piece at a time (a file read in chunks) or given whole:
 * the result and the errors of parseManifest on the whole decoded text, without ever holding
 * the whole file. NDJSON lines are taken as they complete: record lines as sharemap writes
 * them through NdjsonManifestParser.lineBytes (no decoding, no JSON.parse), any other line
 * decoded alone. Only a line cut by a piece boundary is copied. The JSON form (and anything
 * not starting with `{` after a BOM and ASCII whitespace) cannot be read a line at a time: its
 * bytes are kept and decoded whole at the end, as parseManifest needs them
 * (docs/manifest.md#reading-a-manifest-file).
 */
import type { Manifest } from './manifest-types.js';
import { asciiSliceable } from './manifest-fast-line.js';
import { NdjsonManifestParser, parseManifest, type ParseManifestOptions } from './manifest-parse.js';

/** Bytes decoded at a time for lines that cannot take the byte fast path (then cut at the next newline). */
export const MANIFEST_DECODE_CHUNK_BYTES = 1 << 20;

/** The default of ParseManifestOptions.maxLineLength (characters). */
const DEFAULT_MAX_LINE = 8 * 1024 * 1024;

/** What parseManifest's `trimStart()` skips that can be told from one byte: ASCII whitespace. */
const isAsciiSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

/** A copy (Node's Buffer#slice is a view, not a copy). */
const copyOf = (b: Uint8Array): Uint8Array => new Uint8Array(b);

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1 && parts[0]!.length === length) return parts[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * parseManifest of UTF-8 bytes given a piece at a time: `push()` each piece (the caller may
 * reuse a piece's memory once push returns), then `end()` for the manifest. Throws the
 * ManifestError parseManifest would throw on the whole text, at the piece where its line ends.
 */
export class ManifestBytesParser {
  private readonly opts: ParseManifestOptions;
  private readonly maxLine: number;
  private readonly chunkBytes: number;
  // ignoreBOM: each decode call starts a new stream; a BOM later in the bytes stays a character.
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  /** Until the form is known (sniff) and for the JSON form (whole): copies of the pieces so far. */
  private mode: 'sniff' | 'whole' | 'ndjson' = 'sniff';
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  /** Sniffing: where the first line starts (after a BOM; then after the whitespace once inLine), how far scanned. */
  private start = -1;
  private inLine = false;
  private firstByte = -1;
  private scanned = 0;
  private scanPiece = 0;
  private scanBase = 0;
  /** NDJSON: the start of a line that a piece boundary cut. */
  private carry: Uint8Array | null = null;
  private parser: NdjsonManifestParser | null = null;

  constructor(opts: ParseManifestOptions = {}, chunkBytes = MANIFEST_DECODE_CHUNK_BYTES) {
    this.opts = opts;
    this.maxLine = opts.maxLineLength ?? DEFAULT_MAX_LINE;
    this.chunkBytes = Math.max(1, chunkBytes);
  }

  push(piece: Uint8Array): this {
    if (piece.length === 0) return this;
    if (this.mode === 'ndjson') {
      this.feed(piece);
      return this;
    }
    this.held.push(copyOf(piece));
    this.heldBytes += piece.length;
    if (this.mode === 'sniff') this.sniff(false);
    return this;
  }

  end(): Manifest {
    if (this.mode === 'sniff') this.sniff(true);
    if (this.mode === 'whole') {
      const all = concat(this.held, this.heldBytes);
      this.held = [];
      return parseManifest(new TextDecoder().decode(all), this.opts);
    }
    // Text after the last "\n" is a line when not empty.
    if (this.carry) this.lines(this.carry, 0, this.carry.length, true);
    this.carry = null;
    return this.parser!.end();
  }

  /**
   * Whether the bytes are NDJSON, decided as soon as the first line after a BOM and ASCII
   * whitespace is complete (or longer than a line may be): a JSON object without `files`.
   * The held pieces are scanned once each (`scanned`), and joined only when the form is known.
   */
  private sniff(atEnd: boolean): void {
    if (!atEnd && this.heldBytes < 3) return;
    if (this.start < 0) {
      const head = concat(this.held, this.heldBytes).subarray(0, 3);
      this.start = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
      this.scanned = this.start;
    }
    // Past the whitespace to the first line's "{", then to its "\n": each held piece once.
    let newline = -1;
    while (this.scanPiece < this.held.length && newline < 0) {
      const piece = this.held[this.scanPiece]!;
      const base = this.scanBase;
      for (let at = Math.max(0, this.scanned - base); at < piece.length; at++) {
        const c = piece[at]!;
        if (!this.inLine) {
          if (isAsciiSpace(c)) continue;
          this.inLine = true;
          this.start = base + at;
          this.firstByte = c;
          if (c !== 0x7b /* { */) break;
        } else if (c === 0x0a) {
          newline = base + at;
          break;
        }
      }
      if (newline >= 0) break;
      this.scanned = base + piece.length;
      this.scanBase += piece.length;
      this.scanPiece++;
    }
    const decided =
      atEnd || newline >= 0 || this.firstByte !== 0x7b || this.heldBytes - this.start > this.maxLine;
    if (!this.inLine && !atEnd) return;
    if (!decided) return;
    const bytes = concat(this.held, this.heldBytes);
    const start = this.inLine ? this.start : bytes.length;
    let ndjson = false;
    if (bytes[start] === 0x7b) {
      const firstEnd = newline < 0 ? bytes.length : newline;
      if (firstEnd - start <= this.maxLine) {
        try {
          const first: unknown = JSON.parse(this.decoder.decode(bytes.subarray(start, firstEnd)));
          ndjson =
            typeof first === 'object' &&
            first !== null &&
            !Array.isArray(first) &&
            !Object.hasOwn(first, 'files');
        } catch {
          ndjson = false;
        }
      }
    }
    if (!ndjson) {
      this.held = [bytes];
      this.mode = 'whole';
      return;
    }
    this.mode = 'ndjson';
    this.held = [];
    this.heldBytes = 0;
    this.parser = new NdjsonManifestParser(this.opts);
    this.feed(bytes.subarray(start));
  }

  /** NDJSON bytes: every "\n" ends a line; the bytes after the last one wait for the next piece. */
  private feed(piece: Uint8Array): void {
    const b = asciiSliceable(piece);
    let pos = 0;
    if (this.carry) {
      const nl = b.indexOf(0x0a);
      if (nl < 0) {
        this.carry = concat([this.carry, b], this.carry.length + b.length);
        this.refuseLongCarry();
        return;
      }
      const line = asciiSliceable(concat([this.carry, b.subarray(0, nl)], this.carry.length + nl));
      this.carry = null;
      this.lines(line, 0, line.length, true);
      pos = nl + 1;
    }
    const last = b.lastIndexOf(0x0a);
    if (last >= pos) {
      this.lines(b, pos, last, false);
      pos = last + 1;
    }
    if (pos < b.length) {
      this.carry = copyOf(b.subarray(pos));
      this.refuseLongCarry();
    }
  }

  /**
   * The lines of b[pos, end): complete lines separated by "\n" (`end` is a line end; with
   * `alone`, [pos, end) is one line). Records that can never take the fast path (METABOX,
   * version 1) are decoded about chunkBytes at a time, cut at newlines (a newline byte never
   * occurs inside a multi-byte UTF-8 sequence).
   */
  private lines(b: Uint8Array, pos: number, end: number, alone: boolean): void {
    const p = this.parser!;
    while (pos <= end) {
      if (p.manifestHeader && !p.fastLines) {
        this.decodedLines(b, pos, end);
        return;
      }
      // After the header: the rest scanned in WebAssembly where the reader can
      // (manifest-line-wasm.ts); the lines the scan does not take are read one by one.
      if (!alone && p.manifestHeader && p.scannedLines(b, pos, end, (s, e) => this.oneLine(b, s, e))) return;
      const nl = alone ? -1 : b.indexOf(0x0a, pos);
      const lineEnd = nl < 0 || nl > end ? end : nl;
      this.oneLine(b, pos, lineEnd);
      pos = lineEnd + 1;
    }
  }

  /** The line b[start, end): from its bytes when the fast path takes it, else decoded. */
  private oneLine(b: Uint8Array, start: number, end: number): void {
    const p = this.parser!;
    if (!p.lineBytes(b, start, end)) p.line(this.decoder.decode(b.subarray(start, end)));
  }

  /** The "\n"-separated lines of b[pos, end] (one more line than newlines), decoded a chunk at a time. */
  private decodedLines(b: Uint8Array, pos: number, end: number): void {
    const p = this.parser!;
    while (true) {
      const cut = pos + this.chunkBytes >= end ? -1 : b.indexOf(0x0a, pos + this.chunkBytes - 1);
      const to = cut < 0 || cut > end ? end : cut;
      const text = this.decoder.decode(b.subarray(pos, to));
      let from = 0;
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', from)) {
        p.line(text.slice(from, i));
        from = i + 1;
      }
      p.line(text.slice(from));
      if (to === end) return;
      pos = to + 1;
    }
  }

  /**
   * A line cut by piece boundaries is held until its "\n"; past 3 bytes per allowed character
   * (UTF-8 never takes more per UTF-16 unit) it is too long whatever follows: it goes to the
   * parser now, which refuses it as it would the whole line, so a file without newlines is
   * never held.
   */
  private refuseLongCarry(): void {
    if (this.carry && this.carry.length > 3 * this.maxLine + 1) {
      const line = this.carry;
      this.carry = null;
      this.lines(line, 0, line.length, true);
    }
  }
}

/**
 * parseManifest of UTF-8 bytes (a manifest file as read), with the same result and errors: the
 * bytes given as one piece to ManifestBytesParser, so NDJSON is never one string of the whole
 * file beside its bytes (docs/benchmarks.md#scale-analyze-analysis-at-a-million-files).
 */
export function parseManifestBytes(
  bytes: Uint8Array,
  opts: ParseManifestOptions = {},
  chunkBytes = MANIFEST_DECODE_CHUNK_BYTES,
): Manifest {
  return new ManifestBytesParser(opts, chunkBytes).push(bytes).end();
}
