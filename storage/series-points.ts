/** Bucket sums from the series queries → the points the API serves (rates and fractions). */
import type { GpuSeriesPoint, JobSeriesPoint, PortSeriesPoint } from '../core/store.js';
import { rollupSecondsOf, type GpuFieldRow, type JobBucketRow, type PortBucketRow, type PortRollupRow, type RollupRead } from './series-queries.js';

/** x / y, or 0 when nothing was covered (a first sample has interval 0). */
const ratio = (x: number, y: number): number => (y > 0 ? x / y : 0);
/** Fractions can exceed 1 by counter jitter at interval edges; a fraction of time cannot. */
const fraction = (x: number, y: number): number => Math.min(1, ratio(x, y));
const round = (v: number, digits = 6): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** The rows of one read among those a batched rollup query returned (the query's own window test). */
export function rollupRowsOf(rows: readonly PortRollupRow[], read: RollupRead): PortRollupRow[] {
  const { from_s, to_s } = rollupSecondsOf(read);
  return rows.filter((r) => r.port === read.port && Number(r.t_ms) >= from_s * 1000 && Number(r.t_ms) < to_s * 1000);
}

/**
 * Rollup rows (one per port and second or minute, or several where parts are not merged yet)
 * into buckets of `step_ms` starting at epoch-aligned multiples of the step, in time order:
 * what the grouped query computes, sums and maxima alike.
 */
export function portBucketsOf(rows: PortBucketRow[], step_ms: number): PortBucketRow[] {
  const buckets = new Map<number, PortBucketRow>();
  for (const row of rows) {
    const t_ms = Math.floor(Number(row.t_ms) / step_ms) * step_ms;
    const b = buckets.get(t_ms);
    if (!b) {
      buckets.set(t_ms, { ...row, t_ms });
      continue;
    }
    b.queue_bytes_max = Math.max(Number(b.queue_bytes_max), Number(row.queue_bytes_max));
    for (const key of SUMMED) b[key] = Number(b[key]) + Number(row[key]);
  }
  return [...buckets.values()].sort((a, b) => Number(a.t_ms) - Number(b.t_ms));
}

const SUMMED = [
  'samples',
  'interval_ms',
  'queue_bytes_sum',
  'tx_bytes',
  'ecn_marked_pkts',
  'pfc_tx_pause_frames',
  'pfc_rx_pause_us',
  'credit_stall_us',
  'link_errors',
  'down_samples',
] as const satisfies ReadonlyArray<keyof PortBucketRow>;

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
