/**
 * The egress-buffer histogram that Spectrum switches export as
 * `nvswitch_histogram_interface_egress_buffer` (telemetry-formats.md §2.1): queue-depth samples
 * binned by explicit byte bounds. The ASIC samples the depth periodically; the fluid queue is
 * linear between events, so the exact time spent in each bin is known and one sample per µs is
 * counted, as a 1 µs sampler would see it.
 */

/** Bin upper bounds in bytes: empty-ish, then around the ECN and PFC regions of a 32 MB buffer. */
export const EGRESS_HISTOGRAM_BOUNDS: readonly number[] = [
  864, 65_536, 262_144, 819_200, 1_638_400, 3_276_800, 4_194_304, 8_388_608, 16_777_216,
];

/** Bin index of a depth. */
export function binOf(bytes: number): number {
  let b = 0;
  while (b < EGRESS_HISTOGRAM_BOUNDS.length && bytes > EGRESS_HISTOGRAM_BOUNDS[b]!) b++;
  return b;
}

/**
 * Adds `dt` µs of a queue moving linearly from q0 to q1 to the bins at `offset` in `bins`,
 * splitting the time where the trajectory crosses bin bounds.
 */
export function addLinearSegment(bins: Float64Array, offset: number, q0: number, q1: number, dt: number): void {
  const b0 = binOf(q0);
  const b1 = binOf(q1);
  if (b0 === b1 || q0 === q1) {
    bins[offset + b0]! += dt;
    return;
  }
  const lo = Math.min(q0, q1);
  const hi = Math.max(q0, q1);
  const span = hi - lo;
  const first = Math.min(b0, b1);
  const last = Math.max(b0, b1);
  for (let b = first; b <= last; b++) {
    const binLo = b === 0 ? -Infinity : EGRESS_HISTOGRAM_BOUNDS[b - 1]!;
    const binHi = b < EGRESS_HISTOGRAM_BOUNDS.length ? EGRESS_HISTOGRAM_BOUNDS[b]! : Infinity;
    const overlap = Math.min(hi, binHi) - Math.max(lo, binLo);
    if (overlap > 0) bins[offset + b]! += (dt * overlap) / span;
  }
}
