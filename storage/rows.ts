/**
 * Canonical records ↔ table rows. Inserts go as JSONEachRow: DateTime64 columns take integer
 * epoch values in the column's unit (ms, or µs for DateTime64(6)); integer columns get
 * rounded values because a float literal would be rejected by an integer column.
 */
import type {
  Alert,
  AlertState,
  CollectiveEvent,
  CongestionEpisode,
  Evidence,
  GpuSample,
  PortSample,
  RankTiming,
  Stall,
  StoredRecords,
  Topic,
} from '../core/records.js';
import type { RootCauseKind } from '../core/names.js';
import type { GpuView } from '../core/store.js';

type Row = Record<string, unknown>;

/** Non-negative integer for UInt columns (telemetry counters are never negative). */
const uint = (v: number): number => (Number.isFinite(v) && v > 0 ? Math.round(v) : 0);
const int = (v: number): number => (Number.isFinite(v) ? Math.round(v) : 0);
const float = (v: number): number => (Number.isFinite(v) ? v : 0);

const portSampleRow = (r: PortSample): Row => ({
  ts: int(r.ts_ms),
  port: r.port,
  device: r.device,
  interval_ms: uint(r.interval_ms),
  queue_bytes: uint(r.queue_bytes),
  tx_bytes: uint(r.tx_bytes),
  ecn_marked_pkts: uint(r.ecn_marked_pkts),
  pfc_tx_pause_frames: uint(r.pfc_tx_pause_frames),
  pfc_rx_pause_frames: uint(r.pfc_rx_pause_frames),
  pfc_rx_pause_us: uint(r.pfc_rx_pause_us),
  credit_stall_us: uint(r.credit_stall_us),
  link_errors: uint(r.link_errors),
  oper_up: r.oper_up,
});

const gpuSampleRow = (r: GpuSample): Row => ({
  ts: int(r.ts_ms),
  gpu: r.gpu,
  node: r.node,
  uuid: r.uuid,
  model: r.model,
  // NaN/Infinity are not JSON; a missing reading is better than a rejected batch.
  metrics: Object.fromEntries(Object.entries(r.metrics).filter(([, v]) => Number.isFinite(v))),
});

const collectiveEventRow = (r: CollectiveEvent): Row => ({
  job: r.job,
  comm_id: r.comm_id,
  rank: uint(r.rank),
  n_ranks: uint(r.n_ranks),
  host: r.host,
  collective: r.collective,
  seq: uint(r.seq),
  msg_bytes: uint(r.msg_bytes),
  start: int(r.start_us),
  end: int(r.end_us),
  exec_time_us: uint(r.exec_time_us),
  algbw_gbs: float(r.algbw_gbs),
  busbw_gbs: float(r.busbw_gbs),
});

const episodeRow = (r: CongestionEpisode, version: number): Row => ({
  id: r.id,
  port: r.port,
  device: r.device,
  start: int(r.start_ms),
  end: int(r.end_ms),
  peak_queue_bytes: uint(r.peak_queue_bytes),
  ecn_marked_pkts: uint(r.ecn_marked_pkts),
  pfc_tx_pause_frames: uint(r.pfc_tx_pause_frames),
  pfc_rx_pause_us: uint(r.pfc_rx_pause_us),
  credit_stall_us: uint(r.credit_stall_us),
  link_errors: uint(r.link_errors),
  signals: r.signals,
  version,
});

const stallRow = (r: Stall, version: number): Row => ({
  id: r.id,
  job: r.job,
  collective: r.collective,
  seq: uint(r.seq),
  start: int(r.start_ms),
  end: int(r.end_ms),
  duration_us: uint(r.duration_us),
  expected_us: uint(r.expected_us),
  slowest_rank: int(r.slowest_rank),
  ranks: r.ranks.map((k) => ({
    rank: uint(k.rank),
    host: k.host,
    gpu: k.gpu,
    start_us: int(k.start_us),
    end_us: int(k.end_us),
    exec_time_us: uint(k.exec_time_us),
  })),
  rc_kind: r.root_cause.kind,
  rc_location: r.root_cause.location,
  rc_confidence: float(r.root_cause.confidence),
  rc_evidence: JSON.stringify(r.root_cause.evidence),
  version,
});

const alertRow = (r: Alert): Row => ({
  id: r.id,
  rule: r.rule,
  state: r.state,
  labels: r.labels,
  annotations: r.annotations,
  starts: int(r.starts_ms),
  ends: int(r.ends_ms),
  value: float(r.value),
  updated: int(r.updated_ms),
});

