/**
 * "Now" views over telemetry: each port's latest sample and the jobs seen in a window. Both
 * are bounded by a time window, so they read recent parts only, never the whole history.
 */
import type { JobView, PortState, TimeWindow } from '../core/store.js';
import type { BoundQuery } from './stall-query.js';

const window = (w: TimeWindow) => ({ from_ms: w.from_ms, to_ms: w.to_ms });
const inWindow = (column: string) =>
  `${column} >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC') AND ${column} < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')`;

export interface PortStateRow {
  port: string;
  device: string;
  last_seen_ms: number | string;
  oper_up: boolean | number;
  interval_ms: number | string;
  queue_bytes: number | string;
  tx_bytes: number | string;
  ecn_marked_pkts: number | string;
  pfc_rx_pause_us: number | string;
  credit_stall_us: number | string;
  link_errors: number | string;
}

export function portStatesQuery(w: TimeWindow): BoundQuery {
  return {
    // One pass: each port's newest sample in the window, every field taken from that sample
    // (argMax of one tuple). The samples are sorted by port first, so a window across all
    // ports reads a granule of each port anyway; reading them once, not twice (latest
    // timestamps, then the rows), halves the work.
    query: `SELECT port, latest.1 AS device, toUnixTimestamp64Milli(latest.2) AS last_seen_ms, latest.3 AS oper_up,
              latest.4 AS interval_ms, latest.5 AS queue_bytes, latest.6 AS tx_bytes, latest.7 AS ecn_marked_pkts,
              latest.8 AS pfc_rx_pause_us, latest.9 AS credit_stall_us, latest.10 AS link_errors
       FROM
       (
         SELECT port,
                argMax((device, ts, oper_up, interval_ms, queue_bytes, tx_bytes, ecn_marked_pkts, pfc_rx_pause_us,
                        credit_stall_us, link_errors), ts) AS latest
         FROM port_samples
         WHERE ${inWindow('ts')}
         GROUP BY port
       )`,
    query_params: window(w),
  };
}

const ratio = (x: number, y: number): number => (y > 0 ? x / y : 0);
const round = (v: number): number => Math.round(v * 1e6) / 1e6;

export function portStateOf(row: PortStateRow): PortState {
  const interval_ms = Number(row.interval_ms);
  return {
    port: row.port,
    device: row.device,
    last_seen_ms: Number(row.last_seen_ms),
    oper_up: Boolean(row.oper_up),
    queue_bytes: Number(row.queue_bytes),
    tx_gbps: round(ratio(Number(row.tx_bytes) * 8, interval_ms / 1000) / 1e9),
    ecn_marked_pkts_per_s: round(ratio(Number(row.ecn_marked_pkts), interval_ms / 1000)),
    pfc_pause_fraction: round(Math.min(1, ratio(Number(row.pfc_rx_pause_us), interval_ms * 1000))),
    credit_stall_fraction: round(Math.min(1, ratio(Number(row.credit_stall_us), interval_ms * 1000))),
    link_errors: Number(row.link_errors),
  };
}

export interface JobRow {
  job: string;
  n_ranks: number | string;
  placement: Array<[number | string, string]>;
  collectives: string[];
  calls: number | string;
  first_ms: number | string;
  last_ms: number | string;
  busbw_avg_gbs: number;
}

/** At most this many ranks in a placement; larger jobs are listed up to it. */
export const MAX_PLACEMENT_RANKS = 8192;

export function jobsQuery(w: TimeWindow): BoundQuery {
  return {
    query: `SELECT job,
         max(n_ranks) AS n_ranks,
         arraySort(x -> x.1, groupUniqArray(${MAX_PLACEMENT_RANKS})((rank, host))) AS placement,
         arraySort(groupUniqArray(32)(collective)) AS collectives,
         uniqExact(comm_id, seq) AS calls,
         toUnixTimestamp64Milli(min(start)) AS first_ms,
         toUnixTimestamp64Milli(max(end)) AS last_ms,
         avg(busbw_gbs) AS busbw_avg_gbs
       FROM collective_events
       WHERE ${inWindow('start')}
       GROUP BY job
       ORDER BY job`,
    query_params: window(w),
  };
}

export const jobOf = (row: JobRow): JobView => ({
  job: row.job,
  n_ranks: Number(row.n_ranks),
  placement: row.placement.map(([rank, host]) => ({ rank: Number(rank), host })),
  collectives: row.collectives,
  calls: Number(row.calls),
  first_ms: Number(row.first_ms),
  last_ms: Number(row.last_ms),
  busbw_avg_gbs: Math.round(Number(row.busbw_avg_gbs) * 1e4) / 1e4,
});
