/**
 * `node dist/bench/api/query-profile.js DATA_DIR [--quick]`: where one API request's time goes,
 * one request at a time (no concurrency), for the four endpoints `bench:api` loads. Loads the
 * synthetic day into DATA_DIR once (kept, so later runs start at once), serves it in this
 * process without the result cache, and per endpoint prints the mean HTTP latency, the CPU
 * time this process spent per request (chDB's threads included: the least load-dependent
 * figure), the part of the latency spent in the store's chDB calls, and the engine's own
 * elapsed time, taken by replaying each captured query on a second chDB session, with the rows
 * and granules (marks) its index analysis selects to read (EXPLAIN ESTIMATE; chDB keeps no
 * query_log, and its own read counters count result rows).
 * A diagnostic for tuning query shapes, not a benchmark: the figures under load come from
 * bench-api.ts.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { Session } from 'chdb';
import { createLogger } from '../../core/log.js';
import { createApiServer } from '../../api/server.js';
import { openClickHouse } from '../../storage/clickhouse-connection.js';
import { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { loadCluster } from './synthetic-cluster.js';
import { ENDPOINTS, MODES, requestMakers, stallIdsOf } from './bench-api.js';

interface Captured {
  query: string;
  query_params: Record<string, unknown>;
  ms: number;
}

/** The client with every `query` timed and recorded (the store's reads all go through it). */
function recordingClient(client: ClickHouseClient, into: Captured[]): ClickHouseClient {
  return new Proxy(client, {
    get(target, key, receiver) {
      if (key !== 'query') return Reflect.get(target, key, receiver) as unknown;
      return async (params: Parameters<ClickHouseClient['query']>[0]) => {
        const t0 = performance.now();
        const rs = await target.query(params);
        const text = await rs.text();
        into.push({ query: params.query, query_params: params.query_params ?? {}, ms: performance.now() - t0 });
        // The store parses the answer itself through rs.json(): hand it the same text, as that format's json() would.
        const json = async () => (params.format === 'JSONCompact' ? (JSON.parse(text) as unknown) : text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown));
        return { json, text: async () => text };
      };
    },
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dataDir = args.find((a) => !a.startsWith('--'));
  if (!dataDir) throw new Error('usage: query-profile.js DATA_DIR [--quick] [--requests N]');
  const mode = args.includes('--quick') ? MODES.quick : MODES.full;
  const requestsAt = args.indexOf('--requests');
  const requests = requestsAt >= 0 ? Number(args[requestsAt + 1]) : 60;
  const fresh = !existsSync(resolve(dataDir, 'store'));
  const { client, describe } = openClickHouse({ kind: 'embedded', dataDir });
  const captured: Captured[] = [];
  const store = new ClickHouseStore(recordingClient(client, captured), { describe, logger: createLogger('warn') });
  await store.migrate();
  const [{ n }] = await (await client.query({ query: 'SELECT count() AS n FROM port_samples', format: 'JSONEachRow' })).json<{ n: string }>();
  if (fresh || Number(n) === 0) {
    process.stderr.write(`loading ${mode.plan.hours} h into ${dataDir}\n`);
    await loadCluster(client, store, mode.plan, (h) => process.stderr.write(`hour ${h + 1}\n`));
  }
  const api = await createApiServer({ store, logger: createLogger('warn'), rateLimit: false }).listen('127.0.0.1', 0);
  const replay = new Session(resolve(dataDir));
  try {
    const makers = requestMakers(api.url, mode.plan, await stallIdsOf(api.url, 5000));
    for (const endpoint of ENDPOINTS) {
      // Warm-up, not measured.
      for (let i = 0; i < 5; i++) await (await fetch(makers[endpoint](i))).text();
      captured.length = 0;
      let httpMs = 0;
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < requests; i++) {
        const t0 = performance.now();
        const res = await fetch(makers[endpoint](i));
        await res.text();
        httpMs += performance.now() - t0;
        if (!res.ok) throw new Error(`${endpoint} request ${i} answered ${res.status}`);
      }
      const cpu = process.cpuUsage(cpu0);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      let engineS = 0;
      let rowsRead = 0;
      let marksRead = 0;
      for (const c of captured) {
        const r = await replay.queryBindAsync(c.query, c.query_params, { format: 'JSONEachRow' });
        engineS += r.elapsed;
        const estimate = await replay.queryBindAsync(`EXPLAIN ESTIMATE ${c.query}`, c.query_params, { format: 'JSONEachRow' });
        for (const line of estimate.text().split('\n').filter(Boolean)) {
          const e = JSON.parse(line) as { rows: number | string; marks: number | string };
          rowsRead += Number(e.rows);
          marksRead += Number(e.marks);
        }
      }
      const storeMs = captured.reduce((a, c) => a + c.ms, 0);
      const per = (v: number) => (v / requests).toFixed(2);
      process.stdout.write(
        `${endpoint.padEnd(12)} http ${per(httpMs)} ms/req, CPU ${per(cpuMs)} ms/req, chDB calls ${per(storeMs)} ms/req ` +
          `(${(captured.length / requests).toFixed(1)} queries), engine elapsed ${per(engineS * 1000)} ms/req, ` +
          `selects ${Math.round(rowsRead / requests)} rows in ${(marksRead / requests).toFixed(1)} granules per req\n`,
      );
    }
  } finally {
    replay.close();
    await api.close();
    await store.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`query-profile: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
