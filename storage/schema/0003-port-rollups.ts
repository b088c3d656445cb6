/**
 * 1-second and 1-minute rollups of port_samples, kept by materialized views, so a series
 * over hours or days reads 10× or 600× fewer rows than the raw 100 ms samples.
 *
 * Targets are AggregatingMergeTree with SimpleAggregateFunction columns: background merges
 * combine rows of one (port, ts) with sum/max, and readers re-aggregate with the same
 * functions, so partially merged parts give exact answers. Only sums and maxima are kept;
 * averages, rates and fractions are derived from sums at read time (queue avg = sum/samples,
 * PFC pause fraction = paused µs / covered µs), which stays exact across any regrouping.
 *
 * Existing samples are backfilled once, before the view exists, and only into an empty
 * rollup, so a re-run after a crash never double counts. Samples inserted between that
 * backfill and the view's creation (only while this migration runs) are missing from the
 * rollup; raw samples keep them.
 */
import type { Migration } from './migration.js';
import type { SchemaLayout } from './layout.js';

export type Rollup = { table: string; bucket: string; partition: string };
export const ROLLUPS: readonly Rollup[] = [
  { table: 'port_samples_1s', bucket: 'toStartOfSecond(ts)', partition: 'toYYYYMMDD(ts)' },
  { table: 'port_samples_1m', bucket: 'toStartOfMinute(ts)', partition: 'toYYYYMM(ts)' },
];

const sum = 'SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(1))';
/** A rollup table's columns, as CREATE TABLE lists them; coarser rollups (0007) share them. */
export const ROLLUP_COLUMNS_DDL = `(
    ts                  DateTime('UTC') CODEC(DoubleDelta, ZSTD(1)),
    port                LowCardinality(String),
    samples             ${sum},
    interval_ms         ${sum},
    queue_bytes_max     SimpleAggregateFunction(max, UInt64) CODEC(ZSTD(1)),
    queue_bytes_sum     ${sum},
    tx_bytes            ${sum},
    ecn_marked_pkts     ${sum},
    pfc_tx_pause_frames ${sum},
    pfc_rx_pause_us     ${sum},
    credit_stall_us     ${sum},
    link_errors         ${sum},
    down_samples        ${sum},
    -- when the latest contribution was stored: what retention counts from (0004)
    stored_at           SimpleAggregateFunction(max, DateTime('UTC')) DEFAULT now() CODEC(Delta, ZSTD(1))
)`;

const createTable = (l: SchemaLayout, { table, partition }: Rollup) => `
${l.createTable(table)}
${ROLLUP_COLUMNS_DDL}
${l.engine(table, 'AggregatingMergeTree')}
PARTITION BY ${partition}
ORDER BY (port, ts)`;

/** The aggregation both the view and the backfill run; `bucket_ts` avoids shadowing `ts`. */
export const rollupOfSamples = (l: SchemaLayout, { bucket }: Pick<Rollup, 'bucket'>) => `
SELECT toDateTime(${bucket}, 'UTC') AS bucket_ts,
       port,
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
FROM ${l.storage('port_samples')}`;

export const ROLLUP_COLUMNS = 'port, samples, interval_ms, queue_bytes_max, queue_bytes_sum, tx_bytes, ecn_marked_pkts, pfc_tx_pause_frames, pfc_rx_pause_us, credit_stall_us, link_errors, down_samples';

const backfill = (l: SchemaLayout, r: Rollup) => `
INSERT INTO ${r.table} (ts, ${ROLLUP_COLUMNS})
SELECT bucket_ts, ${ROLLUP_COLUMNS} FROM (${rollupOfSamples(l, r)} GROUP BY bucket_ts, port)
WHERE (SELECT count() FROM ${r.table}) = 0`;

/**
 * On a sharded cluster each shard's view reads the inserts into its own local samples and
 * writes its own local rollup: the rollups are sharded exactly like the samples.
 */
export const createRollupView = (l: SchemaLayout, r: Rollup) => `
CREATE MATERIALIZED VIEW IF NOT EXISTS ${r.table}_mv${l.onCluster} TO ${l.storage(r.table)} AS
SELECT bucket_ts AS ts, ${ROLLUP_COLUMNS} FROM (${rollupOfSamples(l, r)} GROUP BY bucket_ts, port)`;

export const portRollups: Migration = {
  version: 3,
  name: 'port_samples 1 s and 1 min rollups',
  // A cluster schema is created by this code from nothing: the samples table is still empty
  // here, so there is nothing to backfill (and an INSERT would reach one node only).
  statements: (l) =>
    ROLLUPS.flatMap((r) => [createTable(l, r), ...l.distributedTable(r.table), ...(l.cluster ? [] : [backfill(l, r)]), createRollupView(l, r)]),
};
