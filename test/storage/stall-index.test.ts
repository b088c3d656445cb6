/**
 * The stall listing from embedded chDB's in-memory index (stall-index.ts) against the SQL
 * listing over the same data: a played scenario's stalls plus stalls made to be awkward
 * (shared start times, ids whose UTF-16 and UTF-8 orders differ, re-inserted versions that
 * change what a filter matches), under every filter, cursor and page size, hostile values too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse } from '../../storage/clickhouse-connection.js';
import { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { compareUtf8 } from '../../storage/stall-index.js';
import type { Stall } from '../../core/records.js';
import type { StallFilter } from '../../core/store.js';
import { T0, stall } from './fixtures.js';
import { playedScenarioCopy } from '../dashboards/played-scenario.js';

let indexed: ClickHouseStore;
let sql: ClickHouseStore;
let data: string;

/** Ids that sort differently by UTF-16 units (JS `<`) and by UTF-8 bytes (ClickHouse). */
const AWKWARD_IDS = ['x:\uFFFD', 'x:\u{1F600}', 'x:\uE000', 'x:a', 'x:A', 'x:', 'x:a\u0000b', "x:'; DROP TABLE stalls --"];

const extraStalls = (): Stall[] => [
  // Pairs sharing a start time: the id breaks the tie.
  ...Array.from({ length: 10 }, (_, i) => stall(900 + i, { start_ms: T0 + 500_000 + Math.floor(i / 2) * 1000, job: i % 2 ? 'train-b' : 'train-a' })),
  ...AWKWARD_IDS.map((id, i) => ({ ...stall(950 + i, { start_ms: T0 + 600_000, kind: 'pfc_storm', location: 'spine-1/p3' }), id })),
  // A long stall that began before most windows and overlaps them.
  stall(990, { start_ms: T0 - 3_600_000, duration_us: 7_200_000_000, job: 'train-c' }),
];

beforeAll(async () => {
  data = await playedScenarioCopy('stall-index');
  const writer = openClickHouse({ kind: 'embedded', dataDir: data });
  indexed = new ClickHouseStore(writer.client, { rawInsert: writer.rawInsert, stallIndex: { max_stalls: 10_000, max_age_ms: 60_000 } });
  await indexed.migrate();
  sql = new ClickHouseStore(openClickHouse({ kind: 'embedded', dataDir: data }).client);
  // One listing loads the index before the inserts, so they are applied to it as writes, not loaded.
  await indexed.listStalls({ include_ranks: false, limit: 1 });
  await indexed.insert('stalls', extraStalls());
  // A newer version of one stall moves it to another job, kind and time; another changes only its duration.
  await indexed.insert('stalls', [{ ...stall(901, { start_ms: T0 + 700_000, job: 'train-c', kind: 'link_flap', location: 'leaf-1/p2' }), id: 'train-b:901' }]);
  await indexed.insert('stalls', [stall(902, { start_ms: T0 + 501_000, duration_us: 1 })]);
}, 240_000);

afterAll(async () => {
  await indexed?.close();
  await sql?.close();
});

async function bothAnswer(filter: StallFilter): Promise<Stall[]> {
  const fromIndex = await indexed.listStalls({ ...filter, include_ranks: false });
  const fromSql = await sql.listStalls({ ...filter, include_ranks: false });
  expect(fromIndex, JSON.stringify(filter)).toEqual(fromSql);
  return fromSql;
}

