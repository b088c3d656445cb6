/**
 * Embedded chDB (3.4) hands the output a query wrote before it failed to the next query the
 * process runs, ahead of that query's own rows: a read that hits max_result_rows, or raises,
 * after its first blocks would put its rows into whichever request reads next. So on chDB
 * reads go through this gate one at a time (chDB runs one query at a time anyway), and a read
 * that fails is followed by a throwaway query that takes the leftovers before any other read
 * starts. One gate per process: every client in it shares the one engine.
 */
import type { ClickHouseClient } from '@clickhouse/client';

/** Settles when the last read let through has finished and, if it failed, been drained. */
let lastRead: Promise<unknown> = Promise.resolve();

/** What a failed read's leftovers go to; its answer is discarded. */
const DRAIN = { query: 'SELECT 1', format: 'JSONEachRow' } as const;

/** `client` with its `query` passed through the process's read gate; everything else as is. */
export function gateReads(client: ClickHouseClient): ClickHouseClient {
  const query = client.query.bind(client) as (params: Parameters<ClickHouseClient['query']>[0]) => Promise<unknown>;
  const gated = (params: Parameters<ClickHouseClient['query']>[0]) => {
    const read = lastRead.then(async () => {
      try {
        return await query(params);
      } catch (e) {
        await query(DRAIN).catch(() => undefined);
        throw e;
      }
    });
    lastRead = read.catch(() => undefined);
    return read;
  };
  return new Proxy(client, {
    get(target, key) {
      if (key === 'query') return gated;
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
