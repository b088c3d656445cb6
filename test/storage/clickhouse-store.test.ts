/** ClickHouseStore on real embedded chDB: every record type, filters, idempotency, migrations. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../storage/create-store.js';
import type { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { runMigrations, MIGRATIONS } from '../../storage/schema/migrations.js';
import { SchemaLayout } from '../../storage/schema/layout.js';
import { openClickHouse } from '../../storage/clickhouse-connection.js';
import { DEFAULT_RETENTION_DAYS, RETENTION_TABLES, applyRetention, resolveRetention } from '../../storage/schema/retention.js';
import { StorageError } from '../../core/errors.js';
import { T0, alert, collectiveEvent, episode, gpuSample, portSample, stall, tempDataDir } from './fixtures.js';

let store: ClickHouseStore;

beforeAll(async () => {
  store = createStore({ data: tempDataDir('store') });
  await store.migrate();
});
afterAll(async () => {
  await store?.close();
});

describe('migrations', () => {
  it('run again without error and are recorded once per version', async () => {
    await store.migrate();
    await store.migrate();
    const counts = await store.counts();
    expect(Object.keys(counts).sort()).toEqual(
      ['alerts', 'collective_events', 'congestion_episodes', 'gpu_samples', 'port_samples', 'stalls'],
    );
  });

  it('record every version in schema_migrations', async () => {
    // A second client on the same directory is allowed (chDB shares the process engine).
    const { client } = openClickHouse({ kind: 'embedded', dataDir: store.describe.slice('chdb:'.length) });
    const applied = await runMigrations(client);
    expect(applied).toEqual([]);
    const rs = await client.query({ query: 'SELECT version FROM schema_migrations FINAL ORDER BY version', format: 'JSONEachRow' });
    expect((await rs.json<{ version: number }>()).map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
  });
});

describe('stalls', () => {
  beforeAll(async () => {
    await store.insert('stalls', [
      stall(1),
      stall(2, { kind: 'straggler_gpu', location: 'node-1/gpu-3', duration_us: 200_000 }),
      stall(3, { job: 'train-b', kind: 'pfc_storm', location: 'node-2/nic-1' }),
      stall(4, { kind: 'unknown', location: '', duration_us: 30_000 }),
    ]);
  });

  it('round-trips a stall in full, ranks and evidence included', async () => {
    const s = await store.getStall('train-a:1');
    expect(s).toEqual(stall(1));
    expect(await store.getStall('nope')).toBeUndefined();
  });

  it('lists newest first', async () => {
    const all = await store.listStalls({ limit: 100 });
    expect(all.map((s) => s.id)).toEqual(['train-a:4', 'train-b:3', 'train-a:2', 'train-a:1']);
  });

  it('filters by job, kind, location and minimum duration', async () => {
    const ids = async (f: Parameters<ClickHouseStore['listStalls']>[0]) => (await store.listStalls(f)).map((s) => s.id);
    expect(await ids({ job: 'train-b', limit: 10 })).toEqual(['train-b:3']);
    expect(await ids({ kind: 'straggler_gpu', limit: 10 })).toEqual(['train-a:2']);
    expect(await ids({ kind: 'unknown', limit: 10 })).toEqual(['train-a:4']);
    expect(await ids({ location: 'node-2/nic-1', limit: 10 })).toEqual(['train-b:3']);
    expect(await ids({ min_duration_us: 100_000, limit: 10 })).toEqual(['train-a:2']);
    expect(await ids({ job: 'train-a', min_duration_us: 40_000, limit: 10 })).toEqual(['train-a:2', 'train-a:1']);
    expect(await ids({ limit: 2 })).toEqual(['train-a:4', 'train-b:3']);
  });

  it('filters by time window (a stall overlapping the window counts)', async () => {
    const ids = async (from_ms?: number, to_ms?: number) => (await store.listStalls({ from_ms, to_ms, limit: 10 })).map((s) => s.id);
    expect(await ids(T0 + 2000, T0 + 3000)).toEqual(['train-b:3', 'train-a:2']);
    // stall 2 runs from T0+2000 for 200 ms: still in a window starting 100 ms later
    expect(await ids(T0 + 2100, T0 + 2500)).toEqual(['train-a:2']);
    expect(await ids(T0 + 3500)).toEqual(['train-a:4']);
    expect(await ids(undefined, T0 + 1500)).toEqual(['train-a:1']);
    expect(await ids(T0 + 10_000)).toEqual([]);
  });

  it('can leave the ranks out of a listing', async () => {
    const [summary] = await store.listStalls({ job: 'train-b', include_ranks: false, limit: 1 });
    expect(summary).toEqual({ ...stall(3, { job: 'train-b', kind: 'pfc_storm', location: 'node-2/nic-1' }), ranks: [] });
  });

  it('resumes after a position in the listing order (keyset pagination)', async () => {
    const ids = async (after: { start_ms: number; id: string }) => (await store.listStalls({ after, limit: 10 })).map((s) => s.id);
    expect(await ids({ start_ms: T0 + 3000, id: 'train-b:3' })).toEqual(['train-a:2', 'train-a:1']);
    // Same start, smaller id: the tie-broken row at that start is still ahead.
    expect(await ids({ start_ms: T0 + 3000, id: 'train-a:0' })).toEqual(['train-b:3', 'train-a:2', 'train-a:1']);
    expect(await ids({ start_ms: T0, id: '' })).toEqual([]);
    expect(await ids({ start_ms: T0 + 2000, id: "' OR 1=1 --" })).toEqual(['train-a:2', 'train-a:1']);
  });

  it('treats hostile filter values as plain values', async () => {
    expect(await store.listStalls({ job: "' OR 1=1 --", limit: 10 })).toEqual([]);
    expect(await store.listStalls({ location: "x'); DROP TABLE stalls; --", limit: 10 })).toEqual([]);
    expect((await store.counts()).stalls).toBe(4);
  });

  it('re-inserting the same stall keeps one row, latest version wins', async () => {
    await store.insert('stalls', [stall(1)]);
    await store.insert('stalls', [stall(1), stall(1)]);
    const revised = stall(1, { expected_us: 21_000 });
    await store.insert('stalls', [revised]);
    expect((await store.counts()).stalls).toBe(4);
    const listed = await store.listStalls({ job: 'train-a', limit: 100 });
    expect(listed.filter((s) => s.id === 'train-a:1')).toHaveLength(1);
    expect((await store.getStall('train-a:1'))?.expected_us).toBe(21_000);
  });
});

describe('telemetry and derived records', () => {
  it('inserts port samples and collective events', async () => {
    await store.insert('port_samples', [0, 1, 2].map((i) => portSample(i)));
    await store.insert('collective_events', [collectiveEvent(0, 1), collectiveEvent(1, 1)]);
    // Fractional counters are rounded, not rejected.
    await store.insert('port_samples', [{ ...portSample(3), queue_bytes: 1234.6 }]);
    const c = await store.counts();
    expect(c.port_samples).toBe(4);
    expect(c.collective_events).toBe(2);
  });

  it('congestion episodes are idempotent on re-insert', async () => {
    await store.insert('congestion_episodes', [episode('ep-1'), episode('ep-2')]);
    await store.insert('congestion_episodes', [episode('ep-1', T0 + 4000)]);
    expect((await store.counts()).congestion_episodes).toBe(2);
  });

  it('alerts keep the latest state per id and filter by state', async () => {
    await store.insert('alerts', [alert('a1', 'pending', T0 + 5000), alert('a2', 'firing', T0 + 5000)]);
    await store.insert('alerts', [alert('a1', 'firing', T0 + 6000)]);
    await store.insert('alerts', [alert('a1', 'resolved', T0 + 9000)]);
    await store.insert('alerts', [alert('a1', 'resolved', T0 + 9000)]); // retry
    const all = await store.listAlerts({ limit: 100 });
    expect(all).toHaveLength(2);
    expect(await store.listAlerts({ state: 'resolved', limit: 10 })).toEqual([alert('a1', 'resolved', T0 + 9000)]);
    expect((await store.listAlerts({ state: 'firing', limit: 10 })).map((a) => a.id)).toEqual(['a2']);
    expect(await store.listAlerts({ state: 'pending', limit: 10 })).toEqual([]);
  });

  it('listGpus returns the latest sample per GPU', async () => {
    await store.insert('gpu_samples', [
      gpuSample('node-10/gpu-0', T0 + 1000, 1980),
      gpuSample('node-2/gpu-0', T0 + 3000, 1200),
      gpuSample('node-2/gpu-0', T0 + 1000, 1980),
    ]);
    await store.insert('gpu_samples', [gpuSample('node-2/gpu-0', T0 + 2000, 1500)]);
    const gpus = await store.listGpus();
    expect(gpus.map((g) => g.id)).toEqual(['node-2/gpu-0', 'node-10/gpu-0']);
    expect(gpus[0]).toEqual({
      id: 'node-2/gpu-0',
      node: 'node-2',
      uuid: 'GPU-node2gpu0',
      model: 'NVIDIA H100 80GB HBM3',
      last_seen_ms: T0 + 3000,
      metrics: { DCGM_FI_DEV_SM_CLOCK: 1200, DCGM_FI_DEV_GPU_UTIL: 97.5 },
    });
  });

  it('an empty batch is a no-op and ping answers', async () => {
    await store.insert('stalls', []);
    await expect(store.ping()).resolves.toBeUndefined();
  });
});

describe('errors', () => {
  it('surface as StorageError naming the operation', async () => {
    // The API never passes this (it validates limits); the store must still fail cleanly.
    const err = await store.listStalls({ limit: -1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).code).toBe('STORAGE_ERROR');
    expect((err as StorageError).message).toMatch(/listStalls failed/);
    await expect(store.ping()).resolves.toBeUndefined();
  });
});

describe('rollups and retention', () => {
  const rollupTotals = async (table: string) => {
    const { client } = openClickHouse({ kind: 'embedded', dataDir: store.describe.slice('chdb:'.length) });
    const rs = await client.query({
      query: `SELECT sum(samples) AS samples, sum(tx_bytes) AS tx, max(queue_bytes_max) AS qmax FROM ${table} WHERE port = 'leaf-7/p1'`,
      format: 'JSONEachRow',
    });
    return (await rs.json<{ samples: number; tx: number; qmax: number }>())[0];
  };

  it('materialized views keep the 1 s and 1 min rollups as samples arrive', async () => {
    await store.insert('port_samples', Array.from({ length: 25 }, (_, i) => portSample(i, 'leaf-7/p1')));
    await store.insert('port_samples', Array.from({ length: 5 }, (_, i) => portSample(25 + i, 'leaf-7/p1')));
    for (const table of ['port_samples_1s', 'port_samples_1m']) {
      expect(await rollupTotals(table)).toEqual({ samples: 30, tx: 30 * 5_000_000, qmax: 29_000 });
    }
  });

  it('the backfill only fills an empty rollup, so re-running the migration never double counts', async () => {
    const { client } = openClickHouse({ kind: 'embedded', dataDir: store.describe.slice('chdb:'.length) });
    const rollups = MIGRATIONS.find((m) => m.version === 3)!;
    const backfill1s = rollups.statements(SchemaLayout.SINGLE_NODE).find((s) => s.includes('INSERT INTO port_samples_1s'))!;
    await client.command({ query: backfill1s });
    expect((await rollupTotals('port_samples_1s'))?.samples).toBe(30);
    await client.command({ query: 'TRUNCATE TABLE port_samples_1s' });
    await client.command({ query: backfill1s });
    expect(await rollupTotals('port_samples_1s')).toEqual({ samples: 30, tx: 30 * 5_000_000, qmax: 29_000 });
  });

  const ttls = async () => {
    const { client } = openClickHouse({ kind: 'embedded', dataDir: store.describe.slice('chdb:'.length) });
    const rs = await client.query({
      query: `SELECT name, extract(engine_full, 'TTL stored_at \\\\+ toIntervalDay\\\\((\\\\d+)\\\\)') AS days FROM system.tables
              WHERE database = currentDatabase() AND name IN {names:Array(String)} ORDER BY name`,
      query_params: { names: [...RETENTION_TABLES] },
      format: 'JSONEachRow',
    });
    return Object.fromEntries((await rs.json<{ name: string; days: string }>()).map((r) => [r.name, r.days === '' ? 0 : Number(r.days)]));
  };

  it('every table has its default TTL after migrate', async () => {
    expect(await ttls()).toEqual(DEFAULT_RETENTION_DAYS);
  });

  it('retention is reconciled: changed only where it differs, 0 removes the TTL', async () => {
    const { client } = openClickHouse({ kind: 'embedded', dataDir: store.describe.slice('chdb:'.length) });
    const wanted = resolveRetention({ port_samples: 7, alerts: 0 });
    expect(await applyRetention(client, wanted)).toEqual(['port_samples', 'alerts']);
    expect(await applyRetention(client, wanted)).toEqual([]);
    expect(await ttls()).toEqual({ ...DEFAULT_RETENTION_DAYS, port_samples: 7, alerts: 0 });
    expect(await applyRetention(client, resolveRetention())).toEqual(['port_samples', 'alerts']);
    expect(await ttls()).toEqual(DEFAULT_RETENTION_DAYS);
  });

  it('rejects nonsensical retention settings', () => {
    expect(() => resolveRetention({ stalls: -1 })).toThrow(RangeError);
    expect(() => resolveRetention({ stalls: 1.5 })).toThrow(RangeError);
    expect(() => resolveRetention({ nope: 3 } as never)).toThrow(/unknown table/);
  });

  it('retention counts from storage time, so replayed old telemetry is kept', async () => {
    // T0 is months before the test runs: an event-time TTL of 30 days would have dropped it.
    expect((await store.counts()).port_samples).toBeGreaterThan(0);
  });
});

describe('top root causes', () => {
  it('uses the stored rank count, and never counts a faster-than-expected stall as a gain', async () => {
    await store.insert('stalls', [
      stall(50, { job: 'train-z', kind: 'link_flap', location: 'leaf-0/p9', duration_us: 10_000 }),
      stall(51, { job: 'train-z', kind: 'link_flap', location: 'leaf-0/p9', duration_us: 1_020_000 }),
    ]);
    const top = await store.topRootCauses({ job: 'train-z', limit: 5 });
    expect(top.by_stalls).toEqual([
      { kind: 'link_flap', location: 'leaf-0/p9', stalls: 2, gpu_seconds_lost: 2, jobs: ['train-z'], first_ms: T0 + 50_000, last_ms: T0 + 51_000 },
    ]);
    expect(top.by_gpu_seconds_lost).toEqual(top.by_stalls);
  });
});
