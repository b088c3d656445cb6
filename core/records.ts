/**
 * Canonical records: what the collectors produce from any wire format, what travels on the
 * bus, what the pipeline reasons on and what storage keeps. Field names are snake_case so
 * they map one-to-one onto ClickHouse columns and API JSON. Times are event time: epoch
 * milliseconds (`*_ms`) or microseconds (`*_us`) taken from inside the telemetry.
 */
import type { FaultKind, RootCauseKind } from './names.js';

/** One switch egress port (scale-out or scale-up) over one telemetry interval. */
export interface PortSample {
  ts_ms: number;
  /** Port name, e.g. `leaf-3/p5` or `nvsw-2/p1`. */
  port: string;
  /** Switch name, e.g. `leaf-3`. */
  device: string;
  /** Length of the interval the deltas below cover (0 for the first sample of a series). */
  interval_ms: number;
  /** Egress queue occupancy at ts (gauge). */
  queue_bytes: number;
  /**
   * Mean egress queue occupancy over the interval, from the switch's egress-buffer histogram
   * (absent when the switch exports none). One instant per interval cannot tell the mean of a
   * queue that fills and drains within a collective step; the histogram can.
   */
  queue_mean_bytes?: number;
  /** Bytes transmitted during the interval. */
  tx_bytes: number;
  /** Packets ECN-marked during the interval. */
  ecn_marked_pkts: number;
  /** PFC pause frames this port sent upstream (its buffer was filling) during the interval. */
  pfc_tx_pause_frames: number;
  /** PFC pause frames this port received (it was told to stop) during the interval. */
  pfc_rx_pause_frames: number;
  /** Microseconds this port was paused by its peer during the interval. */
  pfc_rx_pause_us: number;
  /** Scale-up only: microseconds the port had no credits to send. */
  credit_stall_us: number;
  /** CRC/FEC/symbol errors during the interval. */
  link_errors: number;
  /** Whether the link was operationally up at ts. */
  oper_up: boolean;
}

/** One GPU's DCGM fields at one scrape. Metric keys are DCGM field names (`DCGM_FI_DEV_SM_CLOCK`). */
export interface GpuSample {
  ts_ms: number;
  /** `node-<n>/gpu-<g>` when the host follows the naming, else `<hostname>/gpu-<g>`. */
  gpu: string;
  node: string;
  uuid: string;
  model: string;
  metrics: Record<string, number>;
}

/** One rank's view of one collective call (an NCCL Inspector `coll_perf` record). */
export interface CollectiveEvent {
  /** Communicator name (the job), e.g. `train-a`. */
  job: string;
  /** Communicator hash (`header.id`). */
  comm_id: string;
  rank: number;
  n_ranks: number;
  /** Hostname that wrote the record (`metadata.hostname`). */
  host: string;
  /** NCCL collective name, e.g. `AllReduce`. */
  collective: string;
  /** `coll_sn`: sequence number of this call on the communicator. */
  seq: number;
  msg_bytes: number;
  /** Start and stop of the collective on this rank, epoch µs (verbose `event_trace_ts`). */
  start_us: number;
  end_us: number;
  exec_time_us: number;
  algbw_gbs: number;
  busbw_gbs: number;
}

/** A period where one port showed congestion signals. */
export interface CongestionEpisode {
  id: string;
  port: string;
  device: string;
  start_ms: number;
  end_ms: number;
  peak_queue_bytes: number;
  ecn_marked_pkts: number;
  pfc_tx_pause_frames: number;
  pfc_rx_pause_us: number;
  credit_stall_us: number;
  link_errors: number;
  /** Signals that qualified the episode: `queue`, `ecn`, `pfc_tx`, `pfc_rx`, `credit`, `errors`, `down`. */
  signals: string[];
}

/** One metric or observation that decided a root cause. */
export interface Evidence {
  /** What was measured, e.g. `queue_bytes`, `start_skew_us`, `DCGM_FI_DEV_SM_CLOCK`. */
  signal: string;
  /** Where it was measured (a DESIGN.md name). */
  location: string;
  value: number;
  /** The threshold or baseline it was compared with, when there is one. */
  reference?: number;
  unit?: string;
  note?: string;
}

export interface RootCause {
  kind: RootCauseKind;
  /** A DESIGN.md name: port, NIC, GPU or nvsw port; empty for `unknown` without a place. */
  location: string;
  /** 0..1 */
  confidence: number;
  evidence: Evidence[];
}

export interface RankTiming {
  rank: number;
  host: string;
  gpu: string;
  start_us: number;
  end_us: number;
  exec_time_us: number;
}

/** A collective call that took longer than the job's baseline, with its root cause. */
export interface Stall {
  id: string;
  job: string;
  collective: string;
  seq: number;
  start_ms: number;
  end_ms: number;
  duration_us: number;
  expected_us: number;
  slowest_rank: number;
  ranks: RankTiming[];
  root_cause: RootCause;
}

/**
 * A correlator's word, on the `stalls` topic after the stalls it covers (same key, so same
 * partition and order): every stall of `job` ending at or before `through_ms` has been
 * published. Event-time progress of the stall stream, which has no regular records of its own
 * to carry it: the alert rules wait for it before judging a tick on stalls, so a correlator
 * that lags, or one that took a job over and replays it, delays alerts instead of changing
 * them. Never stored.
 */
export interface StallProgress {
  job: string;
  through_ms: number;
}

export type StallStreamRecord = Stall | StallProgress;

export function isStallProgress(r: StallStreamRecord): r is StallProgress {
  return (r as Partial<StallProgress>).through_ms !== undefined;
}

export type AlertState = 'pending' | 'firing' | 'resolved';

export interface Alert {
  id: string;
  rule: string;
  state: AlertState;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  starts_ms: number;
  /** 0 while firing or pending. */
  ends_ms: number;
  value: number;
  updated_ms: number;
}

/** One injected fault, as the simulator writes it next to the data (never sent as telemetry). */
export interface GroundTruthFault {
  id: string;
  kind: FaultKind;
  target: string;
  start_ms: number;
  end_ms: number;
  severity: number;
}

/** The record each topic's table stores. */
export interface StoredRecords {
  port_samples: PortSample;
  gpu_samples: GpuSample;
  collective_events: CollectiveEvent;
  congestion_episodes: CongestionEpisode;
  stalls: Stall;
  alerts: Alert;
}

/** The bus topics and the record each carries: what is stored, plus the stall stream's progress. */
export interface TopicRecords extends Omit<StoredRecords, 'stalls'> {
  stalls: StallStreamRecord;
}
export type Topic = keyof TopicRecords;

/** The records of a batch that storage keeps (a topic's stream may carry progress markers too). */
export function storedOf<T extends Topic>(topic: T, records: TopicRecords[T][]): StoredRecords[T][] {
  if (topic !== 'stalls') return records as StoredRecords[T][];
  return (records as StallStreamRecord[]).filter((r) => !isStallProgress(r)) as StoredRecords[T][];
}
export const TOPICS: readonly Topic[] = [
  'port_samples',
  'gpu_samples',
  'collective_events',
  'congestion_episodes',
  'stalls',
  'alerts',
];
