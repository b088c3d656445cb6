/**
 * A binary min-heap of table rows keyed by a Float64Array the owner keeps (key[row]), with each
 * row's place in the heap stored, so a row whose key changed moves, and a row leaves, in
 * O(log n). The fluid fabric keeps its flows' next-event times in one, so finding the next
 * event and the flows due costs the flows concerned, not a scan of every flow.
 */
export class RowHeap {
  /** The keys, by row (the owner swaps in its grown array). */
  keys: Float64Array;
  private heap = new Int32Array(256);
  /** Place of each row in `heap`, −1 for a row not in it. */
  private place = new Int32Array(256).fill(-1);
  size = 0;

  constructor(keys: Float64Array) {
    this.keys = keys;
  }

  /** Row with the smallest key, −1 when empty. */
  top(): number {
    return this.size > 0 ? this.heap[0]! : -1;
  }

  /** Puts `row` in at its key, or moves it after its key changed. */
  update(row: number): void {
    this.ensureRows(row + 1);
    const at = this.place[row]!;
    if (at < 0) {
      if (this.size === this.heap.length) this.heap = grown(this.heap, 2 * this.size, -1);
      this.heap[this.size] = row;
      this.place[row] = this.size++;
      this.siftUp(this.size - 1);
    } else if (!this.siftUp(at)) this.siftDown(at);
  }

  remove(row: number): void {
    const at = row < this.place.length ? this.place[row]! : -1;
    if (at < 0) return;
    this.place[row] = -1;
    const lastRow = this.heap[--this.size]!;
    if (at === this.size) return;
    this.heap[at] = lastRow;
    this.place[lastRow] = at;
    if (!this.siftUp(at)) this.siftDown(at);
  }

  /** Empties the heap, then holds `rows[0..count)` (after the owner moved its rows). */
  rebuild(rows: Int32Array, count: number): void {
    for (let i = 0; i < this.size; i++) this.place[this.heap[i]!] = -1;
    this.size = 0;
    if (this.heap.length < count) this.heap = new Int32Array(Math.max(count, 2 * this.heap.length));
    for (let i = 0; i < count; i++) {
      const row = rows[i]!;
      this.ensureRows(row + 1);
      this.heap[i] = row;
      this.place[row] = i;
    }
    this.size = count;
    for (let i = (count >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /**
   * Appends to `out` (from `count` on) every row whose key is at most `bound`, in no particular
   * order; returns the new count. Visits only those rows and their children.
   */
  collectAtMost(bound: number, out: Int32Array, count: number): number {
    if (this.size === 0 || !(this.keys[this.heap[0]!]! <= bound)) return count;
    const stack = this.stack.length >= this.size ? this.stack : (this.stack = new Int32Array(this.heap.length));
    let sp = 0;
    stack[sp++] = 0;
    while (sp > 0) {
      const i = stack[--sp]!;
      out[count++] = this.heap[i]!;
      const l = 2 * i + 1;
      if (l < this.size && this.keys[this.heap[l]!]! <= bound) stack[sp++] = l;
      if (l + 1 < this.size && this.keys[this.heap[l + 1]!]! <= bound) stack[sp++] = l + 1;
    }
    return count;
  }

  private stack = new Int32Array(256);

  private ensureRows(n: number): void {
    if (n > this.place.length) this.place = grown(this.place, Math.max(n, 2 * this.place.length), -1);
  }

  /** Moves the entry at i up while its key is below its parent's; true when it moved. */
  private siftUp(i: number): boolean {
    const { heap, place, keys } = this;
    const row = heap[i]!;
    const key = keys[row]!;
    const start = i;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pr = heap[parent]!;
      if (!(key < keys[pr]!)) break;
      heap[i] = pr;
      place[pr] = i;
      i = parent;
    }
    heap[i] = row;
    place[row] = i;
    return i !== start;
  }

  private siftDown(i: number): void {
    const { heap, place, keys } = this;
    const n = this.size;
    const row = heap[i]!;
    const key = keys[row]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && keys[heap[r]!]! < keys[heap[l]!]! ? r : l;
      const cr = heap[c]!;
      if (!(keys[cr]! < key)) break;
      heap[i] = cr;
      place[cr] = i;
      i = c;
    }
    heap[i] = row;
    place[row] = i;
  }
}

function grown(a: Int32Array, size: number, fill: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size).fill(fill);
  b.set(a);
  return b;
}
