/** Bucket sums from the series queries → the points the API serves (rates and fractions). */
import type { GpuSeriesPoint, JobSeriesPoint, PortSeriesPoint } from '../core/store.js';
import { ROLLUP_ROW, rollupSecondsOf, type GpuFieldRow, type JobBucketRow, type PortBucketRow, type RollupRead, type RollupRow } from './series-queries.js';

/** x / y, or 0 when nothing was covered (a first sample has interval 0). */
const ratio = (x: number, y: number): number => (y > 0 ? x / y : 0);
/** Fractions can exceed 1 by counter jitter at interval edges; a fraction of time cannot. */
const fraction = (x: number, y: number): number => Math.min(1, ratio(x, y));
/** 10 ** digits, computed once: round runs for every value of every point. */
const SCALES = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];
const round = (v: number, digits = 6): number => Math.round(v * SCALES[digits]!) / SCALES[digits]!;

/**
 * A batch's rollup rows by port, at the port's place in rollupPortsOf (from 1): each read then
 * goes through its own port's rows only, not the whole batch's.
 */
export function rollupRowsByPort(rows: readonly RollupRow[]): RollupRow[][] {
  const byPort: RollupRow[][] = [];
  for (const row of rows) (byPort[row[ROLLUP_ROW.port]!] ??= []).push(row);
  return byPort;
}

/**
 * One read's points from its port's rollup rows (one row per second or minutes, or several
 * where parts are not merged yet), in one pass: the rows in its window summed into buckets of
 * `step_ms` starting at epoch-aligned multiples of the step, then the non-empty buckets in
 * time order. What the grouped query computes, sums and maxima alike.
 */
export function portPointsOfRollupRows(rows: readonly RollupRow[], read: RollupRead): PortSeriesPoint[] {
  const { from_s, to_s } = rollupSecondsOf(read);
  const step = read.step_ms;
  if (to_s <= from_s) return [];
  const first = Math.floor((from_s * 1000) / step);
  // The window spans at most a few thousand rollup rows (bucketsInClickHouse), each no longer than a step.
  const buckets = Math.floor((to_s * 1000 - 1) / step) - first + 1;
  // Per bucket: the maximum, then the 10 sums in ROLLUP_ROW order (row values 2, 3, then 5..12 at 3..10).
  const width = 11;
  const sums = new Float64Array(buckets * width);
  const seen = new Uint8Array(buckets);
  for (const row of rows) {
    const t_s = row[ROLLUP_ROW.t_s]!;
    if (t_s < from_s || t_s >= to_s) continue;
    const b = Math.floor((t_s * 1000) / step) - first;
    const at = b * width;
    seen[b] = 1;
    sums[at] = Math.max(sums[at]!, row[ROLLUP_ROW.queue_bytes_max]!);
    sums[at + 1] += row[ROLLUP_ROW.samples]!;
    sums[at + 2] += row[ROLLUP_ROW.interval_ms]!;
    for (let k = ROLLUP_ROW.queue_bytes_sum; k <= ROLLUP_ROW.down_samples; k++) sums[at + k - 2] += row[k]!;
  }
  const points: PortSeriesPoint[] = [];
  for (let b = 0; b < buckets; b++) {
    if (!seen[b]) continue;
    const at = b * width;
    const bucket: PortBucketRow = {
      t_ms: (first + b) * step,
      queue_bytes_max: sums[at]!,
      samples: sums[at + 1]!,
      interval_ms: sums[at + 2]!,
      queue_bytes_sum: sums[at + ROLLUP_ROW.queue_bytes_sum - 2]!,
      tx_bytes: sums[at + ROLLUP_ROW.tx_bytes - 2]!,
      ecn_marked_pkts: sums[at + ROLLUP_ROW.ecn_marked_pkts - 2]!,
      pfc_tx_pause_frames: sums[at + ROLLUP_ROW.pfc_tx_pause_frames - 2]!,
      pfc_rx_pause_us: sums[at + ROLLUP_ROW.pfc_rx_pause_us - 2]!,
      credit_stall_us: sums[at + ROLLUP_ROW.credit_stall_us - 2]!,
      link_errors: sums[at + ROLLUP_ROW.link_errors - 2]!,
      down_samples: sums[at + ROLLUP_ROW.down_samples - 2]!,
    };
    points.push(portPointOf(bucket));
  }
  return points;
}

export function portPointOf(row: PortBucketRow): PortSeriesPoint {
  const n = (v: number | string) => Number(v);
  const interval_ms = n(row.interval_ms);
  const seconds = interval_ms / 1000;
  const interval_us = interval_ms * 1000;
  const samples = n(row.samples);
  return {
    t_ms: n(row.t_ms),
    samples,
    queue_bytes_max: n(row.queue_bytes_max),
    queue_bytes_avg: round(ratio(n(row.queue_bytes_sum), samples), 3),
    tx_gbps: round(ratio(n(row.tx_bytes) * 8, seconds) / 1e9),
    ecn_marked_pkts_per_s: round(ratio(n(row.ecn_marked_pkts), seconds), 3),
    pfc_pause_fraction: round(fraction(n(row.pfc_rx_pause_us), interval_us)),
    pfc_tx_pause_frames: n(row.pfc_tx_pause_frames),
    credit_stall_fraction: round(fraction(n(row.credit_stall_us), interval_us)),
    link_errors: n(row.link_errors),
    down_samples: n(row.down_samples),
  };
}

/** Pivots (bucket, field) rows into one point per bucket. Rows arrive ordered by bucket. */
export function gpuPointsOf(rows: GpuFieldRow[]): GpuSeriesPoint[] {
  const points: GpuSeriesPoint[] = [];
  for (const row of rows) {
    const t_ms = Number(row.t_ms);
    let point = points[points.length - 1];
    if (!point || point.t_ms !== t_ms) points.push((point = { t_ms, samples: 0, metrics: {} }));
    point.metrics[row.field] = round(Number(row.value));
    // Scrapes carry most fields: the best-covered field counts the bucket's scrapes.
    point.samples = Math.max(point.samples, Number(row.samples));
  }
  return points;
}

export const jobPointOf = (row: JobBucketRow): JobSeriesPoint => ({
  t_ms: Number(row.t_ms),
  calls: Number(row.calls),
  duration_p50_us: Math.round(row.duration_q[0] ?? 0),
  duration_p99_us: Math.round(row.duration_q[1] ?? 0),
  duration_max_us: Number(row.duration_max_us),
  busbw_avg_gbs: round(Number(row.busbw_avg_gbs), 4),
  busbw_min_gbs: round(Number(row.busbw_min_gbs), 4),
});
