/** ClickHouseStore on real embedded chDB: every record type, filters, idempotency, migrations. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../storage/create-store.js';
import type { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { runMigrations, MIGRATIONS } from '../../storage/schema/migrations.js';
import { openClickHouse } from '../../storage/clickhouse-connection.js';
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
