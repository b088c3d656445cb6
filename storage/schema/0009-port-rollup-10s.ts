/**
 * `port_samples_10s`: a 10-second rollup of port_samples, for series over an hour or so at
 * steps of whole 10 seconds (the last hour at a 10 s step reads 360 rows a port instead of
 * 3,600 from the 1-second rollup). Laid out like 0007's 5-minute rollup: 256-row granules,
 * compressed in small blocks, an AggregatingMergeTree of SimpleAggregateFunction columns fed
 * by a materialized view over the raw samples; partitioned by day like the 1-second rollup.
 *
 * Backfilled once, into an empty table, before its view exists, from the 1-second rollup
 * (sums of sums and maxima of maxima stay exact, and it reaches back further than the raw
 * samples' retention). As in 0003, samples stored while this migration runs, between backfill
 * and view, are missing from it.
 */
import type { Migration } from './migration.js';
import type { SchemaLayout } from './layout.js';
import { ROLLUP_COLUMNS, ROLLUP_COLUMNS_DDL, rollupOfSamples } from './0003-port-rollups.js';

export const PORT_ROLLUP_10S_GRANULE = 256;
/** Compressed blocks of about a granule of one column (256 × 8 bytes), not the default 64 KB. */
const COMPRESS_BLOCK_BYTES = { min: 4096, max: 8192 };

const TABLE = 'port_samples_10s';
const BUCKET = 'toStartOfInterval(ts, INTERVAL 10 SECOND)';

/** Non-replicated tables get 0005's deduplication window (replicated tables keep their own). */
const settings = (l: SchemaLayout) =>
  [
    `index_granularity = ${PORT_ROLLUP_10S_GRANULE}`,
    `min_compress_block_size = ${COMPRESS_BLOCK_BYTES.min}`,
    `max_compress_block_size = ${COMPRESS_BLOCK_BYTES.max}`,
    ...(l.replicated ? [] : ['non_replicated_deduplication_window = 1000']),
  ].join(', ');

const createTable = (l: SchemaLayout) => `
${l.createTable(TABLE)}
${ROLLUP_COLUMNS_DDL}
${l.engine(TABLE, 'AggregatingMergeTree')}
PARTITION BY toYYYYMMDD(ts)
ORDER BY (port, ts)
SETTINGS ${settings(l)}`;

const backfill = () => `
INSERT INTO ${TABLE} (ts, ${ROLLUP_COLUMNS}, stored_at)
SELECT ${BUCKET} AS bucket_ts, port,
       sum(samples), sum(interval_ms), max(queue_bytes_max), sum(queue_bytes_sum), sum(tx_bytes), sum(ecn_marked_pkts),
       sum(pfc_tx_pause_frames), sum(pfc_rx_pause_us), sum(credit_stall_us), sum(link_errors), sum(down_samples),
       max(stored_at)
FROM port_samples_1s
WHERE (SELECT count() FROM ${TABLE}) = 0
GROUP BY bucket_ts, port`;

/** As in 0003: on a sharded cluster each shard rolls up its own local samples. */
const createView = (l: SchemaLayout) => `
CREATE MATERIALIZED VIEW IF NOT EXISTS ${TABLE}_mv${l.onCluster} TO ${l.storage(TABLE)} AS
SELECT bucket_ts AS ts, ${ROLLUP_COLUMNS} FROM (${rollupOfSamples(l, { bucket: BUCKET })} GROUP BY bucket_ts, port)`;

export const portRollup10s: Migration = {
  version: 9,
  name: 'port_samples 10 s rollup',
  // A cluster schema is created from nothing by this code: no rows to backfill (as in 0003).
  statements: (l) => [createTable(l), ...l.distributedTable(TABLE), ...(l.cluster ? [] : [backfill()]), createView(l)],
};
