/**
 * Queue depth from an egress-buffer histogram (Cumulus `nvswitch_histogram_interface_egress_buffer`,
 * bytes). A histogram tells how often the queue was in each depth range during the interval,
 * not how deep it is now, so the estimate is the *deepest range the queue reached*: the upper
 * bound of the highest bucket with a count above zero. When that bucket is the unbounded last
 * one, its lower bound (the last explicit bound) is used: an underestimate, but a true one.
 * An interval where no bucket counted anything gives no estimate.
 *
 * Cumulus exports these with delta temporality by default; cumulative histograms are turned
 * into per-interval bucket counts by the caller first (bucket by bucket, like any counter).
 */
export function queueDepthEstimate(bounds: readonly number[], counts: readonly number[]): number | undefined {
  for (let i = counts.length - 1; i >= 0; i--) {
    if (counts[i]! > 0) {
      if (i < bounds.length) return bounds[i]!;
      return bounds.length > 0 ? bounds[bounds.length - 1]! : undefined;
    }
  }
  return undefined;
}

/**
 * Mean queue depth over the interval from an egress-buffer histogram: each bucket's count
 * weighted by the middle of its range (0 to the first bound for the first bucket; the last
 * explicit bound, an underestimate, for the unbounded one). The buckets count time-spaced
 * samples, so this is a time-weighted mean, exact to within the bucket widths. An interval
 * where no bucket counted anything gives no estimate.
 */
export function queueMeanEstimate(bounds: readonly number[], counts: readonly number[]): number | undefined {
  let samples = 0;
  let weighted = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (n <= 0) continue;
    const upper = i < bounds.length ? bounds[i]! : bounds[bounds.length - 1] ?? 0;
    const lower = i === 0 ? 0 : i < bounds.length ? bounds[i - 1]! : upper;
    samples += n;
    weighted += n * ((lower + upper) / 2);
  }
  return samples > 0 ? weighted / samples : undefined;
}
