/**
 * The port rollups laid out for reading one port at a time (0007, 0008, 0009): 256-row granules
 * compressed in small blocks. A port series reads a few hundred rows of one port; with the
 * default 8,192-row granules and 64 KB blocks the engine unpacks up to 8,192 rows a column to
 * find them. Also the shape of a rollup fed by a view over the raw samples and backfilled once
 * from a finer rollup (sums of sums and maxima of maxima stay exact, and a finer rollup reaches
 * back further than the raw samples' retention).
 */
import type { Migration } from './migration.js';
import type { SchemaLayout } from './layout.js';
import { ROLLUP_COLUMNS, ROLLUP_COLUMNS_DDL, rollupOfSamples } from './0003-port-rollups.js';

export const PORT_ROLLUP_GRANULE = 256;
/** Compressed blocks of about a granule of one column (256 × 8 bytes), not the default 64 KB. */
const COMPRESS_BLOCK_BYTES = { min: 4096, max: 8192 };

/** Non-replicated tables get 0005's deduplication window (replicated tables keep their own). */
const settings = (l: SchemaLayout) =>
  [
    `index_granularity = ${PORT_ROLLUP_GRANULE}`,
    `min_compress_block_size = ${COMPRESS_BLOCK_BYTES.min}`,
    `max_compress_block_size = ${COMPRESS_BLOCK_BYTES.max}`,
    ...(l.replicated ? [] : ['non_replicated_deduplication_window = 1000']),
  ].join(', ');

/** A rollup table in small granules; `ttl` when it must keep one it had (0008's rebuild). */
export const createSmallGranuleRollup = (l: SchemaLayout, table: string, partition: string, ttl?: string) => `
${l.createTable(table)}
${ROLLUP_COLUMNS_DDL}
${l.engine(table, 'AggregatingMergeTree')}
PARTITION BY ${partition}
ORDER BY (port, ts)${ttl ? `\nTTL ${ttl}` : ''}
SETTINGS ${settings(l)}`;

export interface CoarserRollup {
  version: number;
  name: string;
  table: string;
  partition: string;
  /** The bucket of a row: an expression of `ts`. */
  bucket: string;
  /** The finer rollup it is backfilled from. */
  backfillFrom: string;
}

/**
 * A rollup migration: the table, its Distributed table on a cluster, a one-time backfill into
 * the empty table before its view exists, then the view. As in 0003, samples stored while it
 * runs, between backfill and view, are missing from the rollup; a cluster schema is created
 * from nothing by this code, so there is nothing to backfill there.
 */
export function coarserRollupMigration(r: CoarserRollup): Migration {
  const backfill = `
INSERT INTO ${r.table} (ts, ${ROLLUP_COLUMNS}, stored_at)
SELECT ${r.bucket} AS bucket_ts, port,
       sum(samples), sum(interval_ms), max(queue_bytes_max), sum(queue_bytes_sum), sum(tx_bytes), sum(ecn_marked_pkts),
       sum(pfc_tx_pause_frames), sum(pfc_rx_pause_us), sum(credit_stall_us), sum(link_errors), sum(down_samples),
       max(stored_at)
FROM ${r.backfillFrom}
WHERE (SELECT count() FROM ${r.table}) = 0
GROUP BY bucket_ts, port`;
  // As in 0003: on a sharded cluster each shard rolls up its own local samples.
  const createView = (l: SchemaLayout) => `
CREATE MATERIALIZED VIEW IF NOT EXISTS ${r.table}_mv${l.onCluster} TO ${l.storage(r.table)} AS
SELECT bucket_ts AS ts, ${ROLLUP_COLUMNS} FROM (${rollupOfSamples(l, { bucket: r.bucket })} GROUP BY bucket_ts, port)`;
  return {
    version: r.version,
    name: r.name,
    statements: (l) => [
      createSmallGranuleRollup(l, r.table, r.partition),
      ...l.distributedTable(r.table),
      ...(l.cluster ? [] : [backfill]),
      createView(l),
    ],
  };
}
