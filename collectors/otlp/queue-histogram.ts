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
