/**
 * The top root causes from embedded chDB's stall index (root-cause-ranking.ts) against the SQL
 * aggregate over the same data: a played scenario's stalls plus stalls made to be awkward
 * (culprits tied on both figures, names whose UTF-16 and UTF-8 orders differ, stalls faster
 * than expected, rank counts of 0 to 5, more than 16 jobs on one culprit, sums that are not
 * round in a double, re-inserted versions that move a stall), under every window edge, job and
 * limit, and a sum too large for a double, which the SQL aggregate answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse } from '../../storage/clickhouse-connection.js';
import { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { rankRootCauses } from '../../storage/root-cause-ranking.js';
import type { Stall } from '../../core/records.js';
import type { RootCauseFilter, TopRootCauses } from '../../core/store.js';
import { T0, stall } from './fixtures.js';
import { playedScenarioCopy } from '../dashboards/played-scenario.js';

let indexed: ClickHouseStore;
let sql: ClickHouseStore;

/** Locations that sort differently by UTF-16 units (JS `<`) and by UTF-8 bytes (ClickHouse). */
const AWKWARD_LOCATIONS = ['x/\uFFFD', 'x/\u{1F600}', 'x/\uE000', 'x/a', 'x/A', "x/'; DROP TABLE stalls --"];

/** A stall with `n` ranks (the fixture has 2). */
const withRanks = (s: Stall, n: number): Stall => ({ ...s, ranks: Array.from({ length: n }, (_, r) => ({ ...s.ranks[0]!, rank: r })) });

const extraStalls = (): Stall[] => [
  // Culprits tied on count and on GPU time: kind, then location in byte order break the tie.
  ...AWKWARD_LOCATIONS.map((location, i) => stall(900 + i, { start_ms: T0 + 600_000, kind: 'pfc_storm', location, job: 'train-x' })),
  ...AWKWARD_LOCATIONS.map((location, i) => stall(910 + i, { start_ms: T0 + 600_000, kind: 'link_flap', location, job: 'train-x' })),
  // Faster than expected (no time lost), no ranks at all, and sums of thirds of a µs-second.
  stall(920, { start_ms: T0 + 610_000, duration_us: 5_000, kind: 'ecmp_collision', location: 'spine-2/p1' }),
  withRanks(stall(921, { start_ms: T0 + 611_000, duration_us: 20_001, kind: 'ecmp_collision', location: 'spine-2/p1' }), 3),
  withRanks(stall(922, { start_ms: T0 + 612_000, duration_us: 353_333, kind: 'ecmp_collision', location: 'spine-2/p1' }), 0),
  withRanks(stall(923, { start_ms: T0 + 613_000, duration_us: 20_000 + 333_333, kind: 'ecmp_collision', location: 'spine-2/p2' }), 5),
  withRanks(stall(924, { start_ms: T0 + 614_000, duration_us: 20_000 + 1, kind: 'ecmp_collision', location: 'spine-2/p2' }), 1),
  // One culprit shared by 20 jobs: the answer keeps 16 of them.
  ...Array.from({ length: 20 }, (_, i) => stall(930 + i, { start_ms: T0 + 620_000 + i * 10, job: `job-${String.fromCharCode(122 - i)}${i}`, kind: 'link_degraded', location: 'leaf-9/p1' })),
  // A long stall that began before most windows and overlaps them.
  stall(990, { start_ms: T0 - 3_600_000, duration_us: 7_200_000_000, job: 'train-c', kind: 'link_degraded', location: 'leaf-9/p1' }),
];

beforeAll(async () => {
  const data = await playedScenarioCopy('root-cause-ranking');
  const writer = openClickHouse({ kind: 'embedded', dataDir: data });
  indexed = new ClickHouseStore(writer.client, { rawInsert: writer.rawInsert, stallIndex: { max_stalls: 10_000, max_age_ms: 60_000 } });
  await indexed.migrate();
  sql = new ClickHouseStore(openClickHouse({ kind: 'embedded', dataDir: data }).client);
  // One ranking loads the index before the inserts, so they are applied to it as writes, not loaded.
  await indexed.topRootCauses({ limit: 1 });
  await indexed.insert('stalls', extraStalls());
  // Newer versions: one moves to another culprit; one to another job and time, which is another
  // row to FINAL (the table's key is (job, start, id)); one changes only its rank count.
  await indexed.insert('stalls', [stall(905, { start_ms: T0 + 600_000, job: 'train-x', kind: 'link_degraded', location: 'leaf-9/p1' })]);
  await indexed.insert('stalls', [{ ...stall(906, { start_ms: T0 + 700_000, job: 'train-c', kind: 'straggler_gpu', location: 'node-1/gpu-1' }), id: 'train-x:911' }]);
  await indexed.insert('stalls', [withRanks(stall(921, { start_ms: T0 + 611_000, duration_us: 20_001, kind: 'ecmp_collision', location: 'spine-2/p1' }), 4)]);
}, 240_000);

