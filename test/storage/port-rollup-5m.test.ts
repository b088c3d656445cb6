/**
 * Migration 0007 on real embedded chDB: a data directory written under schema 6 migrates
 * forward, the 5-minute rollup is backfilled from the 1-minute one, and a series at a step of
 * whole 5 minutes then comes from it with exactly the points the 1-minute rollup and the raw
 * samples give, bucketed by ClickHouse or here, alone or read with others. Samples stored
 * after the migration flow through the view; re-running the backfill never double counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@clickhouse/client';
import { openClickHouse } from '../../storage/clickhouse-connection.js';
import { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { MIGRATIONS, runMigrations } from '../../storage/schema/migrations.js';
import { SchemaLayout } from '../../storage/schema/layout.js';
import { seriesResolutionFor } from '../../storage/series-queries.js';
import type { PortSample } from '../../core/records.js';
import type { SeriesResolution, SeriesWindow } from '../../core/store.js';
import { T0, groupedPortPoints, portSample, tempDataDir } from './fixtures.js';

const PORT = 'leaf-3/p5';
const OTHER = 'spine-1/p2';
const MINUTE = 60_000;
let client: ClickHouseClient;
let store: ClickHouseStore;

/** One sample a second from minute `from` to minute `to` on both ports, queue depth varying. */
const samples = (fromMinute: number, toMinute: number): PortSample[] =>
  [PORT, OTHER].flatMap((port, p) =>
    Array.from({ length: (toMinute - fromMinute) * 60 }, (_, i) => {
      const s = fromMinute * 60 + i;
      return { ...portSample(s % 1000, port), ts_ms: T0 + s * 1000, interval_ms: 1000, queue_bytes: (s * 7919 + p) % 100_000, ecn_marked_pkts: s % 7 };
    }),
  );

/** A series' points as the grouped query over `resolution` computes them. */
const pointsFrom = (resolution: SeriesResolution, port: string, w: SeriesWindow) => groupedPortPoints(client, port, w, resolution);

beforeAll(async () => {
  ({ client } = openClickHouse({ kind: 'embedded', dataDir: tempDataDir('port-rollup-5m') }));
  store = new ClickHouseStore(client);
  // A directory as it was before 0007: 20 minutes of samples stored under schema 6, in two inserts.
  await runMigrations(client, { migrations: MIGRATIONS.filter((m) => m.version <= 6) });
  await store.insert('port_samples', samples(0, 12));
  await store.insert('port_samples', samples(12, 20));
  await store.migrate();
});
afterAll(async () => {
  await store?.close();
});

describe('5-minute port rollup (0007)', () => {
  const day: SeriesWindow = { from_ms: T0, to_ms: T0 + 20 * MINUTE, step_ms: 5 * MINUTE };

  it('answers steps of whole 5 minutes; finer steps keep the finer rollups', () => {
    expect(seriesResolutionFor(day)).toBe('5m');
    expect(seriesResolutionFor({ ...day, step_ms: 15 * MINUTE })).toBe('5m');
    expect(seriesResolutionFor({ ...day, step_ms: 2 * MINUTE })).toBe('1m');
    expect(seriesResolutionFor({ ...day, step_ms: 10_000 })).toBe('10s');
    expect(seriesResolutionFor({ ...day, step_ms: 5000 })).toBe('1s');
  });

  it('backfilled from the 1-minute rollup: the same points as it and as the raw samples', async () => {
    for (const w of [day, { from_ms: T0 - 5 * MINUTE, to_ms: T0 + 30 * MINUTE, step_ms: 10 * MINUTE }]) {
      const fromRollup = await pointsFrom('5m', PORT, w);
      expect(fromRollup.length).toBeGreaterThan(1);
      expect(fromRollup).toEqual(await pointsFrom('1m', PORT, w));
      expect(fromRollup).toEqual(await pointsFrom('raw', PORT, w));
    }
  });

  it('the store serves it, bucketed here, alone or read together with other series', async () => {
    const requests: Array<[string, SeriesWindow]> = [
      [PORT, day],
      [OTHER, day],
      [PORT, { from_ms: T0 + 5 * MINUTE, to_ms: T0 + 15 * MINUTE, step_ms: 5 * MINUTE }],
      [OTHER, { from_ms: T0, to_ms: T0 + 20 * MINUTE, step_ms: 10 * MINUTE }],
    ];
    const answers = await Promise.all(requests.map(([port, w]) => store.portSeries(port, w)));
    expect(answers.map((a) => a.resolution)).toEqual(['5m', '5m', '5m', '5m']);
    const expected = await Promise.all(requests.map(([port, w]) => pointsFrom('1m', port, w)));
    expect(answers.map((a) => a.points)).toEqual(expected);
  });

  it('samples stored after the migration flow through the view', async () => {
    await store.insert('port_samples', samples(20, 26));
    const w = { ...day, to_ms: T0 + 30 * MINUTE };
    const points = (await store.portSeries(PORT, w)).points;
    expect(points.map((p) => p.t_ms - T0)).toEqual([0, 5, 10, 15, 20, 25].map((m) => m * MINUTE));
    expect(points).toEqual(await pointsFrom('raw', PORT, w));
  });

  it('a re-run backfill never double counts', async () => {
    const backfill = MIGRATIONS.find((m) => m.version === 7)!
      .statements(SchemaLayout.SINGLE_NODE)
      .filter((s) => s.trim().startsWith('INSERT'));
    expect(backfill).toHaveLength(1);
    for (const statement of backfill) await client.command({ query: statement });
    const w = { ...day, to_ms: T0 + 30 * MINUTE };
    expect(await pointsFrom('5m', PORT, w)).toEqual(await pointsFrom('raw', PORT, w));
  });
});
