/**
 * `port_samples_5m`: a 5-minute rollup of port_samples, for series over many hours or days at
 * steps of whole 5 minutes (a day at a 5-min step reads 288 rows a port instead of 1,440 from
 * the 1-minute rollup), in 256-row granules compressed in small blocks: one port's day unpacks
 * ~500 rows, where the 8,192-row granules and 64 KB blocks of the older rollups unpack ~16,000
 * rows to hand over ~1,500. Measured on a day of 2,048 ports: 12 such series read in one query
 * took 15 ms of engine time (24 ms with the default blocks, 100 ms from the 1-minute rollup),
 * for 13 % more bytes on disk than default blocks.
 *
 * Kept like the rollups of 0003: an AggregatingMergeTree of SimpleAggregateFunction columns
 * fed by a materialized view over the raw samples. Backfilled once, into an empty table,
 * before its view exists, from the 1-minute rollup (sums of sums and maxima of maxima stay
 * exact, and it reaches back further than the raw samples' retention). As in 0003, samples
 * stored while this migration runs, between backfill and view, are missing from it.
 */
import type { Migration } from './migration.js';
import type { SchemaLayout } from './layout.js';
import { ROLLUP_COLUMNS, ROLLUP_COLUMNS_DDL, rollupOfSamples } from './0003-port-rollups.js';

export const PORT_ROLLUP_5M_GRANULE = 256;
/** Compressed blocks of about a granule of one column (256 × 8 bytes), not the default 64 KB. */
const COMPRESS_BLOCK_BYTES = { min: 4096, max: 8192 };

const TABLE = 'port_samples_5m';

/** Non-replicated tables get 0005's deduplication window (replicated tables keep their own). */
const settings = (l: SchemaLayout) =>
  [
    `index_granularity = ${PORT_ROLLUP_5M_GRANULE}`,
    `min_compress_block_size = ${COMPRESS_BLOCK_BYTES.min}`,
    `max_compress_block_size = ${COMPRESS_BLOCK_BYTES.max}`,
    ...(l.replicated ? [] : ['non_replicated_deduplication_window = 1000']),
  ].join(', ');

const createTable = (l: SchemaLayout) => `
${l.createTable(TABLE)}
${ROLLUP_COLUMNS_DDL}
${l.engine(TABLE, 'AggregatingMergeTree')}
PARTITION BY toYYYYMM(ts)
ORDER BY (port, ts)
SETTINGS ${settings(l)}`;

const backfill = () => `
INSERT INTO ${TABLE} (ts, ${ROLLUP_COLUMNS}, stored_at)
SELECT toStartOfFiveMinutes(ts) AS bucket_ts, port,
       sum(samples), sum(interval_ms), max(queue_bytes_max), sum(queue_bytes_sum), sum(tx_bytes), sum(ecn_marked_pkts),
       sum(pfc_tx_pause_frames), sum(pfc_rx_pause_us), sum(credit_stall_us), sum(link_errors), sum(down_samples),
       max(stored_at)
FROM port_samples_1m
WHERE (SELECT count() FROM ${TABLE}) = 0
GROUP BY bucket_ts, port`;

/** As in 0003: on a sharded cluster each shard rolls up its own local samples. */
const createView = (l: SchemaLayout) => `
CREATE MATERIALIZED VIEW IF NOT EXISTS ${TABLE}_mv${l.onCluster} TO ${l.storage(TABLE)} AS
SELECT bucket_ts AS ts, ${ROLLUP_COLUMNS} FROM (${rollupOfSamples(l, { bucket: 'toStartOfFiveMinutes(ts)' })} GROUP BY bucket_ts, port)`;

export const portRollup5m: Migration = {
  version: 7,
  name: 'port_samples 5 min rollup',
  // A cluster schema is created from nothing by this code: no rows to backfill (as in 0003).
  statements: (l) => [createTable(l), ...l.distributedTable(TABLE), ...(l.cluster ? [] : [backfill()]), createView(l)],
};
