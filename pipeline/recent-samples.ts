/**
 * A bounded, per-key history of timestamped records (port samples per port, GPU samples per
 * GPU) kept for the root-cause engine, which looks back over a stall's window. Bounded by
 * event-time retention, not by count, so the memory follows the look-back the analysis needs.
 */
/** Share of the retention the cutoff must move before prune() passes over every key again. */
const PRUNE_STEP_SHARE = 0.1;

export class RecentSamples<T> {
  private readonly byKey = new Map<string, T[]>();
  /** Cutoff of the last pass over every key. */
  private prunedTo = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly tsOf: (r: T) => number,
    readonly retentionMs: number,
  ) {}

  /** Adds a record; keeps each key's list sorted by time (late records are inserted in place). */
  add(key: string, record: T): void {
    let list = this.byKey.get(key);
    if (!list) this.byKey.set(key, (list = []));
    const ts = this.tsOf(record);
    let i = list.length;
    while (i > 0 && this.tsOf(list[i - 1]!) > ts) i--;
    list.splice(i, 0, record);
  }

  /** Records of `key` with `from < ts <= to`. */
  window(key: string, from: number, to: number): T[] {
    const list = this.byKey.get(key);
    if (!list) return [];
    const out: T[] = [];
    for (let i = this.firstAfter(list, from); i < list.length && this.tsOf(list[i]!) <= to; i++) out.push(list[i]!);
    return out;
  }

  /**
   * Records of `key` with `from < ts <= through`, then the first one after `through` if it is
   * no later than `limit`: what was seen up to a moment plus the next reading after it. Once
   * the key's source has shown a record after `through`, the answer can no longer change.
   */
  windowThroughNext(key: string, from: number, through: number, limit: number): T[] {
    const list = this.byKey.get(key);
    if (!list) return [];
    const out: T[] = [];
    let i = this.firstAfter(list, from);
    for (; i < list.length && this.tsOf(list[i]!) <= through; i++) out.push(list[i]!);
    if (i < list.length && this.tsOf(list[i]!) <= limit) out.push(list[i]!);
    return out;
  }

  /** Index of the first record with ts > t (lists are sorted). */
  private firstAfter(list: readonly T[], t: number): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.tsOf(list[mid]!) > t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  /**
   * Drops what is older than the retention behind `watermark`, once the cutoff has moved a tenth
   * of the retention since the last pass: a pass reads every key (28 k lists at 4,096 GPUs), and
   * it was made for every batch. Windows are bounded by their own times, so what is kept a little
   * longer changes no answer.
   */
  prune(watermark: number): void {
    const cutoff = watermark - this.retentionMs;
    if (cutoff < this.prunedTo + PRUNE_STEP_SHARE * this.retentionMs) return;
    this.prunedTo = cutoff;
    for (const [key, list] of this.byKey) {
      let n = 0;
      while (n < list.length && this.tsOf(list[n]!) < cutoff) n++;
      if (n > 0) list.splice(0, n);
      if (list.length === 0) this.byKey.delete(key);
    }
  }

  get size(): number {
    let n = 0;
    for (const list of this.byKey.values()) n += list.length;
    return n;
  }
}
