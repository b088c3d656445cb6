/**
 * Time-series queries, downsampled in ClickHouse to the caller's step: buckets start at
 * epoch-aligned multiples of the step (toStartOfInterval), windows are [from, to). Every
 * user value is a bound parameter. Buckets come back as sums; ratios and rates are derived
 * from the sums (seriesPoints.ts), so raw samples and rollups give the same numbers.
 */
import type { SeriesResolution, SeriesWindow } from '../core/store.js';
import type { BoundQuery } from './stall-query.js';

/**
 * Which table answers a port series: the coarsest rollup whose rows fit whole in every bucket
 * (then it reads 10×, 100×, 600× or 3,000× fewer rows than raw 100 ms samples), raw samples otherwise.
 */
export function seriesResolutionFor(w: SeriesWindow): SeriesResolution {
  if (w.step_ms % 300_000 === 0) return '5m';
  if (w.step_ms % 60_000 === 0) return '1m';
  if (w.step_ms % 10_000 === 0) return '10s';
  if (w.step_ms % 1000 === 0) return '1s';
  return 'raw';
}

const windowParams = (w: SeriesWindow) => ({ from_ms: w.from_ms, to_ms: w.to_ms, step_ms: w.step_ms });
const inWindow = (column: string) =>
  `${column} >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC') AND ${column} < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')`;
const bucketMs = (column: string) =>
  `toUnixTimestamp64Milli(toStartOfInterval(${column}, toIntervalMillisecond({step_ms:UInt32})))`;

/** One bucket of port telemetry as sums, whatever table it came from. */
export interface PortBucketRow {
  t_ms: number | string;
  samples: number | string;
  interval_ms: number | string;
  queue_bytes_max: number | string;
  queue_bytes_sum: number | string;
  tx_bytes: number | string;
  ecn_marked_pkts: number | string;
  pfc_tx_pause_frames: number | string;
  pfc_rx_pause_us: number | string;
  credit_stall_us: number | string;
  link_errors: number | string;
  down_samples: number | string;
}

export type RollupResolution = Exclude<SeriesResolution, 'raw'>;

/** The table of each rollup (migrations 0003, 0007 and 0009). */
const ROLLUP_TABLES: Record<RollupResolution, string> = {
  '1s': 'port_samples_1s',
  '10s': 'port_samples_10s',
  '1m': 'port_samples_1m',
  '5m': 'port_samples_5m',
};

/** Milliseconds of window per rollup row, and the most a window may span to be bucketed here. */
const ROLLUP_ROW_MS: Record<RollupResolution, number> = { '1s': 1000, '10s': 10_000, '1m': 60_000, '5m': 300_000 };
const MAX_ROLLUP_ROWS_BUCKETED_IN_NODE = 4000;

/**
 * Whether a port series is bucketed by ClickHouse (GROUP BY) or here from the rollup rows
 * themselves (portRollupRowsQuery, then portBucketsOf). For a window of a few thousand rollup
 * rows, handing over the rows costs the engine less than grouping them (measured ~7 vs ~15 ms
 * a query under load, and chDB runs one bound query at a time), and the reads of concurrent
 * requests can share one query; beyond that the grouped answer is the smaller one.
 */
export function bucketsInClickHouse(w: SeriesWindow, resolution: SeriesResolution): boolean {
  if (resolution === 'raw') return true;
  return (w.to_ms - w.from_ms) / ROLLUP_ROW_MS[resolution] > MAX_ROLLUP_ROWS_BUCKETED_IN_NODE;
}

/** One port's series over a window from rollup rows: what portRollupRowsQuery reads for it. */
export interface RollupRead {
  port: string;
  from_ms: number;
  to_ms: number;
  step_ms: number;
}

/**
 * A rollup row as portRollupRowsQuery returns it: numbers only, in ROLLUP_ROW order. The port
 * is its 1-based place in rollupPortsOf(reads) (no name repeated per row), the time is the
 * start of its second or minutes in epoch seconds.
 */
export type RollupRow = readonly number[];