/**
 * Maps a batch to rows. `version` orders re-inserts of derived records: a later insert of the
 * same id wins once ReplacingMergeTree (or FINAL) collapses them.
 */
export function rowsOf<T extends Topic>(topic: T, records: StoredRecords[T][], version: number): Row[] {
  switch (topic) {
    case 'port_samples':
      return (records as PortSample[]).map(portSampleRow);
    case 'gpu_samples':
      return (records as GpuSample[]).map(gpuSampleRow);
    case 'collective_events':
      return (records as CollectiveEvent[]).map(collectiveEventRow);
    case 'congestion_episodes':
      return (records as CongestionEpisode[]).map((r) => episodeRow(r, version));
    case 'stalls':
      return (records as Stall[]).map((r) => stallRow(r, version));
    case 'alerts':
      return (records as Alert[]).map(alertRow);
    default:
      throw new Error(`unknown topic ${String(topic)}`);
  }
}

// ---- reading back ------------------------------------------------------------------------

/** Columns selected for a stall; times converted to epoch ms in SQL. */
export const STALL_COLUMNS = `id, job, collective, seq,
  toUnixTimestamp64Milli(start) AS start_ms, toUnixTimestamp64Milli(end) AS end_ms,
  duration_us, expected_us, slowest_rank, ranks, rc_kind, rc_location, rc_confidence, rc_evidence`;

/** The same, with an empty ranks array: what a listing that shows no ranks reads. */
export const STALL_SUMMARY_COLUMNS = STALL_COLUMNS.replace(' ranks,', ' [] AS ranks,');

export interface StallRow {
  id: string;
  job: string;
  collective: string;
  seq: number | string;
  start_ms: number | string;
  end_ms: number | string;
  duration_us: number | string;
  expected_us: number | string;
  slowest_rank: number;
  ranks: Array<{ rank: number; host: string; gpu: string; start_us: number | string; end_us: number | string; exec_time_us: number | string }>;
  rc_kind: string;
  rc_location: string;
  rc_confidence: number;
  rc_evidence: string;
}

function parseEvidence(text: string): Evidence[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? (v as Evidence[]) : [];
  } catch {
    return [];
  }
}

export function stallOf(row: StallRow): Stall {
  return {
    id: row.id,
    job: row.job,
    collective: row.collective,
    seq: Number(row.seq),
    start_ms: Number(row.start_ms),
    end_ms: Number(row.end_ms),
    duration_us: Number(row.duration_us),
    expected_us: Number(row.expected_us),
    slowest_rank: Number(row.slowest_rank),
    ranks: row.ranks.map(
      (k): RankTiming => ({
        rank: Number(k.rank),
        host: k.host,
        gpu: k.gpu,
        start_us: Number(k.start_us),
        end_us: Number(k.end_us),
        exec_time_us: Number(k.exec_time_us),
      }),
    ),
    root_cause: {
      kind: row.rc_kind as RootCauseKind,
      location: row.rc_location,
      // Float32 round-trips as e.g. 0.8999999761581421: keep what the pipeline meant.
      confidence: Math.round(Number(row.rc_confidence) * 1e6) / 1e6,
      evidence: parseEvidence(row.rc_evidence),
    },
  };
}

export const ALERT_COLUMNS = `id, rule, state, labels, annotations,
  toUnixTimestamp64Milli(starts) AS starts_ms, toUnixTimestamp64Milli(ends) AS ends_ms,
  value, toUnixTimestamp64Milli(updated) AS updated_ms`;

export interface AlertRow {
  id: string;
  rule: string;
  state: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  starts_ms: number | string;
  ends_ms: number | string;
  value: number;
  updated_ms: number | string;
}

export const alertOf = (row: AlertRow): Alert => ({
  id: row.id,
  rule: row.rule,
  state: row.state as AlertState,
  labels: row.labels,
  annotations: row.annotations,
  starts_ms: Number(row.starts_ms),
  ends_ms: Number(row.ends_ms),
  value: Number(row.value),
  updated_ms: Number(row.updated_ms),
});

export interface GpuRow {
  id: string;
  node: string;
  uuid: string;
  model: string;
  last_seen_ms: number | string;
  metrics: Record<string, number>;
}

export const gpuOf = (row: GpuRow): GpuView => ({
  id: row.id,
  node: row.node,
  uuid: row.uuid,
  model: row.model,
  last_seen_ms: Number(row.last_seen_ms),
  metrics: Object.fromEntries(Object.entries(row.metrics).map(([k, v]) => [k, Number(v)])),
});
