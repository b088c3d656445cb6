/**
 * Migration 0006 on real embedded chDB: a data directory written under schema 5 migrates
 * forward, and the stall lookup and the per-call rollup then answer exactly what the tables
 * they copy would: the newest version of a stall, a job's call durations and busbw. Re-running
 * the backfills never double counts; rows stored after the migration flow through the views.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@clickhouse/client';
import { openClickHouse } from '../../storage/clickhouse-connection.js';
import { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { MIGRATIONS, runMigrations } from '../../storage/schema/migrations.js';
import { SchemaLayout } from '../../storage/schema/layout.js';
import { applyRetention, resolveRetention } from '../../storage/schema/retention.js';
import type { CollectiveEvent } from '../../core/records.js';
import { T0, collectiveEvent, stall, tempDataDir } from './fixtures.js';

let client: ClickHouseClient;
let store: ClickHouseStore;

/** Call `seq` of train-a: 4 ranks starting `seq` s after T0, rank r `r` ms late and `r` GB/s slower. */
const call = (seq: number): CollectiveEvent[] =>
  [0, 1, 2, 3].map((rank) => {
    const e = collectiveEvent(rank, seq);
    const start_us = (T0 + seq * 1000) * 1000 + rank * 1000;
    return { ...e, n_ranks: 4, start_us, end_us: start_us + 20_000 + seq * 1000, busbw_gbs: 100 - rank };
  });

const rows = async <R>(query: string): Promise<R[]> => (await client.query({ query, format: 'JSONEachRow' })).json<R>();

beforeAll(async () => {
  ({ client } = openClickHouse({ kind: 'embedded', dataDir: tempDataDir('read-paths') }));
  store = new ClickHouseStore(client);
  // A directory as it was before 0006: data stored under schema 5.
  await runMigrations(client, { migrations: MIGRATIONS.filter((m) => m.version <= 5) });
  await store.insert('stalls', [stall(1), stall(2, { job: 'train-b' })]);
  await store.insert('stalls', [stall(1, { expected_us: 21_000 })]); // a revised version
  await store.insert('collective_events', [...call(1), ...call(2).slice(0, 2)]);
  await store.insert('collective_events', call(2).slice(2)); // the rest of call 2, later
  await store.migrate();
});
afterAll(async () => {
  await store?.close();
});

const backfills = () =>
  MIGRATIONS.find((m) => m.version === 6)!
    .statements(SchemaLayout.SINGLE_NODE)
    .filter((s) => s.trim().startsWith('INSERT'));

describe('stall lookup by id (0006)', () => {
  it('holds the stalls stored before the migration, newest version first', async () => {
    expect(await store.getStall('train-a:1')).toEqual(stall(1, { expected_us: 21_000 }));
    expect(await store.getStall('train-b:2')).toEqual(stall(2, { job: 'train-b' }));
    expect(await store.getStall('train-a:2')).toBeUndefined();
  });

  it('receives stalls stored after the migration, and their revisions', async () => {
    await store.insert('stalls', [stall(3, { kind: 'pfc_storm', location: 'node-2/nic-1' })]);
    expect(await store.getStall('train-a:3')).toEqual(stall(3, { kind: 'pfc_storm', location: 'node-2/nic-1' }));
    await store.insert('stalls', [stall(3, { kind: 'link_flap', location: 'leaf-0/p9' })]);
    expect((await store.getStall('train-a:3'))?.root_cause.kind).toBe('link_flap');
  });

  it('keeps stalls exactly as long as the stalls table does', async () => {
    const ttlDays = async () =>
      (await rows<{ days: string }>(
        "SELECT extract(engine_full, 'TTL stored_at \\\\+ toIntervalDay\\\\((\\\\d+)\\\\)') AS days FROM system.tables WHERE database = currentDatabase() AND name = 'stalls_by_id'",
      ))[0]?.days;
    expect(await ttlDays()).toBe('365');
    await applyRetention(client, resolveRetention({ stalls: 30 }));
    expect(await ttlDays()).toBe('30');
    await applyRetention(client, resolveRetention());
    expect(await ttlDays()).toBe('365');
  });

  it('a re-run backfill copies nothing twice', async () => {
    const before = await rows<{ n: number }>('SELECT count() AS n FROM stalls_by_id');
    for (const statement of backfills()) if (statement.includes('stalls_by_id')) await client.command({ query: statement });
    expect(await rows<{ n: number }>('SELECT count() AS n FROM stalls_by_id')).toEqual(before);
  });
});

describe('per-call rollup (0006)', () => {
  const series = () => store.jobSeries('train-a', { from_ms: T0, to_ms: T0 + 10_000, step_ms: 10_000 });
  // Call 1 lasts 3 ms of skew + 21 ms, call 2 3 + 22 ms; busbw is the mean over ranks (98.5).
  const expected = (calls: number, durations: number[]) => ({
    t_ms: T0,
    calls,
    duration_max_us: Math.max(...durations),
    busbw_avg_gbs: 98.5,
    busbw_min_gbs: 98.5,
  });

  it('answers a job series from calls backfilled at migration, whole calls from split inserts', async () => {
    const [point] = await series();
    expect(point).toMatchObject(expected(2, [24_000, 25_000]));
  });

  it('a re-run backfill never double counts', async () => {
    for (const statement of backfills()) if (statement.includes('collective_calls')) await client.command({ query: statement });
    expect((await series())[0]).toMatchObject(expected(2, [24_000, 25_000]));
  });

  it('calls stored after the migration flow through the view, even split over inserts', async () => {
    await store.insert('collective_events', call(3).slice(0, 1));
    await store.insert('collective_events', call(3).slice(1));
    const [point] = await series();
    expect(point).toMatchObject(expected(3, [24_000, 25_000, 26_000]));
    expect(point?.duration_p50_us).toBe(25_000);
  });

  it('a window counts the calls that started in it', async () => {
    const points = await store.jobSeries('train-a', { from_ms: T0 + 2000, to_ms: T0 + 3000, step_ms: 1000 });
    expect(points).toEqual([{ ...expected(1, [25_000]), t_ms: T0 + 2000, duration_p50_us: 25_000, duration_p99_us: 25_000 }]);
  });
});