/** Where each value sits in a RollupRow; after `port` and `t_s`, the sums and the maximum. */
export const ROLLUP_ROW = {
  port: 0,
  t_s: 1,
  samples: 2,
  interval_ms: 3,
  queue_bytes_max: 4,
  queue_bytes_sum: 5,
  tx_bytes: 6,
  ecn_marked_pkts: 7,
  pfc_tx_pause_frames: 8,
  pfc_rx_pause_us: 9,
  credit_stall_us: 10,
  link_errors: 11,
  down_samples: 12,
} as const;

/** The distinct ports of a batch of reads, in first-read order: what a RollupRow's `port` indexes (from 1). */
export const rollupPortsOf = (reads: readonly RollupRead[]): string[] => [...new Set(reads.map((r) => r.port))];

/** Rollup rows whose start lies in [from, to): whole seconds from the first at or after `from`. */
export const rollupSecondsOf = (r: { from_ms: number; to_ms: number }) => ({
  from_s: Math.floor((r.from_ms + 999) / 1000),
  to_s: Math.floor((r.to_ms + 999) / 1000),
});

/**
 * The rollup rows of several reads in one query: one condition per read on the key columns
 * (the index narrows each to its own granules), rows told apart by port and time afterwards
 * (portPointsOfRollupRows). Parameter names carry the read's index. Read as JSONCompact:
 * numbers only, a third of the bytes of JSONEachRow objects and one parse for the batch.
 */
export function portRollupRowsQuery(resolution: RollupResolution, reads: readonly RollupRead[]): BoundQuery {
  const table = ROLLUP_TABLES[resolution];
  const params: Record<string, unknown> = { ports: rollupPortsOf(reads) };
  const conditions = reads.map((r, i) => {
    params[`port_${i}`] = r.port;
    params[`from_ms_${i}`] = r.from_ms;
    params[`to_ms_${i}`] = r.to_ms;
    return `(port = {port_${i}:String}
        AND ts >= toDateTime(intDiv({from_ms_${i}:Int64} + 999, 1000), 'UTC')
        AND ts < toDateTime(intDiv({to_ms_${i}:Int64} + 999, 1000), 'UTC'))`;
  });
  return {
    query: `SELECT indexOf({ports:Array(String)}, port), toUInt32(ts), samples, interval_ms, queue_bytes_max, queue_bytes_sum, tx_bytes,
       ecn_marked_pkts, pfc_tx_pause_frames, pfc_rx_pause_us, credit_stall_us, link_errors, down_samples
     FROM ${table}
     WHERE ${conditions.join('\n        OR ')}`,
    query_params: params,
    // A few granules per read: one thread reads them with ~15-30 % less CPU than the default
    // pool splitting them (measured on the benchmark's day), and chDB runs one read at a time anyway.
    settings: 'max_threads = 1',
  };
}