describe('stall index', () => {
  it('holds every stall and answers from memory', async () => {
    const all = await bothAnswer({ limit: 1000 });
    expect(all.length).toBeGreaterThan(extraStalls().length);
    expect(indexed.stallIndexSize()).toBe(all.length);
    // A newer version replaces an older one of the same (job, start, id), the table's sorting
    // key; one that moved to another job and start is another row to FINAL, and to the index.
    expect(all.filter((s) => s.id === 'train-b:901').map((s) => [s.job, s.root_cause.kind, s.start_ms])).toEqual([
      ['train-c', 'link_flap', T0 + 700_000],
      ['train-b', 'incast_congestion', T0 + 500_000],
    ]);
    expect(all.filter((s) => s.id === 'train-a:902').map((s) => s.duration_us)).toEqual([1]);
  });

  it('orders ids as ClickHouse does (UTF-8 bytes)', () => {
    const sorted = [...AWKWARD_IDS].sort(compareUtf8);
    const byBytes = [...AWKWARD_IDS].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(sorted).toEqual(byBytes);
  });

  it('gives the SQL answer for every filter', async () => {
    const all = await bothAnswer({ limit: 1000 });
    const starts = [...new Set(all.map((s) => s.start_ms))];
    const filters: StallFilter[] = [
      { limit: 1 },
      { limit: 3, job: 'train-b' },
      { limit: 50, job: 'train-c' },
      { limit: 50, job: 'no-such-job' },
      { limit: 50, job: "train-a' OR 1=1 --" },
      { limit: 50, kind: 'pfc_storm' },
      { limit: 50, kind: 'link_flap', location: 'leaf-1/p2' },
      { limit: 50, location: 'spine-1/p3' },
      { limit: 50, min_duration_us: 50_000 },
      { limit: 50, min_duration_us: Number.MAX_SAFE_INTEGER },
      { limit: 50, from_ms: T0 + 500_000 },
      { limit: 50, to_ms: T0 + 600_000 },
      { limit: 50, from_ms: T0 + 600_000, to_ms: T0 + 600_000 },
      { limit: 50, from_ms: T0, to_ms: T0 + 10_000, job: 'train-c' },
      { limit: 50, from_ms: 0, to_ms: 0 },
      { limit: 50, from_ms: Date.parse('2299-12-31T23:59:59.999Z') },
      { limit: 50, after: { start_ms: T0 + 600_000, id: 'x:\uE000' } },
      { limit: 50, after: { start_ms: T0 + 600_000, id: 'x:\uFFFD' } },
      { limit: 50, after: { start_ms: T0 + 600_000, id: 'not-a-stall' } },
      { limit: 50, after: { start_ms: Number.MAX_SAFE_INTEGER, id: 'z' } },
      { limit: 50, after: { start_ms: 0, id: '' } },
      ...starts.slice(0, 20).map((start_ms, i): StallFilter => ({ limit: 5, after: { start_ms, id: all[i]!.id }, to_ms: start_ms + 1000 })),
    ];
    for (const filter of filters) await bothAnswer(filter);
  });

  it('walks every page size to the same listing', async () => {
    const walks: Array<[number, Partial<StallFilter>]> = [
      [50, {}],
      [7, {}],
      [7, { job: 'train-a' }],
      [2, { from_ms: T0 + 400_000, to_ms: T0 + 700_000 }],
      [1, { kind: 'pfc_storm' }],
    ];
    for (const [limit, base] of walks) {
      let after: StallFilter['after'];
      for (let page = 0; page < 200; page++) {
        const rows = await bothAnswer({ ...base, limit, after });
        if (rows.length < limit) break;
        const last = rows[rows.length - 1]!;
        after = { start_ms: last.start_ms, id: last.id };
      }
    }
  });

  it('sees a stall as soon as its insert returns, and a failed insert only after reloading', async () => {
    await indexed.insert('stalls', [stall(995, { start_ms: T0 + 900_000, job: 'train-d' })]);
    expect((await bothAnswer({ limit: 5, job: 'train-d' })).map((s) => s.id)).toEqual(['train-d:995']);
    // A write that fails leaves the index unsure of what was stored: it reloads to agree.
    await expect(indexed.insert('stalls', [{ ...stall(996, { job: 'train-d' }), ranks: null as unknown as Stall['ranks'] }])).rejects.toThrow();
    expect(indexed.stallIndexSize()).toBe(0);
    await bothAnswer({ limit: 5, job: 'train-d' });
    expect(indexed.stallIndexSize()).toBeGreaterThan(0);
  });

  // Last: these stores write too, which the first index does not see.
  it('answers a write at once while reloading behind the answers, and leaves a table too large to hold to SQL', async () => {
    const reloading = new ClickHouseStore(openClickHouse({ kind: 'embedded', dataDir: data }).client, { stallIndex: { max_stalls: 10_000, max_age_ms: 0 } });
    const small = new ClickHouseStore(openClickHouse({ kind: 'embedded', dataDir: data }).client, { stallIndex: { max_stalls: 5, max_age_ms: 60_000 } });
    try {
      await reloading.listStalls({ include_ranks: false, limit: 1 });
      for (let i = 0; i < 5; i++) {
        // Every read starts a reload (max age 0); the write lands while one runs.
        await reloading.listStalls({ include_ranks: false, limit: 1 });
        await reloading.insert('stalls', [stall(1000 + i, { start_ms: T0 + 2_000_000 + i, job: 'train-e' })]);
        const listed = await reloading.listStalls({ include_ranks: false, limit: 10, job: 'train-e' });
        expect(listed).toEqual(await sql.listStalls({ include_ranks: false, limit: 10, job: 'train-e' }));
        expect(listed).toHaveLength(i + 1);
      }
      expect(await small.listStalls({ include_ranks: false, limit: 50 })).toEqual(await sql.listStalls({ include_ranks: false, limit: 50 }));
      expect(small.stallIndexSize()).toBe(0);
    } finally {
      await reloading.close();
      await small.close();
    }
  });
});
