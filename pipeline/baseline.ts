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
  return medianInPlace(Float64Array.from(values), values.length);
}

/**
 * The median of the first `n` values of `a` (n > 0), reordering them. Selection, not a sort:
 * root-cause attribution takes ten medians of a 200-sample look-back per port and stall. NaN
 * never reaches here (rates of samples with a positive interval).
 */
export function medianInPlace(a: Float64Array, n: number): number {
  const mid = n >> 1;
  const upper = select(a, 0, n - 1, mid);
  if (n % 2 === 1) return upper;
  // After selecting `mid`, everything before it is no larger: the lower middle is their maximum.
  let lower = a[0]!;
  for (let i = 1; i < mid; i++) if (a[i]! > lower) lower = a[i]!;
  return (lower + upper) / 2;
}

/** Hoare's selection: puts the k-th smallest of a[lo..hi] at a[k], smaller ones before it, larger after. */
function select(a: Float64Array, lo: number, hi: number, k: number): number {
  while (hi > lo) {
    // Median of three as the pivot: sorted or constant runs (idle ports) stay linear.
    const m = (lo + hi) >> 1;
    const x = a[lo]!, y = a[m]!, z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}
