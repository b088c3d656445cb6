/**
 * The server side of `npm run bench:api`, a process of its own so the load generator's CPU is
 * not counted in the server's latencies: loads the synthetic cluster into embedded chDB
 * (chDB binds one data directory per process, so the process that loads is the one that
 * serves), then runs the real API server on loopback over it, with the rate limit off (the
 * benchmark is one client address sending far more than a user would).
 *
 * Usage: api-server-child.js DATA_DIR PLAN_JSON. Progress lines go to stderr; one line
 * `{"ready": {...}}` goes to stdout when the server listens. SIGTERM stops it.
 */
import { createLogger } from '../../core/log.js';
import { createApiServer } from '../../api/server.js';
import { openClickHouse } from '../../storage/clickhouse-connection.js';
import { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { loadCluster, type ClusterPlan } from './synthetic-cluster.js';

async function main(): Promise<void> {
  const [dataDir, planJson] = process.argv.slice(2);
  if (!dataDir || !planJson) throw new Error('usage: api-server-child.js DATA_DIR PLAN_JSON');
  const plan = JSON.parse(planJson) as ClusterPlan;
  const logger = createLogger('warn');
  const { client, describe } = openClickHouse({ kind: 'embedded', dataDir });
  const store = new ClickHouseStore(client, { describe, logger });
  await store.migrate();

  const started = performance.now();
  const counts = await loadCluster(client, store, plan, (hour) =>
    process.stderr.write(`loaded hour ${hour + 1}/${plan.hours} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`),
  );
  const load_s = (performance.now() - started) / 1000;
  const rows = Object.values(counts).reduce((a, b) => a + b, 0);

  const api = await createApiServer({ store, logger, rateLimit: false }).listen('127.0.0.1', 0);
  process.stdout.write(JSON.stringify({ ready: { url: api.url, load_s: Math.round(load_s * 10) / 10, rows_per_s: Math.round(rows / load_s), counts } }) + '\n');

  const stop = async () => {
    await api.close();
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