export function portSeriesQuery(port: string, w: SeriesWindow, resolution: SeriesResolution): BoundQuery {
  const params = { ...windowParams(w), port };
  if (resolution === 'raw') {
    return {
      query: `SELECT ${bucketMs('ts')} AS t_ms,
         count() AS samples,
         sum(interval_ms) AS interval_ms,
         max(queue_bytes) AS queue_bytes_max,
         sum(queue_bytes) AS queue_bytes_sum,
         sum(tx_bytes) AS tx_bytes,
         sum(ecn_marked_pkts) AS ecn_marked_pkts,
         sum(pfc_tx_pause_frames) AS pfc_tx_pause_frames,
         sum(pfc_rx_pause_us) AS pfc_rx_pause_us,
         sum(credit_stall_us) AS credit_stall_us,
         sum(link_errors) AS link_errors,
         countIf(NOT oper_up) AS down_samples
       FROM port_samples
       WHERE port = {port:String} AND ${inWindow('ts')}
       GROUP BY t_ms
       ORDER BY t_ms`,
      query_params: params,
    };
  }
  // Rollup rows are already sums per second or minutes; sums of sums stay exact. Their `ts`
  // is a DateTime (seconds), widened so the same bucketing expression applies.
  const table = ROLLUP_TABLES[resolution];
  return {
    query: `SELECT ${bucketMs("toDateTime64(ts, 3, 'UTC')")} AS t_ms,
       sum(samples) AS samples,
       sum(interval_ms) AS interval_ms,
       max(queue_bytes_max) AS queue_bytes_max,
       sum(queue_bytes_sum) AS queue_bytes_sum,
       sum(tx_bytes) AS tx_bytes,
       sum(ecn_marked_pkts) AS ecn_marked_pkts,
       sum(pfc_tx_pause_frames) AS pfc_tx_pause_frames,
       sum(pfc_rx_pause_us) AS pfc_rx_pause_us,
       sum(credit_stall_us) AS credit_stall_us,
       sum(link_errors) AS link_errors,
       sum(down_samples) AS down_samples
     FROM ${table}
     WHERE port = {port:String}
       -- buckets whose start lies in [from, to), on the bare key column so the index applies
       AND ts >= toDateTime(intDiv({from_ms:Int64} + 999, 1000), 'UTC')
       AND ts < toDateTime(intDiv({to_ms:Int64} + 999, 1000), 'UTC')
     GROUP BY t_ms
     ORDER BY t_ms`,
    query_params: params,
  };
}

export interface GpuFieldRow {
  t_ms: number | string;
  field: string;
  value: number;
  samples: number | string;
}

/** One row per bucket and DCGM field (the fields vary by exporter, hence no fixed columns). */
export function gpuSeriesQuery(gpu: string, w: SeriesWindow, fields?: string[]): BoundQuery {
  const params: Record<string, unknown> = { ...windowParams(w), gpu };
  let fieldFilter = '';
  if (fields && fields.length > 0) {
    fieldFilter = 'AND field IN {fields:Array(String)}';
    params.fields = fields;
  }
  return {
    query: `SELECT ${bucketMs('ts')} AS t_ms, field, avg(value) AS value, count() AS samples
       FROM gpu_samples
       ARRAY JOIN mapKeys(metrics) AS field, mapValues(metrics) AS value
       WHERE gpu = {gpu:String} AND ${inWindow('ts')} ${fieldFilter}
       GROUP BY t_ms, field
       ORDER BY t_ms, field`,
    query_params: params,
  };
}

export interface JobBucketRow {
  t_ms: number | string;
  calls: number | string;
  duration_q: number[];
  duration_max_us: number | string;
  busbw_avg_gbs: number;
  busbw_min_gbs: number;
}

/**
 * Per collective call first (its duration is last rank's end − first rank's start, its busbw
 * the mean over ranks), then per bucket of call start: how long calls took and how fast. The
 * calls come from the per-call rollup (migration 0006), re-aggregated because one call's rows
 * may not be merged yet; a call counts in the window its first rank started in. Rows are
 * bucketed by the hour their ranks started, so the hour before `from` is read too: a call
 * that began just before an hour boundary may have ranks filed under the next hour.
 */
export function jobSeriesQuery(job: string, w: SeriesWindow): BoundQuery {
  return {
    query: `SELECT ${bucketMs('call_start')} AS t_ms,
         count() AS calls,
         quantiles(0.5, 0.99)(duration_us) AS duration_q,
         max(duration_us) AS duration_max_us,
         avg(busbw) AS busbw_avg_gbs,
         min(busbw) AS busbw_min_gbs
       FROM
       (
         SELECT comm_id, seq,
                min(start) AS call_start,
                toUnixTimestamp64Micro(max(end)) - toUnixTimestamp64Micro(min(start)) AS duration_us,
                sum(busbw_sum) / sum(events) AS busbw
         FROM collective_calls
         WHERE job = {job:String}
           AND hour >= toStartOfHour(fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')) - INTERVAL 1 HOUR
           AND hour < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
         GROUP BY comm_id, seq
         HAVING ${inWindow('call_start')}
       )
       GROUP BY t_ms
       ORDER BY t_ms`,
    query_params: { ...windowParams(w), job },
  };
}