afterAll(async () => {
  await indexed?.close();
  await sql?.close();
});

async function bothAnswer(filter: RootCauseFilter): Promise<TopRootCauses> {
  const fromIndex = await indexed.topRootCauses(filter);
  const fromSql = await sql.topRootCauses(filter);
  expect(fromIndex, JSON.stringify(filter)).toEqual(fromSql);
  return fromSql;
}

describe('root causes from the stall index', () => {
  it('ranks every culprit as the SQL aggregate does, awkward ones included', async () => {
    const all = await bothAnswer({ limit: 1000 });
    expect(indexed.stallIndexSize()).toBeGreaterThan(extraStalls().length);
    const culprit = (kind: string, location: string) => all.by_stalls.find((c) => c.kind === kind && c.location === location);
    // The played scenario's culprits are there, and the awkward ones as inserted.
    expect(all.by_stalls.length).toBeGreaterThan(2 * AWKWARD_LOCATIONS.length + 3);
    expect(culprit('ecmp_collision', 'spine-2/p1')).toMatchObject({ stalls: 3, gpu_seconds_lost: 0.000004 });
    expect(culprit('ecmp_collision', 'spine-2/p2')).toMatchObject({ stalls: 2, gpu_seconds_lost: 1.666666 });
    expect(culprit('link_degraded', 'leaf-9/p1')!.jobs).toHaveLength(16);
    expect(culprit('pfc_storm', AWKWARD_LOCATIONS[5]!)).toBeUndefined(); // moved by its newer version
    expect(culprit('link_flap', AWKWARD_LOCATIONS[0]!)).toMatchObject({ stalls: 1, jobs: ['train-x'] });
  });

  it('gives the SQL answer for every window edge, job and limit', async () => {
    const stalls = await sql.listStalls({ limit: 10_000, include_ranks: false });
    const edges = [...new Set(stalls.flatMap((s) => [s.start_ms, s.end_ms]))].sort((a, b) => a - b);
    const some = edges.filter((_, i) => i % Math.max(1, Math.floor(edges.length / 25)) === 0);
    const jobs = [...new Set(stalls.map((s) => s.job))];
    const filters: RootCauseFilter[] = [
      { limit: 1 },
      { limit: 2 },
      { limit: 3, job: 'train-x' },
      { limit: 50, job: 'train-c' },
      { limit: 50, job: 'no-such-job' },
      { limit: 50, job: "train-a' OR 1=1 --" },
      { limit: 50, from_ms: T0 + 600_000, to_ms: T0 + 600_000 },
      { limit: 50, from_ms: T0 + 600_050, to_ms: T0 + 600_050 },
      { limit: 50, from_ms: T0 + 600_051 },
      { limit: 50, to_ms: T0 + 599_999 },
      { limit: 50, from_ms: 0, to_ms: 0 },
      { limit: 50, from_ms: Date.parse('2299-12-31T23:59:59.999Z') },
      ...jobs.map((job): RootCauseFilter => ({ limit: 5, job, from_ms: T0 + 300_000 })),
      // Every kind of edge: a stall ending exactly at `from`, starting exactly at `to`, both.
      ...some.flatMap((ms): RootCauseFilter[] => [
        { limit: 50, from_ms: ms },
        { limit: 50, to_ms: ms },
        { limit: 50, from_ms: ms, to_ms: ms },
        { limit: 4, from_ms: ms - 1, to_ms: ms + 1 },
        { limit: 50, from_ms: ms + 1, to_ms: ms + 60_000, job: 'train-a' },
      ]),
    ];
    for (const filter of filters) await bothAnswer(filter);
  });

  it('sees a stall as soon as its insert returns', async () => {
    await indexed.insert('stalls', [stall(995, { start_ms: T0 + 900_000, job: 'train-d', kind: 'pfc_storm', location: 'leaf-4/p4' })]);
    const top = await bothAnswer({ limit: 5, job: 'train-d' });
    expect(top.by_stalls.map((c) => [c.kind, c.location, c.stalls])).toEqual([['pfc_storm', 'leaf-4/p4', 1]]);
  });

  it('leaves a sum past 2^53 µs to the SQL aggregate', async () => {
    const huge = withRanks(stall(996, { start_ms: T0 + 950_000, duration_us: 2 ** 60, end_ms: T0 + 951_000, job: 'train-h', kind: 'link_flap', location: 'leaf-5/p5' }), 2);
    expect(rankRootCauses([{ stall: huge, n_ranks: 2 }], 10)).toBeUndefined();
    await indexed.insert('stalls', [huge]);
    const top = await bothAnswer({ limit: 5, job: 'train-h' });
    expect(top.by_stalls[0]!.gpu_seconds_lost).toBe(((2 ** 60 - 20_000) * 2) / 1e6);
    await bothAnswer({ limit: 50 });
  });
});
