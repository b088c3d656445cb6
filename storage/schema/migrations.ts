/**
 * Versioned schema migrations. Applied versions are recorded in `schema_migrations`; `migrate`
 * runs the missing ones in order. Each step is idempotent, and the record table is itself a
 * ReplacingMergeTree, so two processes migrating at once end up with one row per version.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '../../core/log.js';
import type { Migration } from './migration.js';
import { SchemaLayout } from './layout.js';
import { initialSchema } from './0001-initial.js';
import { stallRankCount } from './0002-stall-rank-count.js';
import { portRollups } from './0003-port-rollups.js';
import { storedAt } from './0004-stored-at.js';
import { insertDeduplication } from './0005-insert-deduplication.js';
import { stallLookupAndCallRollup } from './0006-stall-lookup-and-call-rollup.js';
import { portRollup5m } from './0007-port-rollup-5m.js';
import { portRollupGranules } from './0008-port-rollup-granules.js';
import { portRollup10s } from './0009-port-rollup-10s.js';

/** Every migration, oldest first. Append only: never edit or renumber a released one. */
export const MIGRATIONS: readonly Migration[] = [
  initialSchema,
  stallRankCount,
  portRollups,
  storedAt,
  insertDeduplication,
  stallLookupAndCallRollup,
  portRollup5m,
  portRollupGranules,
  portRollup10s,
];

/**
 * Never distributed: every node answers for the schema it has. On a replicated cluster the
 * replicas of a shard share it; a node of another shard that finds no record re-runs the
 * (idempotent, ON CLUSTER) steps harmlessly.
 */
const createMigrationsTable = (l: SchemaLayout) => `
CREATE TABLE IF NOT EXISTS schema_migrations${l.onCluster}
(
    version    UInt32,
    name       String,
    applied_at DateTime64(3, 'UTC')
)
${l.engine('schema_migrations', 'ReplacingMergeTree', 'applied_at')}
ORDER BY version`;

export interface MigrationOptions {
  logger?: Logger;
  /** Default: every migration. */
  migrations?: readonly Migration[];
  /** Default: one node. */
  layout?: SchemaLayout;
}

export async function appliedVersions(client: ClickHouseClient): Promise<Set<number>> {
  const rs = await client.query({ query: 'SELECT DISTINCT version FROM schema_migrations', format: 'JSONEachRow' });
  const rows = await rs.json<{ version: number | string }>();
  return new Set(rows.map((r) => Number(r.version)));
}

/** Brings the schema up to date; returns the versions it applied (empty when already current). */
export async function runMigrations(client: ClickHouseClient, options: MigrationOptions = {}): Promise<number[]> {
  const { logger, migrations = MIGRATIONS, layout = SchemaLayout.SINGLE_NODE } = options;
  await client.command({ query: createMigrationsTable(layout) });
  const done = await appliedVersions(client);
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    const statements = m.statementsFor ? await m.statementsFor(client, layout) : m.statements(layout);
    for (const statement of statements) await client.command({ query: statement });
    await client.insert({
      table: 'schema_migrations',
      format: 'JSONEachRow',
      values: [{ version: m.version, name: m.name, applied_at: Date.now() }],
    });
    logger?.info('schema migration applied', { version: m.version, name: m.name });
    applied.push(m.version);
  }
  return applied;
}
