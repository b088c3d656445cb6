/**
 * Synthesised history of a 1,024-GPU cluster for the API benchmark: 128 nodes × 8 GPUs under
 * 32 leaves (32 GPU-facing + 16 uplink ports each) and 16 spines (32 ports each), jobs of 128
 * ranks, and a few thousand stalls with root causes. Telemetry is generated inside ClickHouse
 * (INSERT … SELECT FROM numbers(), one insert per simulated hour, in event-time order as a
 * live sink would write it): the same tables, codecs and rollup views as real ingest, hours of
 * data in seconds, and no JSON round trip that would only measure the generator. Stalls,
 * episodes and alerts are few and structured, so they go through the Store interface itself.
 * Every value is a deterministic hash of the row number: two runs load the same data.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { FAULT_KINDS, gpuName, leafName, nodeName, portName, spineName, type RootCauseKind } from '../../core/names.js';
import type { Alert, CongestionEpisode, Stall } from '../../core/records.js';
import type { Store } from '../../core/store.js';
import { Prng } from '../../simulator/prng.js';

export interface ClusterPlan {
  hours: number;
  port_interval_s: number;
  gpu_interval_s: number;
  /** One collective call per job every this many seconds (each call: one row per rank). */
  collective_interval_s: number;
  stalls: number;
}

export const NODES = 128;
export const GPUS_PER_NODE = 8;
export const LEAVES = 32;
export const SPINES = 16;
const LEAF_DOWN = 32;
const LEAF_UP = 16;
const SPINE_PORTS = 32;
const JOBS = 8;
const RANKS_PER_JOB = (NODES * GPUS_PER_NODE) / JOBS;
/** Midnight, so a day is one daily partition as in production. */
export const T0_MS = Date.parse('2026-03-02T00:00:00Z');
const HOUR_MS = 3_600_000;

export const JOB_NAMES = Array.from({ length: JOBS }, (_, j) => `train-${String.fromCharCode(97 + j)}`);

/** Every switch port: leaves' GPU-facing then uplink ports, then the spines'. */
export function portNames(): string[] {
  const out: string[] = [];
  for (let l = 0; l < LEAVES; l++) for (let p = 0; p < LEAF_DOWN + LEAF_UP; p++) out.push(portName(leafName(l), p));
  for (let s = 0; s < SPINES; s++) for (let p = 0; p < SPINE_PORTS; p++) out.push(portName(spineName(s), p));
  return out;
}
const LEAF_PORTS = LEAVES * (LEAF_DOWN + LEAF_UP);
export const PORTS = LEAF_PORTS + SPINES * SPINE_PORTS;
const GPUS = NODES * GPUS_PER_NODE;

/** The port name of row `i` (i % PORTS), in SQL, matching portNames(). */
const PORT_SQL = `if(p < ${LEAF_PORTS},
    concat('leaf-', toString(intDiv(p, ${LEAF_DOWN + LEAF_UP})), '/p', toString(p % ${LEAF_DOWN + LEAF_UP})),
    concat('spine-', toString(intDiv(p - ${LEAF_PORTS}, ${SPINE_PORTS})), '/p', toString((p - ${LEAF_PORTS}) % ${SPINE_PORTS})))`;

