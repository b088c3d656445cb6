/**
 * A port series bucketed by ClickHouse (GROUP BY over a rollup) and one bucketed here from the
 * rollup rows (portBucketsOf) give the same points, on real chDB, including rollup rows split
 * over unmerged inserts and steps that are several rollup rows wide.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@clickhouse/client';
import { createStore } from '../../storage/create-store.js';
import type { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { openClickHouse } from '../../storage/clickhouse-connection.js';
import { portSeriesQuery, seriesResolutionFor, type PortBucketRow } from '../../storage/series-queries.js';
import { portBucketsOf, portPointOf } from '../../storage/series-points.js';
import type { SeriesWindow } from '../../core/store.js';
import { T0, portSample, tempDataDir } from './fixtures.js';

const PORT = 'leaf-3/p5';
let store: ClickHouseStore;
let client: ClickHouseClient;

beforeAll(async () => {
  const data = tempDataDir('series-bucketing');
  store = createStore({ data });
  await store.migrate();
  // 3 minutes of 100 ms samples, in three inserts so one second or minute spans several parts.
  const samples = Array.from({ length: 1800 }, (_, i) => ({ ...portSample(i % 1000), ts_ms: T0 + i * 100, queue_bytes: (i * 7919) % 100_000 }));
  for (let part = 0; part < 3; part++) await store.insert('port_samples', samples.filter((_, i) => i % 3 === part));
  ({ client } = openClickHouse({ kind: 'embedded', dataDir: data }));
});
afterAll(async () => {
  await client?.close();
  await store?.close();
});

async function points(w: SeriesWindow, grouped: boolean) {
  const resolution = seriesResolutionFor(w);
  const q = portSeriesQuery(PORT, w, resolution, grouped);
  const rows = await (await client.query({ ...q, format: 'JSONEachRow' })).json<PortBucketRow>();
  return (grouped ? rows : portBucketsOf(rows, w.step_ms)).map(portPointOf);
}

describe('port series bucketing', () => {
  const windows: Array<[string, SeriesWindow]> = [
    ['1 s rows, 1 s step', { from_ms: T0, to_ms: T0 + 60_000, step_ms: 1000 }],
    ['1 s rows, 7 s step, window off the step', { from_ms: T0 + 1500, to_ms: T0 + 150_000, step_ms: 7000 }],
    ['1 min rows, 1 min step', { from_ms: T0, to_ms: T0 + 180_000, step_ms: 60_000 }],
    ['1 min rows, 2 min step', { from_ms: T0 - 60_000, to_ms: T0 + 240_000, step_ms: 120_000 }],
  ];
  it.each(windows)('%s: the same points either way', async (_, w) => {
    const inClickHouse = await points(w, true);
    expect(inClickHouse.length).toBeGreaterThan(0);
    expect(await points(w, false)).toEqual(inClickHouse);
  });

  it('the store answers what the grouped query does', async () => {
    const w = { from_ms: T0, to_ms: T0 + 180_000, step_ms: 10_000 };
    expect((await store.portSeries(PORT, w)).points).toEqual(await points(w, true));
  });
});
