/**
 * The k largest groups by a per-group figure, ties in group order: what the trust model lists
 * of a domain's cross-image inodes (MAX_TRUST_INODES, MAX_TRUST_ROWS, TRUST_EXAMPLES), chosen
 * while the groups go by instead of sorting every one (a fleet has ~1M, a list shows 200).
 *
 * A binary heap of at most k group ids whose root is the smallest kept (the latest group among
 * equal figures): O(n log k), and most groups cost one comparison with the root.
 */
export class LargestGroups {
  private readonly heap: Int32Array;
  private size = 0;

  /** `bytes[group]`: the figure groups are ranked by (read when a group is added). */
  constructor(
    readonly k: number,
    private readonly bytes: Float64Array,
  ) {
    this.heap = new Int32Array(Math.max(0, k));
  }

  /**
   * Offers a group. Groups must come in ascending order: a group then ranks below every kept
   * group of equal figure, which is the order "ties in group order" wants.
   */
  add(group: number): void {
    const { heap, bytes } = this;
    if (this.size < this.k) {
      // Sift up: the new group is below (smaller than, or later than and equal to) every kept one.
      let at = this.size++;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (!this.below(group, heap[parent]!)) break;
        heap[at] = heap[parent]!;
        at = parent;
      }
      heap[at] = group;
      return;
    }
    if (this.k === 0 || !(bytes[group]! > bytes[heap[0]!]!)) return; // no larger than the smallest kept
    // Replace the root and sift down.
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= this.size) break;
      const right = left + 1;
      const child = right < this.size && this.below(heap[right]!, heap[left]!) ? right : left;
      if (!this.below(heap[child]!, group)) break;
      heap[at] = heap[child]!;
      at = child;
    }
    heap[at] = group;
  }

  /** Whether group a ranks below group b: a smaller figure, or an equal one and a later group. */
  private below(a: number, b: number): boolean {
    const x = this.bytes[a]!;
    const y = this.bytes[b]!;
    return x < y || (x === y && a > b);
  }

  /** The kept groups, largest figure first, ties in group order. */
  sorted(): number[] {
    const out = Array.from(this.heap.subarray(0, this.size));
    return out.sort((a, b) => this.bytes[b]! - this.bytes[a]! || a - b);
  }
}