/** Port samples of one hour: most ports idle-ish, ~3 % of samples congested (deep queue, ECN, PFC). */
const portSamplesOfHour = (plan: ClusterPlan, hour: number): string => {
  const perHour = 3600 / plan.port_interval_s;
  const ms = plan.port_interval_s * 1000;
  return `INSERT INTO port_samples (ts, port, device, interval_ms, queue_bytes, tx_bytes, ecn_marked_pkts,
    pfc_tx_pause_frames, pfc_rx_pause_frames, pfc_rx_pause_us, credit_stall_us, link_errors, oper_up)
SELECT fromUnixTimestamp64Milli(toInt64(${T0_MS + hour * HOUR_MS} + intDiv(number, ${PORTS}) * ${ms}), 'UTC') AS ts,
       ${PORT_SQL} AS port, splitByChar('/', port)[1] AS device, ${ms} AS interval_ms,
       if(hot, 200000 + h % 4000000, h % 40000) AS queue_bytes,
       toUInt64(${ms} / 1000 * 25e9 * (0.2 + (h % 700) / 1000)) AS tx_bytes,
       if(hot, h % 50000, 0) AS ecn_marked_pkts,
       if(hot AND h % 3 = 0, h % 900, 0) AS pfc_tx_pause_frames,
       if(hot AND h % 3 = 1, h % 900, 0) AS pfc_rx_pause_frames,
       if(hot AND h % 3 = 1, h % ${ms * 200}, 0) AS pfc_rx_pause_us,
       0 AS credit_stall_us,
       if(h % 100000 = 7, 1, 0) AS link_errors,
       h % 200000 != 11 AS oper_up
FROM (SELECT number, number % ${PORTS} AS p, cityHash64(number, ${hour}) AS h, h % 100 < 3 AS hot
      FROM numbers(${perHour * PORTS}))`;
};

const DCGM_FIELDS = `map('DCGM_FI_DEV_GPU_UTIL', toFloat64(60 + h % 40),
           'DCGM_FI_DEV_SM_CLOCK', toFloat64(if(h % 500 = 0, 1100, 1980)),
           'DCGM_FI_DEV_POWER_USAGE', 400 + (h % 3000) / 10,
           'DCGM_FI_DEV_GPU_TEMP', toFloat64(55 + h % 25),
           'DCGM_FI_DEV_MEM_COPY_UTIL', toFloat64(h % 90),
           'DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', (h % 1000) / 1000,
           'DCGM_FI_PROF_NVLINK_TX_BYTES', toFloat64(h % 100000000000),
           'DCGM_FI_DEV_XID_ERRORS', 0.)`;

const gpuSamplesOfHour = (plan: ClusterPlan, hour: number): string => {
  const perHour = 3600 / plan.gpu_interval_s;
  const ms = plan.gpu_interval_s * 1000;
  return `INSERT INTO gpu_samples (ts, gpu, node, uuid, model, metrics)
SELECT fromUnixTimestamp64Milli(toInt64(${T0_MS + hour * HOUR_MS} + intDiv(number, ${GPUS}) * ${ms}), 'UTC') AS ts,
       concat('node-', toString(intDiv(g, ${GPUS_PER_NODE})), '/gpu-', toString(g % ${GPUS_PER_NODE})) AS gpu,
       concat('node-', toString(intDiv(g, ${GPUS_PER_NODE}))) AS node,
       concat('GPU-', lower(hex(cityHash64(g)))) AS uuid,
       'NVIDIA H100 80GB HBM3' AS model,
       ${DCGM_FIELDS} AS metrics
FROM (SELECT number, number % ${GPUS} AS g, cityHash64(number, ${hour}) AS h FROM numbers(${perHour * GPUS}))`;
};

