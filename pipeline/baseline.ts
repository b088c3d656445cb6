/**
 * A learned baseline: the rolling median of a job's recent healthy values. Median, not mean,
 * so a few slow calls that slipped under the stall threshold do not drag it up; rolling, so it
 * follows slow legitimate drift (message size mixes, background load).
 */

/** Calls that only teach the baseline before any can be judged: NCCL's first calls include warm-up (connection setup, buffer registration) and vary. */
export const BASELINE_WARMUP_CALLS = 20;
/** Healthy calls the median runs over. */
export const BASELINE_WINDOW = 50;

export class RollingMedian {
  private readonly values: number[] = [];
  private learned = 0;

  constructor(private readonly window = BASELINE_WINDOW) {}

  add(v: number): void {
    this.values.push(v);
    this.learned++;
    if (this.values.length > this.window) this.values.shift();
  }

  /** Values learned so far (not capped by the window). */
  get count(): number {
    return this.learned;
  }

  median(): number | undefined {
    return median(this.values);
  }

  /** Median absolute deviation from the median: the spread, robust to the odd outlier. */
  mad(): number | undefined {
    const m = median(this.values);
    return m === undefined ? undefined : median(this.values.map((v) => Math.abs(v - m)));
  }
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  // A typed array sorts numerically without a comparator call per step: root-cause attribution
  // takes many medians of look-back windows per stall.
  const s = Float64Array.from(values).sort();
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
