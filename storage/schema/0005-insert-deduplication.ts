/**
 * Insert deduplication for exactly-once storage from Kafka. The sink inserts each Kafka
 * delivery with a deterministic `insert_deduplication_token`; ClickHouse drops a block whose
 * token it has seen among the last N inserts of that table. Replicated tables keep such a
 * window by default; plain MergeTree keeps none (`non_replicated_deduplication_window` = 0),
 * so here every table and rollup target gets one. The rollup views deduplicate too because
 * the sink's inserts set `deduplicate_blocks_in_dependent_materialized_views`.
 * 1000 blocks cover far more than the re-deliveries a crash or rebalance can cause.
 */
import type { Migration } from './migration.js';

const TABLES = ['port_samples', 'gpu_samples', 'collective_events', 'congestion_episodes', 'stalls', 'alerts', 'port_samples_1s', 'port_samples_1m'];

export const insertDeduplication: Migration = {
  version: 5,
  name: 'insert deduplication windows on every table',
  // Replicated tables deduplicate by themselves (replicated_deduplication_window, kept in
  // Keeper and shared by the replicas): the non-replicated window does not apply to them.
  statements: (l) =>
    l.replicated ? [] : TABLES.map((t) => l.alterStorage(t, 'MODIFY SETTING non_replicated_deduplication_window = 1000')),
};
