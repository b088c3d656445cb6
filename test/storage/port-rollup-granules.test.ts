/**
 * Migration 0008 on real embedded chDB: a data directory written under schema 7, with rows in
 * both port rollups and a configured retention, migrates forward to rollups in 256-row
 * granules holding the same rows under the same names, with the same TTL, fed by their views.
 * Re-runs after a crash — half-way through a copy, or after the swap but before the view came
 * back — finish the job without losing or double counting a row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@clickhouse/client';
import { openClickHouse } from '../../storage/clickhouse-connection.js';
import { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { MIGRATIONS, runMigrations } from '../../storage/schema/migrations.js';
import { SchemaLayout } from '../../storage/schema/layout.js';
import { applyRetention, resolveRetention } from '../../storage/schema/retention.js';
import { findRollups, rebuildName, rebuildStatements } from '../../storage/schema/0008-port-rollup-granules.js';
import { PORT_ROLLUP_GRANULE } from '../../storage/schema/small-granule-rollup.js';
import type { PortSample } from '../../core/records.js';
import { T0, portSample, tempDataDir } from './fixtures.js';

const ROLLUPS = ['port_samples_1s', 'port_samples_1m'] as const;
const PORTS = ['leaf-3/p5', 'spine-1/p2'];
let client: ClickHouseClient;
let store: ClickHouseStore;

/** One sample every 500 ms from second `from` to second `to` on both ports. */
const samples = (from: number, to: number): PortSample[] =>
  PORTS.flatMap((port, p) =>
    Array.from({ length: (to - from) * 2 }, (_, i) => {
      const ms = from * 1000 + i * 500;
      return { ...portSample(i % 1000, port), ts_ms: T0 + ms, interval_ms: 500, queue_bytes: (ms * 7919 + p) % 100_000, ecn_marked_pkts: i % 7 };
    }),
  );

const rows = async <R>(query: string): Promise<R[]> => (await client.query({ query, format: 'JSONEachRow' })).json<R>();

/** A rollup's content as readers see it: one row per (port, ts), re-aggregated. */
const contentOf = (table: string) =>
  rows(`SELECT port, ts, sum(samples) AS samples, sum(interval_ms) AS interval_ms, max(queue_bytes_max) AS queue_max,
               sum(queue_bytes_sum) AS queue_sum, sum(ecn_marked_pkts) AS ecn, sum(down_samples) AS down, max(stored_at) AS stored_at
        FROM ${table} GROUP BY port, ts ORDER BY port, ts`);

const tableOf = async (name: string) =>
  (await rows<{ engine_full: string }>(`SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = '${name}'`))[0]?.engine_full;

const tablesNamed = async (pattern: string) =>
  (await rows<{ name: string }>(`SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE '${pattern}' ORDER BY name`)).map((r) => r.name);

let before: Record<string, unknown[]>;

beforeAll(async () => {
  ({ client } = openClickHouse({ kind: 'embedded', dataDir: tempDataDir('port-rollup-granules') }));
  store = new ClickHouseStore(client);
  // A directory as it was before 0008: samples stored under schema 7 in two inserts, a retention configured.
  await runMigrations(client, { migrations: MIGRATIONS.filter((m) => m.version <= 7) });
  await applyRetention(client, resolveRetention({ port_samples_1s: 7, port_samples_1m: 0 }));
  await store.insert('port_samples', samples(0, 150));
  await store.insert('port_samples', samples(150, 200));
  before = Object.fromEntries(await Promise.all(ROLLUPS.map(async (t) => [t, await contentOf(t)] as const)));
  // A crash half-way through the first copy: the new 1 s table exists, the view is gone, and
  // the copy holds rows twice over. The migration must start that copy again from empty.
  const statements = rebuildStatements(SchemaLayout.SINGLE_NODE, await findRollups(client, SchemaLayout.SINGLE_NODE));
  const copy = statements.findIndex((s) => s.includes('INSERT INTO port_samples_1s_g256'));
  for (const s of [...statements.slice(0, copy + 1), statements[copy]!]) await client.command({ query: s });
  expect(await tableOf('port_samples_1s_mv')).toBeUndefined();
  await runMigrations(client);
});
afterAll(async () => {
  await store?.close();
});

describe('port rollups in 256-row granules (0008)', () => {
  it('had rows in both rollups before', () => {
    for (const t of ROLLUPS) expect(before[t]!.length).toBeGreaterThan(1);
    expect(before.port_samples_1s!.length).toBe(2 * 200);
  });

  it('the rollups keep their names and rows, now in 256-row granules, and no copy is left', async () => {
    for (const t of ROLLUPS) {
      expect(await tableOf(t)).toContain(`index_granularity = ${PORT_ROLLUP_GRANULE}`);
      expect(await contentOf(t)).toEqual(before[t]);
    }
    expect(await tablesNamed('%_g256%')).toEqual([]);
  });

  it('keeps the retention and the deduplication window', async () => {
    expect(await tableOf('port_samples_1s')).toContain('TTL stored_at + toIntervalDay(7) ');
    expect(await tableOf('port_samples_1m')).not.toContain(' TTL ');
    for (const t of ROLLUPS) expect(await tableOf(t)).toContain('non_replicated_deduplication_window = 1000');
    // Retention reconciles against the new tables as against any other (tables later migrations add get theirs now).
    const changed = await applyRetention(client, resolveRetention({ port_samples_1s: 7, port_samples_1m: 0 }));
    expect(changed.filter((t) => (ROLLUPS as readonly string[]).includes(t))).toEqual([]);
  });

  it('samples stored after the migration flow through the views, and the series read them', async () => {
    await store.insert('port_samples', samples(200, 260));
    const raw = await rows<{ n: string }>(`SELECT toString(count()) AS n FROM port_samples`);
    for (const t of ROLLUPS) expect((await rows<{ n: string }>(`SELECT toString(sum(samples)) AS n FROM ${t}`))[0]).toEqual(raw[0]);
    const series = await store.portSeries(PORTS[0]!, { from_ms: T0, to_ms: T0 + 260_000, step_ms: 10_000 });
    expect(series.points).toHaveLength(26);
  });

  it('a re-run after the swap, before the view came back, only restores the view', async () => {
    const now = await findRollups(client, SchemaLayout.SINGLE_NODE);
    expect(Object.values(now).map((f) => f.rebuilt)).toEqual([true, true]);
    expect(rebuildStatements(SchemaLayout.SINGLE_NODE, now).filter((s) => /INSERT|EXCHANGE|TRUNCATE/.test(s))).toEqual([]);
    const contents = await Promise.all(ROLLUPS.map(contentOf));
    await client.command({ query: 'DROP VIEW port_samples_1m_mv SYNC' });
    await client.command({ query: 'ALTER TABLE schema_migrations DELETE WHERE version = 8 SETTINGS mutations_sync = 1' });
    expect(await runMigrations(client)).toEqual([8]);
    expect(await Promise.all(ROLLUPS.map(contentOf))).toEqual(contents);
    await store.insert('port_samples', samples(260, 270));
    expect(await tableOf('port_samples_1m_mv')).toBeDefined();
    const raw = await rows<{ n: string }>(`SELECT toString(count()) AS n FROM port_samples`);
    expect((await rows<{ n: string }>(`SELECT toString(sum(samples)) AS n FROM port_samples_1m`))[0]).toEqual(raw[0]);
    expect(rebuildName('port_samples_1m')).toBe('port_samples_1m_g256');
  });
});
