/** Stored records → the public JSON shapes of DESIGN.md (ISO-8601 UTC times, camelCase where the contract says so). */
import type { Alert, Stall } from '../core/records.js';
import type { GpuView, JobView, PortSeriesPoint, PortState, RootCauseSummary } from '../core/store.js';
import { isoOf } from '../core/time.js';

/** The listing shape: exactly the contract fields. */
export const stallSummaryView = (s: Stall) => ({
  id: s.id,
  job: s.job,
  collective: s.collective,
  seq: s.seq,
  start: isoOf(s.start_ms),
  end: isoOf(s.end_ms),
  duration_us: s.duration_us,
  expected_us: s.expected_us,
  slowest_rank: s.slowest_rank,
  root_cause: {
    kind: s.root_cause.kind,
    location: s.root_cause.location,
    confidence: s.root_cause.confidence,
    evidence: s.root_cause.evidence,
  },
});

/** One stall in full: the summary plus every rank's timing. */
export const stallDetailView = (s: Stall) => ({
  ...stallSummaryView(s),
  ranks: s.ranks.map((r) => ({
    rank: r.rank,
    host: r.host,
    gpu: r.gpu,
    start: isoOfMicros(r.start_us),
    end: isoOfMicros(r.end_us),
    start_us: r.start_us,
    end_us: r.end_us,
    exec_time_us: r.exec_time_us,
  })),
});

export const alertView = (a: Alert) => ({
  id: a.id,
  rule: a.rule,
  state: a.state,
  labels: a.labels,
  annotations: a.annotations,
  startsAt: isoOf(a.starts_ms),
  // ends_ms is 0 while pending or firing: no end yet.
  endsAt: a.ends_ms > 0 ? isoOf(a.ends_ms) : null,
  value: a.value,
});

export const gpuView = (g: GpuView) => ({
  id: g.id,
  node: g.node,
  uuid: g.uuid,
  model: g.model,
  last_seen: isoOf(g.last_seen_ms),
  metrics: g.metrics,
});

const isoOfMicros = (us: number): string => isoOf(Math.floor(us / 1000));

export const rootCauseView = (r: RootCauseSummary) => ({
  kind: r.kind,
  location: r.location,
  stalls: r.stalls,
  gpu_seconds_lost: r.gpu_seconds_lost,
  jobs: r.jobs,
  first: isoOf(r.first_ms),
  last: isoOf(r.last_ms),
});

/** A series point: its bucket start as ISO-8601 (and as epoch ms, which charts want). */
export const seriesPointView = <P extends { t_ms: number }>({ t_ms, ...rest }: P) => ({ t: isoOf(t_ms), t_ms, ...rest });

/**
 * seriesPointView of a port's point, field by field in the same order: a port series has
 * hundreds of points, and the rest/spread copy cost as much per point as serialising it.
 */
export const portSeriesPointView = (p: PortSeriesPoint) => ({
  t: isoOf(p.t_ms),
  t_ms: p.t_ms,
  samples: p.samples,
  queue_bytes_max: p.queue_bytes_max,
  queue_bytes_avg: p.queue_bytes_avg,
  tx_gbps: p.tx_gbps,
  ecn_marked_pkts_per_s: p.ecn_marked_pkts_per_s,
  pfc_pause_fraction: p.pfc_pause_fraction,
  pfc_tx_pause_frames: p.pfc_tx_pause_frames,
  credit_stall_fraction: p.credit_stall_fraction,
  link_errors: p.link_errors,
  down_samples: p.down_samples,
}) satisfies PortSeriesPoint & { t: string };

export const portStateView = ({ port: _port, device: _device, last_seen_ms, ...state }: PortState) => ({ last_seen: isoOf(last_seen_ms), ...state });

export const jobView = (j: JobView) => ({
  job: j.job,
  n_ranks: j.n_ranks,
  placement: j.placement,
  collectives: j.collectives,
  calls: j.calls,
  first: isoOf(j.first_ms),
  last: isoOf(j.last_ms),
  busbw_avg_gbs: j.busbw_avg_gbs,
});
