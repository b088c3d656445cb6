/**
 * The server side of `npm run bench:api`, a process of its own so the load generator's CPU is
 * not counted in the server's latencies: loads the synthetic cluster into embedded chDB
 * (chDB binds one data directory per process, so the process that loads is the one that
 * serves), then runs the real API server on loopback over it, with the rate limit off (the
 * benchmark is one client address sending far more than a user would). Two servers, over two
 * stores on the one chDB engine: one with the result cache (the default configuration), one
 * without (`result_cache_items` 0), so both are measured over the same data.
 *
 * Usage: api-server-child.js DATA_DIR PLAN_JSON. Progress lines go to stderr; one line
 * `{"ready": {...}}` goes to stdout when the servers listen. A line `stats` on stdin is answered
 * by a line `{"cache": {...}}` (the cached store's hits and misses so far, and the JS heap in use). SIGTERM stops it.
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import { createLogger } from '../../core/log.js';
import { createApiServer } from '../../api/server.js';
import { openClickHouse } from '../../storage/clickhouse-connection.js';
import { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { RESULT_CACHE_MAX_AGE_MS, STALL_INDEX_OPTIONS } from '../../storage/create-store.js';
import { DEFAULT_RESULT_CACHE_ITEMS } from '../../core/config.js';
import { loadCluster, type ClusterPlan } from './synthetic-cluster.js';

/** Waits (at most `limitS`) until no background merge runs; returns the seconds waited. */
async function mergesSettled(client: ClickHouseClient, limitS: number): Promise<number> {
  const started = performance.now();
  while ((performance.now() - started) / 1000 < limitS) {
    const rs = await client.query({ query: 'SELECT count() AS n FROM system.merges', format: 'JSONEachRow' });
    const [{ n }] = await rs.json<{ n: number | string }>();
    if (Number(n) === 0) break;
    await sleep(1000);
  }
  return Math.round((performance.now() - started) / 100) / 10;
}

async function activeParts(client: ClickHouseClient): Promise<Record<string, number>> {
  const rs = await client.query({
    query: 'SELECT table, count() AS n FROM system.parts WHERE active AND database = currentDatabase() GROUP BY table ORDER BY table',
    format: 'JSONEachRow',
  });
  return Object.fromEntries((await rs.json<{ table: string; n: number | string }>()).map((r) => [r.table, Number(r.n)]));
}

async function main(): Promise<void> {
  const [dataDir, planJson] = process.argv.slice(2);
  if (!dataDir || !planJson) throw new Error('usage: api-server-child.js DATA_DIR PLAN_JSON');
  const plan = JSON.parse(planJson) as ClusterPlan;
  const logger = createLogger('warn');
  const { client, describe } = openClickHouse({ kind: 'embedded', dataDir });
  const store = new ClickHouseStore(client, {
    describe,
    logger,
    resultCache: { max_items: DEFAULT_RESULT_CACHE_ITEMS, max_age_ms: RESULT_CACHE_MAX_AGE_MS },
    stallIndex: STALL_INDEX_OPTIONS,
  });
  // Also with the stall index, as createStore gives every embedded store: it loads at its first
  // read, after the day is loaded, and nothing writes afterwards, so it holds what the table does.
  const uncachedStore = new ClickHouseStore(client, { describe, logger, stallIndex: STALL_INDEX_OPTIONS });
  await store.migrate();

  const started = performance.now();
  const counts = await loadCluster(client, store, plan, (hour) =>
    process.stderr.write(`loaded hour ${hour + 1}/${plan.hours} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`),
  );
  const load_s = (performance.now() - started) / 1000;
  const rows = Object.values(counts).reduce((a, b) => a + b, 0);
  // Measure the steady state of a system that has held this day for a while, not the merge
  // storm right after a bulk load, which would compete with every query for the CPU.
  const merge_wait_s = await mergesSettled(client, 15 * 60);

  const api = await createApiServer({ store, logger, rateLimit: false }).listen('127.0.0.1', 0);
  const uncachedApi = await createApiServer({ store: uncachedStore, logger, rateLimit: false }).listen('127.0.0.1', 0);
  const parts = await activeParts(client);
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() !== 'stats') return;
    const heap_mb = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
    process.stdout.write(JSON.stringify({ cache: { ...store.resultCacheStats(), heap_mb } }) + '\n');
  });
  process.stdout.write(
    JSON.stringify({ ready: { url: api.url, uncached_url: uncachedApi.url, load_s: Math.round(load_s * 10) / 10, rows_per_s: Math.round(rows / load_s), merge_wait_s, parts, counts } }) + '\n',
  );

  const stop = async () => {
    await api.close();
    await uncachedApi.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((e: unknown) => {
  process.stderr.write(`api-server-child: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