/** Job j runs on nodes [16j, 16j+16): rank r is GPU r % 8 of node 16j + r / 8. */
const collectivesOfHour = (plan: ClusterPlan, hour: number): string => {
  const callsPerHour = 3600 / plan.collective_interval_s;
  const us = plan.collective_interval_s * 1_000_000;
  const nodesPerJob = NODES / JOBS;
  return `INSERT INTO collective_events (job, comm_id, rank, n_ranks, host, collective, seq, msg_bytes, start, end,
    exec_time_us, algbw_gbs, busbw_gbs)
SELECT concat('train-', char(97 + j)) AS job, concat('comm-', toString(j)) AS comm_id, r AS rank, ${RANKS_PER_JOB} AS n_ranks,
       concat('node-', toString(${nodesPerJob} * j + intDiv(r, ${GPUS_PER_NODE}))) AS host,
       ['AllReduce', 'AllGather', 'ReduceScatter'][1 + call % 3] AS collective,
       ${hour * callsPerHour} + call AS seq, 268435456 AS msg_bytes,
       fromUnixTimestamp64Micro(toInt64(${(T0_MS + hour * HOUR_MS) * 1000} + call * ${us} + j * 997 + h % 400), 'UTC') AS start,
       fromUnixTimestamp64Micro(toInt64(${(T0_MS + hour * HOUR_MS) * 1000} + call * ${us} + j * 997 + 20000 + h % 3000), 'UTC') AS end,
       toUInt64(19000 + h % 3000) AS exec_time_us,
       268435456 / (19000 + h % 3000) / 1000 AS algbw_gbs,
       268435456 / (19000 + h % 3000) / 1000 * ${(2 * (RANKS_PER_JOB - 1)) / RANKS_PER_JOB} AS busbw_gbs
FROM (SELECT number, intDiv(number, ${JOBS * RANKS_PER_JOB}) AS call, intDiv(number % ${JOBS * RANKS_PER_JOB}, ${RANKS_PER_JOB}) AS j,
             number % ${RANKS_PER_JOB} AS r, cityHash64(number, ${hour}) AS h
      FROM numbers(${callsPerHour * JOBS * RANKS_PER_JOB}))`;
};

/** Where a root cause of `kind` sits: congestion on leaf uplinks and spine ports, stragglers on GPUs. */
function culpritOf(kind: RootCauseKind, rnd: () => number, job: number): string {
  const pick = (n: number) => Math.floor(rnd() * n);
  switch (kind) {
    case 'straggler_gpu':
      return gpuName(job * (NODES / JOBS) + pick(NODES / JOBS), pick(GPUS_PER_NODE));
    case 'credit_starvation':
      return portName(`nvsw-${job * (NODES / JOBS) + pick(NODES / JOBS)}`, pick(18));
    case 'incast_congestion':
      return portName(leafName(pick(LEAVES)), pick(LEAF_DOWN));
    case 'unknown':
      return '';
    default:
      return rnd() < 0.5 ? portName(leafName(pick(LEAVES)), LEAF_DOWN + pick(LEAF_UP)) : portName(spineName(pick(SPINES)), pick(SPINE_PORTS));
  }
}

export function syntheticStalls(plan: ClusterPlan): Stall[] {
  // Seeded, so stalls are the same every run.
  const prng = new Prng(42);
  const rnd = () => prng.next();
  const kinds: RootCauseKind[] = [...FAULT_KINDS, 'unknown'];
  const span = plan.hours * HOUR_MS;
  const out: Stall[] = [];
  for (let i = 0; i < plan.stalls; i++) {
    const job = i % JOBS;
    const start_ms = T0_MS + Math.floor((i / plan.stalls) * span + rnd() * 1000);
    const seq = Math.floor((start_ms - T0_MS) / (plan.collective_interval_s * 1000));
    const expected_us = 20_000;
    const duration_us = expected_us + Math.floor(rnd() * 400_000);
    const slowest_rank = Math.floor(rnd() * RANKS_PER_JOB);
    const kind = kinds[Math.floor(rnd() * rnd() * kinds.length)]!;
    const location = culpritOf(kind, rnd, job);
    out.push({
      id: `${JOB_NAMES[job]}:${seq}:${i}`,
      job: JOB_NAMES[job]!,
      collective: ['AllReduce', 'AllGather', 'ReduceScatter'][seq % 3]!,
      seq,
      start_ms,
      end_ms: start_ms + Math.ceil(duration_us / 1000),
      duration_us,
      expected_us,
      slowest_rank,
      ranks: Array.from({ length: RANKS_PER_JOB }, (_, r) => {
        const node = job * (NODES / JOBS) + Math.floor(r / GPUS_PER_NODE);
        const late = r === slowest_rank ? duration_us - expected_us : Math.floor(rnd() * 500);
        return {
          rank: r,
          host: nodeName(node),
          gpu: gpuName(node, r % GPUS_PER_NODE),
          start_us: start_ms * 1000 + late,
          end_us: start_ms * 1000 + duration_us,
          exec_time_us: expected_us,
        };
      }),
      root_cause: {
        kind,
        location,
        confidence: Math.round((0.5 + rnd() / 2) * 100) / 100,
        evidence: [
          { signal: 'queue_bytes', location, value: Math.floor(rnd() * 4e6), reference: 100_000, unit: 'bytes' },
          { signal: 'ecn_marked_pkts', location, value: Math.floor(rnd() * 50_000) },
          { signal: 'start_skew_us', location: gpuName(0, 0), value: Math.floor(rnd() * 10_000), unit: 'us', note: 'slowest rank vs median' },
        ],
      },
    });
  }
  return out;
}

