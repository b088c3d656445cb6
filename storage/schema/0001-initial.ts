/**
 * The first schema. Choices, table by table:
 * - Time columns are DateTime64(3, 'UTC') (µs precision where NCCL gives µs) compressed with
 *   DoubleDelta/Delta + ZSTD: sample timestamps advance by a near-constant step.
 * - Names (ports, devices, jobs, kinds) are LowCardinality(String): few distinct values.
 * - Float gauges use Gorilla; integer counters T64 + ZSTD.
 * - Raw telemetry is append-only MergeTree. Derived records (episodes, stalls, alerts) carry a
 *   deterministic id and are ReplacingMergeTree(version) so a retried insert replaces instead
 *   of duplicating; readers use FINAL. The sorting key of a derived table contains the id and
 *   only fields the id already determines (a stall's job and start), so replacement works.
 */
import type { Migration } from './migration.js';
import type { SchemaLayout } from './layout.js';

const portSamples = (l: SchemaLayout) => `
${l.createTable('port_samples')}
(
    ts                  DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    port                LowCardinality(String),
    device              LowCardinality(String),
    interval_ms         UInt32  CODEC(T64, ZSTD(1)),
    queue_bytes         UInt64  CODEC(T64, ZSTD(1)),
    tx_bytes            UInt64  CODEC(T64, ZSTD(1)),
    ecn_marked_pkts     UInt64  CODEC(T64, ZSTD(1)),
    pfc_tx_pause_frames UInt64  CODEC(T64, ZSTD(1)),
    pfc_rx_pause_frames UInt64  CODEC(T64, ZSTD(1)),
    pfc_rx_pause_us     UInt64  CODEC(T64, ZSTD(1)),
    credit_stall_us     UInt64  CODEC(T64, ZSTD(1)),
    link_errors         UInt64  CODEC(T64, ZSTD(1)),
    oper_up             Bool
)
${l.engine('port_samples', 'MergeTree')}
PARTITION BY toYYYYMMDD(ts)
ORDER BY (port, ts)`;

// One row per scrape; the DCGM fields vary by exporter configuration, hence a Map.
const gpuSamples = (l: SchemaLayout) => `
${l.createTable('gpu_samples')}
(
    ts      DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    gpu     LowCardinality(String),
    node    LowCardinality(String),
    uuid    LowCardinality(String),
    model   LowCardinality(String),
    metrics Map(LowCardinality(String), Float64) CODEC(ZSTD(3))
)
${l.engine('gpu_samples', 'MergeTree')}
PARTITION BY toYYYYMMDD(ts)
ORDER BY (gpu, ts)`;

const collectiveEvents = (l: SchemaLayout) => `
${l.createTable('collective_events')}
(
    job          LowCardinality(String),
    comm_id      LowCardinality(String),
    rank         UInt32,
    n_ranks      UInt32,
    host         LowCardinality(String),
    collective   LowCardinality(String),
    seq          UInt64 CODEC(Delta, ZSTD(1)),
    msg_bytes    UInt64 CODEC(T64, ZSTD(1)),
    start        DateTime64(6, 'UTC') CODEC(Delta, ZSTD(1)),
    end          DateTime64(6, 'UTC') CODEC(Delta, ZSTD(1)),
    exec_time_us UInt64  CODEC(T64, ZSTD(1)),
    algbw_gbs    Float64 CODEC(Gorilla, ZSTD(1)),
    busbw_gbs    Float64 CODEC(Gorilla, ZSTD(1))
)
${l.engine('collective_events', 'MergeTree')}
PARTITION BY toYYYYMMDD(start)
ORDER BY (job, start, rank)`;

const congestionEpisodes = (l: SchemaLayout) => `
${l.createTable('congestion_episodes')}
(
    id                  String,
    port                LowCardinality(String),
    device              LowCardinality(String),
    start               DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    end                 DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    peak_queue_bytes    UInt64 CODEC(T64, ZSTD(1)),
    ecn_marked_pkts     UInt64 CODEC(T64, ZSTD(1)),
    pfc_tx_pause_frames UInt64 CODEC(T64, ZSTD(1)),
    pfc_rx_pause_us     UInt64 CODEC(T64, ZSTD(1)),
    credit_stall_us     UInt64 CODEC(T64, ZSTD(1)),
    link_errors         UInt64 CODEC(T64, ZSTD(1)),
    signals             Array(LowCardinality(String)),
    version             UInt64
)
${l.engine('congestion_episodes', 'ReplacingMergeTree', 'version')}
PARTITION BY toYYYYMM(start)
ORDER BY (port, start, id)`;

// Root cause flattened into columns so dashboards can group and filter by kind/location;
// evidence is heterogeneous (optional reference/unit/note) and kept as JSON text.
const stalls = (l: SchemaLayout) => `
${l.createTable('stalls')}
(
    id            String,
    job           LowCardinality(String),
    collective    LowCardinality(String),
    seq           UInt64,
    start         DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    end           DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    duration_us   UInt64,
    expected_us   UInt64,
    slowest_rank  Int32,
    ranks         Array(Tuple(rank UInt32, host String, gpu String, start_us Int64, end_us Int64, exec_time_us UInt64)) CODEC(ZSTD(3)),
    rc_kind       LowCardinality(String),
    rc_location   LowCardinality(String),
    rc_confidence Float32,
    rc_evidence   String CODEC(ZSTD(3)),
    version       UInt64
)
${l.engine('stalls', 'ReplacingMergeTree', 'version')}
PARTITION BY toYYYYMM(start)
ORDER BY (job, start, id)`;

// Alerts change state under one id (pending → firing → resolved): the key is the id alone,
// and updated_ms orders the versions.
const alerts = (l: SchemaLayout) => `
${l.createTable('alerts')}
(
    id          String,
    rule        LowCardinality(String),
    state       LowCardinality(String),
    labels      Map(String, String),
    annotations Map(String, String),
    starts      DateTime64(3, 'UTC'),
    ends        DateTime64(3, 'UTC'),
    value       Float64,
    updated     DateTime64(3, 'UTC')
)
${l.engine('alerts', 'ReplacingMergeTree', 'updated')}
ORDER BY id`;

export const initialSchema: Migration = {
  version: 1,
  name: 'initial telemetry, stalls and alerts tables',
  statements: (l) =>
    (
      [
        [portSamples, 'port_samples'],
        [gpuSamples, 'gpu_samples'],
        [collectiveEvents, 'collective_events'],
        [congestionEpisodes, 'congestion_episodes'],
        [stalls, 'stalls'],
        [alerts, 'alerts'],
      ] as const
    ).flatMap(([create, table]) => [create(l), ...l.distributedTable(table)]),
};
