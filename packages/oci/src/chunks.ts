/**
 * Pull-style reading of an async stream of byte chunks: exact-length reads for headers,
 * pass-through sub-arrays for member data (no copy unless a read spans two chunks).
 * Tracks the stream offset for error locations.
 */
export class ChunkReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private done = false;
  /** Bytes consumed so far (offset of the next byte). */
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private get buffered(): number {
    return this.buf.length - this.pos;
  }

  /** Make at least `n` bytes available; false when the stream ends first. */
  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n) {
      if (this.done) return false;
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        return false;
      }
      const chunk = r.value;
      if (chunk.length === 0) continue;
      if (this.buffered === 0) {
        this.buf = chunk;
        this.pos = 0;
      } else {
        const joined = new Uint8Array(this.buffered + chunk.length);
        joined.set(this.buf.subarray(this.pos));
        joined.set(chunk, this.buffered);
        this.buf = joined;
        this.pos = 0;
      }
    }
    return true;
  }

  /**
   * Exactly `n` bytes when they are already buffered, else null (nothing consumed): the
   * synchronous fast path of `read`. Most tar headers and small members lie inside the current
   * chunk, and an await per header costs more than parsing it (docs/benchmarks.md#oci-predicting-from-a-docker-save-archive).
   */
  readBuffered(n: number): Uint8Array | null {
    if (this.buffered < n) return null;
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.offset += n;
    return out;
  }

  /** Up to `max` buffered bytes without waiting, or null when none is buffered: the fast path of `readSome`. */
  readSomeBuffered(max: number): Uint8Array | null {
    if (this.buffered === 0) return null;
    const n = Math.min(max, this.buffered);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.offset += n;
    return out;
  }

  /** Exactly `n` bytes, or null when fewer remain (the remainder is consumed). */
  async read(n: number): Promise<Uint8Array | null> {
    if (!(await this.fill(n))) {
      this.offset += this.buffered;
      this.pos = this.buf.length;
      return null;
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.offset += n;
    return out;
  }

  /** Up to `max` bytes (at least 1), or null at the end of the stream. */
  async readSome(max: number): Promise<Uint8Array | null> {
    if (this.buffered === 0 && !(await this.fill(1))) return null;
    const n = Math.min(max, this.buffered);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.offset += n;
    return out;
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  /** Stop the underlying iterator (closes files / streams early on errors). */
  async cancel(): Promise<void> {
    this.done = true;
    await this.it.return?.();
  }
}
