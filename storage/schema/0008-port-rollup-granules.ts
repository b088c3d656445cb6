/**
 * Rebuilds the 1-second and 1-minute port rollups (0003) in 256-row granules compressed in
 * small blocks, like the 5-minute one (0007). A port series reads ~360 rows of one port, but
 * the 8,192-row granules made the engine unpack up to 8,192 rows a column to find them; on the
 * API bench's mix of series, 256-row granules cut engine CPU by ~30 %. `index_granularity` is
 * fixed when a MergeTree is created, so each table is copied into a new one and swapped in:
 *
 *   1. create `<rollup>_g256` (and its Distributed table on a sharded cluster);
 *   2. drop the rollup's view, so the old table stops changing;
 *   3. empty `<rollup>_g256` and copy every row of the old table into it (rows as stored, not
 *      re-aggregated: merges and readers combine them exactly as before);
 *   4. EXCHANGE the two tables: the rollup's name, which every query, dashboard, retention
 *      and deduplication setting uses, now holds the new table;
 *   5. re-create the view (into the name, now the new table) and drop `<rollup>_g256`, which
 *      holds the old one.
 *
 * A re-run after a crash looks first (statementsFor): a rollup already in 256-row granules
 * only needs steps 5; any other is copied again from step 1, and step 3 empties the copy first
 * so a half-done copy is never counted twice. The copy disables insert deduplication, which
 * would otherwise drop blocks identical to those of the emptied half-done copy. The TTL the
 * old table has is carried over (retention reconciles it after migrating anyway).
 * Samples stored while this migration runs, between steps 2 and 5, are missing from the
 * rollups, as in 0003; the raw samples keep them.
 *
 * On a sharded cluster the copy is one INSERT from the Distributed rollup into the new
 * Distributed table, synchronous, sharded by the same key, so every row lands on the shard it
 * came from. (A replicated cluster without Distributed tables copies the shard of the node that
 * migrates; its replicas receive it by replication.)
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { StorageError } from '../../core/errors.js';
import type { Migration } from './migration.js';
import { SHARDING_KEYS, type SchemaLayout } from './layout.js';
import { ROLLUPS, ROLLUP_COLUMNS, createRollupView, type Rollup } from './0003-port-rollups.js';
import { PORT_ROLLUP_GRANULE, createSmallGranuleRollup } from './small-granule-rollup.js';

/** The new table's name while it is built; after the swap, the old table's until dropped. */
export const rebuildName = (table: string) => `${table}_g${PORT_ROLLUP_GRANULE}`;

/** What a rollup looks like on the node that migrates. */
export interface RollupFound {
  /** Already in 256-row granules: the swap happened. */
  rebuilt: boolean;
  /** The old table's TTL expression, to keep (`stored_at + toIntervalDay(90)`). */
  ttl?: string;
}

const createRebuilt = (l: SchemaLayout, r: Rollup, ttl: string | undefined) => createSmallGranuleRollup(l, rebuildName(r.table), r.partition, ttl);

const copySettings = (l: SchemaLayout) => ['insert_deduplicate = 0', ...(l.distributed ? ['insert_distributed_sync = 1'] : [])].join(', ');

const copyRows = (l: SchemaLayout, r: Rollup) => `
INSERT INTO ${rebuildName(r.table)} (ts, ${ROLLUP_COLUMNS}, stored_at) SETTINGS ${copySettings(l)}
SELECT ts, ${ROLLUP_COLUMNS}, stored_at FROM ${r.table}`;

/** Steps 1–4: build the new table beside the old one and swap them. */
const rebuild = (l: SchemaLayout, r: Rollup, ttl: string | undefined) => [
  createRebuilt(l, r, ttl),
  ...l.distributedTable(rebuildName(r.table), SHARDING_KEYS[r.table]),
  `DROP VIEW IF EXISTS ${r.table}_mv${l.onCluster} SYNC`,
  `TRUNCATE TABLE IF EXISTS ${l.storage(rebuildName(r.table))}${l.onCluster}`,
  copyRows(l, r),
  `EXCHANGE TABLES ${l.storage(r.table)} AND ${l.storage(rebuildName(r.table))}${l.onCluster}`,
];

/** Step 5: the view back, the old table gone. */
const finish = (l: SchemaLayout, r: Rollup) => [
  createRollupView(l, r),
  ...(l.distributed ? [`DROP TABLE IF EXISTS ${rebuildName(r.table)}${l.onCluster} SYNC`] : []),
  `DROP TABLE IF EXISTS ${l.storage(rebuildName(r.table))}${l.onCluster} SYNC`,
];

/** The statements that finish the rebuild of each rollup from where `found` says it stands. */
export function rebuildStatements(l: SchemaLayout, found: Record<string, RollupFound>): string[] {
  return ROLLUPS.flatMap((r) => {
    const f = found[r.table] ?? { rebuilt: false };
    return [...(f.rebuilt ? [] : rebuild(l, r, f.ttl)), ...finish(l, r)];
  });
}

const GRANULARITY = /\bindex_granularity = (\d+)/;
const TTL = /\bTTL (.+?)(?: SETTINGS |$)/;

/** Each rollup's state on this node, from the engine clause ClickHouse prints back. */
export async function findRollups(client: ClickHouseClient, l: SchemaLayout): Promise<Record<string, RollupFound>> {
  const rs = await client.query({
    query: 'SELECT name, engine_full FROM system.tables WHERE database = currentDatabase() AND name IN {names:Array(String)}',
    query_params: { names: ROLLUPS.map((r) => l.storage(r.table)) },
    format: 'JSONEachRow',
  });
  const engines = new Map((await rs.json<{ name: string; engine_full: string }>()).map((t) => [t.name, t.engine_full]));
  const found: Record<string, RollupFound> = {};
  for (const r of ROLLUPS) {
    const engine = engines.get(l.storage(r.table));
    if (engine === undefined) throw new StorageError(`migration 8: rollup table ${l.storage(r.table)} is missing; migration 3 should have created it`);
    found[r.table] = { rebuilt: Number(GRANULARITY.exec(engine)?.[1] ?? 8192) === PORT_ROLLUP_GRANULE, ttl: TTL.exec(engine)?.[1] };
  }
  return found;
}

export const portRollupGranules: Migration = {
  version: 8,
  name: 'port_samples 1 s and 1 min rollups rebuilt in 256-row granules',
  statements: (l) => rebuildStatements(l, {}),
  statementsFor: async (client, l) => rebuildStatements(l, await findRollups(client, l)),
};
