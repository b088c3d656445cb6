/**
 * Migration 0009 on real embedded chDB: a data directory written under schema 8 migrates
 * forward, the 10-second rollup is backfilled from the 1-second one, and a series at a step of
 * whole 10 seconds then comes from it with exactly the points the 1-second rollup and the raw
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
const SECOND = 1000;
const MINUTE = 60_000;
let client: ClickHouseClient;
let store: ClickHouseStore;

/** Two samples a second (so rollup rows sum several) from minute `from` to minute `to` on both ports, queue depth varying. */
const samples = (fromMinute: number, toMinute: number): PortSample[] =>
  [PORT, OTHER].flatMap((port, p) =>
    Array.from({ length: (toMinute - fromMinute) * 120 }, (_, i) => {
      const half = fromMinute * 120 + i;
      return {
        ...portSample(half % 1000, port),
        ts_ms: T0 + half * 500,
        interval_ms: 500,
        queue_bytes: (half * 7919 + p) % 100_000,
        ecn_marked_pkts: half % 7,
        oper_up: half % 97 !== 0,
      };
    }),
  );

/** A series' points as the grouped query over `resolution` computes them. */
const pointsFrom = (resolution: SeriesResolution, port: string, w: SeriesWindow) => groupedPortPoints(client, port, w, resolution);

beforeAll(async () => {
  ({ client } = openClickHouse({ kind: 'embedded', dataDir: tempDataDir('port-rollup-10s') }));
  store = new ClickHouseStore(client);
  // A directory as it was before 0009: 4 minutes of samples stored under schema 8, in two inserts.
  await runMigrations(client, { migrations: MIGRATIONS.filter((m) => m.version <= 8) });
  await store.insert('port_samples', samples(0, 3));
  await store.insert('port_samples', samples(3, 4));
  await store.migrate();
});
afterAll(async () => {
  await store?.close();
});

describe('10-second port rollup (0009)', () => {
  const window: SeriesWindow = { from_ms: T0, to_ms: T0 + 4 * MINUTE, step_ms: 10 * SECOND };

  it('answers steps of whole 10 seconds that are not whole minutes; other steps keep their rollups', () => {
    expect(seriesResolutionFor(window)).toBe('10s');
    expect(seriesResolutionFor({ ...window, step_ms: 30 * SECOND })).toBe('10s');
    expect(seriesResolutionFor({ ...window, step_ms: 90 * SECOND })).toBe('10s');
    expect(seriesResolutionFor({ ...window, step_ms: 5 * SECOND })).toBe('1s');
    expect(seriesResolutionFor({ ...window, step_ms: 15 * SECOND })).toBe('1s');
    expect(seriesResolutionFor({ ...window, step_ms: 2 * MINUTE })).toBe('1m');
    expect(seriesResolutionFor({ ...window, step_ms: 5 * MINUTE })).toBe('5m');
  });

  it('backfilled from the 1-second rollup: the same points as it and as the raw samples', async () => {
    for (const w of [window, { from_ms: T0 - MINUTE, to_ms: T0 + 5 * MINUTE, step_ms: 30 * SECOND }]) {
      const fromRollup = await pointsFrom('10s', PORT, w);
      expect(fromRollup.length).toBeGreaterThan(1);
      expect(fromRollup).toEqual(await pointsFrom('1s', PORT, w));
      expect(fromRollup).toEqual(await pointsFrom('raw', PORT, w));
    }
    expect(await pointsFrom('10s', PORT, window)).toHaveLength(24);
  });

  it('the store serves it, bucketed here, alone or read together with other series', async () => {
    const requests: Array<[string, SeriesWindow]> = [
      [PORT, window],
      [OTHER, window],
      [PORT, { from_ms: T0 + MINUTE, to_ms: T0 + 2 * MINUTE, step_ms: 10 * SECOND }],
      [OTHER, { from_ms: T0, to_ms: T0 + 4 * MINUTE, step_ms: 40 * SECOND }],
    ];
    const answers = await Promise.all(requests.map(([port, w]) => store.portSeries(port, w)));
    expect(answers.map((a) => a.resolution)).toEqual(['10s', '10s', '10s', '10s']);
    const expected = await Promise.all(requests.map(([port, w]) => pointsFrom('raw', port, w)));
    expect(answers.map((a) => a.points)).toEqual(expected);
  });

  it('samples stored after the migration flow through the view', async () => {
    await store.insert('port_samples', samples(4, 5));
    const w = { from_ms: T0 + 4 * MINUTE - 20 * SECOND, to_ms: T0 + 6 * MINUTE, step_ms: 20 * SECOND };
    const points = (await store.portSeries(PORT, w)).points;
    expect(points.map((p) => (p.t_ms - T0) / SECOND)).toEqual([220, 240, 260, 280]);
    expect(points).toEqual(await pointsFrom('raw', PORT, w));
  });

  it('a re-run backfill never double counts', async () => {
    const backfill = MIGRATIONS.find((m) => m.version === 9)!
      .statements(SchemaLayout.SINGLE_NODE)
      .filter((s) => s.trim().startsWith('INSERT'));
    expect(backfill).toHaveLength(1);
    for (const statement of backfill) await client.command({ query: statement });
    const w = { ...window, to_ms: T0 + 5 * MINUTE };
    expect(await pointsFrom('10s', PORT, w)).toEqual(await pointsFrom('raw', PORT, w));
  });
});