function syntheticEpisodes(stalls: Stall[]): CongestionEpisode[] {
  return stalls
    .filter((s) => s.root_cause.location.startsWith('leaf-') || s.root_cause.location.startsWith('spine-'))
    .map((s) => ({
      id: `${s.root_cause.location}@${s.start_ms}`,
      port: s.root_cause.location,
      device: s.root_cause.location.split('/')[0]!,
      start_ms: s.start_ms - 200,
      end_ms: s.end_ms + 200,
      peak_queue_bytes: 2_000_000,
      ecn_marked_pkts: 40_000,
      pfc_tx_pause_frames: 10,
      pfc_rx_pause_us: 0,
      credit_stall_us: 0,
      link_errors: 0,
      signals: ['queue', 'ecn'],
    }));
}

function syntheticAlerts(stalls: Stall[]): Alert[] {
  return stalls.filter((_, i) => i % 10 === 0).map((s) => ({
    id: `collective-stall:${s.id}`,
    rule: 'collective-stall',
    state: 'resolved',
    labels: { alertname: 'CollectiveStall', job: s.job, location: s.root_cause.location },
    annotations: { summary: `${s.job} stalled on ${s.root_cause.kind}` },
    starts_ms: s.start_ms,
    ends_ms: s.end_ms + 60_000,
    value: s.duration_us / 1e6,
    updated_ms: s.end_ms + 60_000,
  }));
}

export interface LoadedCounts {
  port_samples: number;
  gpu_samples: number;
  collective_events: number;
  stalls: number;
  congestion_episodes: number;
  alerts: number;
}

/** Loads the whole plan; `onHour` reports progress. Returns the rows written per table. */
export async function loadCluster(
  client: ClickHouseClient,
  store: Store,
  plan: ClusterPlan,
  onHour: (hour: number) => void = () => {},
): Promise<LoadedCounts> {
  for (const [name, v] of Object.entries(plan)) {
    if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`plan.${name} must be a positive integer, got ${v}`);
  }
  for (const name of ['port_interval_s', 'gpu_interval_s', 'collective_interval_s'] as const) {
    if (3600 % plan[name] !== 0) throw new RangeError(`plan.${name} must divide an hour, got ${plan[name]}`);
  }
  for (let hour = 0; hour < plan.hours; hour++) {
    for (const statement of [portSamplesOfHour(plan, hour), gpuSamplesOfHour(plan, hour), collectivesOfHour(plan, hour)]) {
      await client.command({ query: statement });
    }
    onHour(hour);
  }
  const stalls = syntheticStalls(plan);
  const episodes = syntheticEpisodes(stalls);
  const alerts = syntheticAlerts(stalls);
  // Batches as the sink writes them: a few hundred records at a time.
  for (let i = 0; i < stalls.length; i += 250) await store.insert('stalls', stalls.slice(i, i + 250));
  for (let i = 0; i < episodes.length; i += 500) await store.insert('congestion_episodes', episodes.slice(i, i + 500));
  await store.insert('alerts', alerts);
  return {
    port_samples: PORTS * (3600 / plan.port_interval_s) * plan.hours,
    gpu_samples: GPUS * (3600 / plan.gpu_interval_s) * plan.hours,
    collective_events: JOBS * RANKS_PER_JOB * (3600 / plan.collective_interval_s) * plan.hours,
    stalls: stalls.length,
    congestion_episodes: episodes.length,
    alerts: alerts.length,
  };
}
