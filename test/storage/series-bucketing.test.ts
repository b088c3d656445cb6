/**
 * A port series bucketed by ClickHouse (GROUP BY over a rollup) and one bucketed here from the
 * rollup rows (portPointsOfRollupRows) give the same points, on real chDB, including rollup rows split
 * over unmerged inserts, steps that are several rollup rows wide, and several series read in
 * one batched query (portRollupRowsQuery), overlapping or not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@clickhouse/client';
import { createStore } from '../../storage/create-store.js';
import type { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { openClickHouse } from '../../storage/clickhouse-connection.js';
import {
  portRollupRowsQuery,
  seriesResolutionFor,
  rollupPortsOf,
  type RollupRow,
} from '../../storage/series-queries.js';
import { portPointsOfRollupRows, rollupRowsByPort } from '../../storage/series-points.js';
import type { SeriesWindow } from '../../core/store.js';
import { T0, groupedPortPoints, portSample, tempDataDir } from './fixtures.js';

const PORT = 'leaf-3/p5';
const OTHER = 'spine-1/p2';
let store: ClickHouseStore;
let client: ClickHouseClient;

beforeAll(async () => {
  const data = tempDataDir('series-bucketing');
  store = createStore({ data });
  await store.migrate();
  // 3 minutes of 100 ms samples on two ports, in three inserts so one second or minute spans several parts.
  const samples = [PORT, OTHER].flatMap((port, p) =>
    Array.from({ length: 1800 }, (_, i) => ({ ...portSample(i % 1000, port), ts_ms: T0 + i * 100, queue_bytes: (i * 7919 + p) % 100_000 })),
  );
  for (let part = 0; part < 3; part++) await store.insert('port_samples', samples.filter((_, i) => i % 3 === part));
  ({ client } = openClickHouse({ kind: 'embedded', dataDir: data }));
});
afterAll(async () => {
  await client?.close();
  await store?.close();
});

const grouped = (port: string, w: SeriesWindow) => groupedPortPoints(client, port, w, seriesResolutionFor(w));

/** Every series' points from one batched read of rollup rows (all windows of one resolution). */
async function batched(series: Array<[string, SeriesWindow]>) {
  const resolution = seriesResolutionFor(series[0]![1]) as '1s' | '1m';
  const reads = series.map(([port, w]) => ({ port, ...w }));
  const q = portRollupRowsQuery(resolution, reads);
  const byPort = rollupRowsByPort((await (await client.query({ ...q, format: 'JSONCompact' })).json<RollupRow>()).data);
  const ports = rollupPortsOf(reads);
  return series.map(([port], i) => portPointsOfRollupRows(byPort[ports.indexOf(port) + 1] ?? [], reads[i]!));
}

describe('port series bucketing', () => {
  const windows: Array<[string, SeriesWindow]> = [
    ['1 s rows, 1 s step', { from_ms: T0, to_ms: T0 + 60_000, step_ms: 1000 }],
    ['1 s rows, 7 s step, window off the step', { from_ms: T0 + 1500, to_ms: T0 + 150_000, step_ms: 7000 }],
    ['1 min rows, 1 min step', { from_ms: T0, to_ms: T0 + 180_000, step_ms: 60_000 }],
    ['1 min rows, 2 min step', { from_ms: T0 - 60_000, to_ms: T0 + 240_000, step_ms: 120_000 }],
  ];
  it.each(windows)('%s: the same points either way', async (_, w) => {
    const inClickHouse = await grouped(PORT, w);
    expect(inClickHouse.length).toBeGreaterThan(0);
    expect(await batched([[PORT, w]])).toEqual([inClickHouse]);
  });

  it('series read together, on one port or two, overlapping or not, each get their own points', async () => {
    const series: Array<[string, SeriesWindow]> = [
      [PORT, { from_ms: T0, to_ms: T0 + 60_000, step_ms: 5000 }],
      [PORT, { from_ms: T0 + 30_500, to_ms: T0 + 120_000, step_ms: 1000 }],
      [OTHER, { from_ms: T0 + 10_000, to_ms: T0 + 40_000, step_ms: 2000 }],
      ['leaf-9/p9', { from_ms: T0, to_ms: T0 + 60_000, step_ms: 1000 }],
    ];
    const expected = await Promise.all(series.map(([port, w]) => grouped(port, w)));
    expect(expected[2]!.length).toBeGreaterThan(0);
    expect(expected[3]).toEqual([]);
    expect(await batched(series)).toEqual(expected);
  });

  it('the store, under concurrent requests, answers what the grouped queries do', async () => {
    const requests: Array<[string, SeriesWindow]> = Array.from({ length: 10 }, (_, i) => [
      i % 2 ? PORT : OTHER,
      { from_ms: T0 + i * 7000, to_ms: T0 + 100_000 + i * 5000, step_ms: 1000 * (1 + (i % 4)) },
    ]);
    const answers = await Promise.all(requests.map(([port, w]) => store.portSeries(port, w)));
    const expected = await Promise.all(requests.map(([port, w]) => grouped(port, w)));
    expect(answers.map((a) => a.points)).toEqual(expected);
  });
});
