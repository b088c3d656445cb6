/**
 * Table rows a rate pass must revisit, each listed once (a stamp per row) until the pass takes
 * it. A row taken and marked again while the pass runs is listed again, after the rows the pass
 * took, hence room for twice the rows.
 */
export class DirtyRows {
  /** Listed rows, the first `count` of them valid. */
  rows: Int32Array;
  count = 0;
  private stamp: Uint8Array;

  constructor(capacity: number) {
    this.rows = new Int32Array(2 * capacity);
    this.stamp = new Uint8Array(capacity);
  }

  mark(row: number): void {
    if (this.stamp[row]) return;
    this.stamp[row] = 1;
    this.rows[this.count++] = row;
  }

  /** The pass takes `row`: a later mark lists it again. */
  take(row: number): void {
    this.stamp[row] = 0;
  }

  /** Drops the first `n` listed rows (taken by a pass); rows listed since move to the front. */
  dropFirst(n: number): void {
    this.rows.copyWithin(0, n, this.count);
    this.count -= n;
  }

  /** Unlists every row. */
  clear(): void {
    for (let i = 0; i < this.count; i++) this.stamp[this.rows[i]!] = 0;
    this.count = 0;
  }

  /** Room for `capacity` rows, keeping what is listed. */
  grow(capacity: number): void {
    const rows = new Int32Array(2 * capacity);
    rows.set(this.rows);
    this.rows = rows;
    const stamp = new Uint8Array(capacity);
    stamp.set(this.stamp);
    this.stamp = stamp;
  }
}
