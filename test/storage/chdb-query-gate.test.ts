/**
 * On embedded chDB a read that fails after writing its first blocks must not leak those rows
 * into the next answer (chdb-query-gate.ts): not into the next read of the same client, not
 * into one already waiting, not into another client's, and not through the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@clickhouse/client';
import { openClickHouse } from '../../storage/clickhouse-connection.js';
import { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { InvalidArgumentError } from '../../core/errors.js';
import { portSample, stall, tempDataDir } from './fixtures.js';

let dataDir: string;
let client: ClickHouseClient;
let store: ClickHouseStore;

/** Fails on its fourth block of 1,000 rows, after writing three. */
const FAILS_MIDWAY = "SELECT throwIf(number = 3500, 'midway') AS n FROM numbers(10000) SETTINGS max_block_size = 1000";
/** Exceeds its result limit after writing several blocks. */
const OVERFLOWS_MIDWAY = "SELECT number AS n FROM numbers(100000) SETTINGS max_block_size = 1000, max_result_rows = 5000, result_overflow_mode = 'throw'";

const rows = async (c: ClickHouseClient, query: string) => (await c.query({ query, format: 'JSONEachRow' })).json<Record<string, unknown>>();

beforeAll(async () => {
  dataDir = tempDataDir('chdb-gate');
  ({ client } = openClickHouse({ kind: 'embedded', dataDir }));
  store = new ClickHouseStore(client);
  await store.migrate();
});
afterAll(async () => {
  await store?.close();
});

describe('a read that fails midway', () => {
  it.each([
    ['raises', FAILS_MIDWAY],
    ['exceeds max_result_rows', OVERFLOWS_MIDWAY],
  ])('%s: the next read answers only its own rows', async (_, failing) => {
    await expect(rows(client, failing)).rejects.toThrow();
    expect(await rows(client, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('leaks into no read that was already waiting, nor into another client of the process', async () => {
    const { client: other } = openClickHouse({ kind: 'embedded', dataDir });
    const [failed, waiting, another] = await Promise.allSettled([
      rows(client, FAILS_MIDWAY),
      rows(client, 'SELECT 2 AS two'),
      rows(other, 'SELECT 3 AS three'),
    ]);
    expect(failed.status).toBe('rejected');
    expect(waiting).toEqual({ status: 'fulfilled', value: [{ two: 2 }] });
    expect(another).toEqual({ status: 'fulfilled', value: [{ three: 3 }] });
  });

  it('through the store: a series over the result limit fails clearly, and the next answer is exact', async () => {
    // Three inserts, three parts: the rollup read streams one block per part.
    for (let part = 0; part < 3; part++) {
      await store.insert('port_samples', Array.from({ length: 20 }, (_, i) => portSample(part * 20 + i)));
    }
    await store.insert('stalls', [stall(1)]);
    const limited = new ClickHouseStore(client, { queryLimits: { max_result_rows: 3 } });
    const window = { from_ms: portSample(0).ts_ms, to_ms: portSample(60).ts_ms, step_ms: 1000 };
    await expect(limited.portSeries('leaf-3/p5', window)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect((await limited.listStalls({ limit: 3, include_ranks: false })).map((s) => s.id)).toEqual(['train-a:1']);
  });
});
