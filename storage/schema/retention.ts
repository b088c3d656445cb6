/**
 * Retention by TTL, per table, in days, counted from when a row was stored (`stored_at`, see
 * 0004-stored-at.ts for why not event time). Unlike migrations this is configuration: it is
 * reconciled on every `migrate()`, changing a table's TTL only when it differs from the
 * configured one. Changing it touches metadata only (materialize_ttl_after_modify = 0);
 * expired rows go at the next merges rather than in one rewrite of every part.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '../../core/log.js';
import { SchemaLayout } from './layout.js';

/** Tables with a retention. */
export const RETENTION_TABLES = [
  'port_samples',
  'port_samples_1s',
  'port_samples_10s',
  'port_samples_1m',
  'port_samples_5m',
  'gpu_samples',
  'collective_events',
  'collective_calls',
  'congestion_episodes',
  'stalls',
  'alerts',
] as const;

export type RetentionTable = (typeof RETENTION_TABLES)[number];
/** Days to keep, per table; 0 keeps forever. */
export type RetentionDays = Record<RetentionTable, number>;

/** Raw telemetry is bulky and its rollups answer long windows; findings are small and kept long. */
export const DEFAULT_RETENTION_DAYS: RetentionDays = {
  port_samples: 30,
  port_samples_1s: 90,
  port_samples_10s: 90,
  port_samples_1m: 365,
  port_samples_5m: 365,
  gpu_samples: 30,
  collective_events: 30,
  collective_calls: 365,
  congestion_episodes: 365,
  stalls: 365,
  alerts: 365,
};

/**
 * Tables that hold the same records as another and must keep them exactly as long: the stall
 * lookup (0006) answers GET /stalls/:id for every stall the listing shows, and no longer.
 */
const FOLLOWERS: ReadonlyArray<readonly [table: string, follows: RetentionTable]> = [['stalls_by_id', 'stalls']];

/** The TTL clause as ClickHouse prints it back in system.tables.engine_full. */
const ttlOf = (days: number): string => `TTL stored_at + toIntervalDay(${days})`;

export function resolveRetention(overrides: Partial<RetentionDays> = {}): RetentionDays {
  const out = { ...DEFAULT_RETENTION_DAYS };
  for (const [table, days] of Object.entries(overrides) as Array<[RetentionTable, number | undefined]>) {
    if (!(RETENTION_TABLES as readonly string[]).includes(table)) throw new RangeError(`retention: unknown table "${table}"`);
    if (days === undefined) continue;
    if (!Number.isSafeInteger(days) || days < 0) throw new RangeError(`retention of ${table} must be a whole number of days ≥ 0, got ${days}`);
    out[table] = days;
  }
  return out;
}

/**
 * Brings every table's TTL to `retention`; returns the tables it changed. On a sharded cluster
 * the TTL belongs to the local tables that hold the rows (the Distributed ones hold none).
 */
export async function applyRetention(
  client: ClickHouseClient,
  retention: RetentionDays,
  options: { logger?: Logger; layout?: SchemaLayout } = {},
): Promise<RetentionTable[]> {
  const { logger, layout = SchemaLayout.SINGLE_NODE } = options;
  const rs = await client.query({
    query: 'SELECT name, engine_full FROM system.tables WHERE database = currentDatabase() AND name IN {names:Array(String)}',
    query_params: { names: [...RETENTION_TABLES, ...FOLLOWERS.map(([t]) => t)].map((t) => layout.storage(t)) },
    format: 'JSONEachRow',
  });
  const current = new Map((await rs.json<{ name: string; engine_full: string }>()).map((r) => [r.name, r.engine_full]));
  const changed: RetentionTable[] = [];
  const targets = [...RETENTION_TABLES.map((t) => [t, t] as const), ...FOLLOWERS];
  for (const [table, follows] of targets) {
    const engine = current.get(layout.storage(table));
    if (engine === undefined) continue;
    const days = retention[follows];
    const hasTtl = / TTL /.test(engine);
    let action: string | undefined;
    if (days === 0 && hasTtl) action = 'REMOVE TTL';
    else if (days > 0 && !engine.includes(`${ttlOf(days)} `) && !engine.endsWith(ttlOf(days))) {
      action = `MODIFY ${ttlOf(days)} SETTINGS materialize_ttl_after_modify = 0`;
    }
    if (!action) continue;
    await client.command({ query: layout.alterStorage(table, action) });
    logger?.info('retention applied', { table, days });
    if (table === follows) changed.push(follows);
  }
  return changed;
}
