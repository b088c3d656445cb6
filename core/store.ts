/**
 * The storage seam. The sink writes canonical records through it, the API reads through it.
 * One implementation (storage/clickhouse-store.ts) runs the same DDL and queries on embedded
 * chDB and on a ClickHouse server; nothing outside storage/ sees SQL.
 */
import type { Alert, AlertState, Stall, StoredRecords, Topic } from './records.js';
import type { RootCauseKind } from './names.js';

export interface StallFilter {
  from_ms?: number;
  to_ms?: number;
  job?: string;
  kind?: RootCauseKind;
  location?: string;
  min_duration_us?: number;
  /** Keyset pagination: only stalls after this one in the listing order (start desc, id asc). */
  after?: StallPosition;
  /**
   * Default true. A listing that shows no per-rank timings passes false: the ranks are by
   * far the largest column, and the stalls then come back with `ranks: []`.
   */
  include_ranks?: boolean;
  limit: number;
}

/** Where a stall sits in the listing order; what an API cursor encodes. */
export interface StallPosition {
  start_ms: number;
  id: string;
}

export interface AlertFilter {
  state?: AlertState;
  limit: number;
}

export interface GpuView {
  id: string;
  node: string;
  uuid: string;
  model: string;
  last_seen_ms: number;
  metrics: Record<string, number>;
}

export interface InsertOptions {
  /**
   * Makes the insert idempotent: a second insert with the same token into the same table
   * (a retry after an ambiguous failure, a re-delivery from Kafka) changes nothing, in the
   * table or in its materialized views. The same rows must come with the same token.
   */
  dedup_token?: string;
}

export interface Store {
  /** Creates or upgrades the schema; safe to run any number of times. */
  migrate(): Promise<void>;
  /**
   * Writes records. Idempotent for stalls, episodes and alerts (deterministic ids), so a retry
   * after a failure does not duplicate them.
   */
  insert<T extends Topic>(topic: T, rows: StoredRecords[T][], options?: InsertOptions): Promise<void>;
  listStalls(filter: StallFilter): Promise<Stall[]>;
  getStall(id: string): Promise<Stall | undefined>;
  listAlerts(filter: AlertFilter): Promise<Alert[]>;
  listGpus(): Promise<GpuView[]>;
  /** Rows stored per topic. */
  counts(): Promise<Record<Topic, number>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

// ---- analytical queries (the query API) -------------------------------------------------

export interface RootCauseFilter {
  /** Stalls overlapping [from, to]; an omitted end is unbounded. */
  from_ms?: number;
  to_ms?: number;
  job?: string;
  limit: number;
}

/** One culprit (a root-cause kind at a location) over a window. */
export interface RootCauseSummary {
  kind: RootCauseKind;
  location: string;
  stalls: number;
  /** Σ (duration_us − expected_us) × ranks / 1e6: GPU time spent waiting because of it. */
  gpu_seconds_lost: number;
  /** Jobs that stalled on it (at most 16, in no particular order). */
  jobs: string[];
  /** Start of its first and of its last stall in the window. */
  first_ms: number;
  last_ms: number;
}

export interface TopRootCauses {
  by_stalls: RootCauseSummary[];
  by_gpu_seconds_lost: RootCauseSummary[];
}

export interface SeriesWindow {
  from_ms: number;
  to_ms: number;
  /** Bucket width; buckets start at multiples of it (epoch-aligned). */
  step_ms: number;
}

/** One bucket of a port's telemetry. Rates are per second of covered interval. */
export interface PortSeriesPoint {
  t_ms: number;
  samples: number;
  queue_bytes_max: number;
  queue_bytes_avg: number;
  tx_gbps: number;
  ecn_marked_pkts_per_s: number;
  /** Paused µs / interval µs: 0..1. */
  pfc_pause_fraction: number;
  pfc_tx_pause_frames: number;
  /** Credit-stalled µs / interval µs (scale-up ports): 0..1. */
  credit_stall_fraction: number;
  link_errors: number;
  /** Samples in the bucket where the link was down. */
  down_samples: number;
}

/** Which table answered: raw samples, or a rollup when the step allows it. */
export type SeriesResolution = 'raw' | '1s' | '10s' | '1m' | '5m';

export interface PortSeries {
  resolution: SeriesResolution;
  points: PortSeriesPoint[];
}

export interface GpuSeriesPoint {
  t_ms: number;
  samples: number;
  /** Average of each DCGM field over the bucket. */
  metrics: Record<string, number>;
}

export interface JobSeriesPoint {
  t_ms: number;
  /** Collective calls that started in the bucket. */
  calls: number;
  /** Duration of a call = last rank's end − first rank's start. */
  duration_p50_us: number;
  duration_p99_us: number;
  duration_max_us: number;
  busbw_avg_gbs: number;
  busbw_min_gbs: number;
}

/** A port's latest sample at or before a time, with its interval's rates. */
export interface PortState {
  port: string;
  device: string;
  last_seen_ms: number;
  oper_up: boolean;
  queue_bytes: number;
  tx_gbps: number;
  ecn_marked_pkts_per_s: number;
  pfc_pause_fraction: number;
  credit_stall_fraction: number;
  link_errors: number;
}

/** A job as its collectives show it: size, placement (rank → host) and activity. */
export interface JobView {
  job: string;
  n_ranks: number;
  /** Rank → host, for the ranks seen in the window, by rank. */
  placement: Array<{ rank: number; host: string }>;
  collectives: string[];
  calls: number;
  first_ms: number;
  last_ms: number;
  busbw_avg_gbs: number;
}

export interface TimeWindow {
  from_ms: number;
  to_ms: number;
}

/**
 * What the query API reads beyond the Store seam. A separate interface so that stores that
 * only serve the pipeline (tests' in-memory stores) need not implement it.
 */
export interface QueryStore extends Store {
  topRootCauses(filter: RootCauseFilter): Promise<TopRootCauses>;
  portSeries(port: string, window: SeriesWindow): Promise<PortSeries>;
  gpuSeries(gpu: string, window: SeriesWindow, fields?: string[]): Promise<GpuSeriesPoint[]>;
  jobSeries(job: string, window: SeriesWindow): Promise<JobSeriesPoint[]>;
  /** Every port's latest sample in the window (ports silent in it are absent). */
  portStates(window: TimeWindow): Promise<PortState[]>;
  /** Jobs with collectives starting in the window. */
  listJobs(window: TimeWindow): Promise<JobView[]>;
}

const QUERY_METHODS = ['topRootCauses', 'portSeries', 'gpuSeries', 'jobSeries', 'portStates', 'listJobs'] as const;

export function isQueryStore(store: Store): store is QueryStore {
  const s = store as Partial<QueryStore>;
  return QUERY_METHODS.every((m) => typeof s[m] === 'function');
}
