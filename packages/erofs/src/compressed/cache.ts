// A small LRU of decoded pclusters, keyed by extent index, so that sequential reads decode each
// pcluster once. Entries are promises so concurrent readers share one decode.

export class PclusterCache {
  private readonly map = new Map<number, { bytes: number; value: Promise<Uint8Array> }>();
  private bytes = 0;
  constructor(private readonly maxBytes: number) {}

  get(key: number, load: () => Promise<Uint8Array>, sizeHint: number): Promise<Uint8Array> {
    const hit = this.map.get(key);
    if (hit) {
      this.map.delete(key);
      this.map.set(key, hit);
      return hit.value;
    }
    const value = load();
    const entry = { bytes: sizeHint, value };
    this.map.set(key, entry);
    this.bytes += sizeHint;
    // failed decodes are not cached
    value.catch(() => {
      if (this.map.get(key) === entry) {
        this.map.delete(key);
        this.bytes -= entry.bytes;
      }
    });
    // evict least recently used, but always keep the newest entry
    for (const [k, e] of this.map) {
      if (this.bytes <= this.maxBytes || k === key) break;
      this.map.delete(k);
      this.bytes -= e.bytes;
    }
    return value;
  }
}
