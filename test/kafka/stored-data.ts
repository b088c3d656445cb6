/**
 * What a sink stored, read in the test process once the sink has exited (chDB binds a data
 * directory to one process): counts per table (replacing tables read FINAL), the rollup
 * views' sample sums, and the stall ids.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Service } from '../harness/cli-process.js';
import { REPO_ROOT } from '../harness/cli-process.js';
import { openClickHouse } from '../../storage/clickhouse-connection.js';
import type { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { createStore } from '../../storage/create-store.js';
import { Kafka, logLevel } from 'kafkajs';

/** An alert as stored (replacing table read FINAL, so its last version): which alerts, and their state. */
export interface StoredAlert {
  id: string;
  rule: string;
  state: string;
  labels: string;
}

export interface StoredData {
  counts: Record<string, number>;
  rollup_1s_samples: number;
  rollup_1m_samples: number;
  stall_ids: string[];
  alerts: StoredAlert[];
}

type Rows = <T>(query: string) => Promise<T[]>;

/** Opens a data directory (no other process may hold it), runs `use`, closes it. */
export async function withStoredData<R>(dataDir: string, use: (rows: Rows, store: ClickHouseStore) => Promise<R>): Promise<R> {
  const store = createStore({ data: dataDir });
  await store.migrate();
  const { client } = openClickHouse({ kind: 'embedded', dataDir: store.describe.slice('chdb:'.length) });
  try {
    const rows: Rows = async <T>(query: string) => (await client.query({ query, format: 'JSONEachRow' })).json<T>();
    return await use(rows, store);
  } finally {
    // Both: chDB opens another data directory in this process only once every session on this one is closed.
    await client.close();
    await store.close();
  }
}

export function readStoredData(dataDir: string): Promise<StoredData> {
  return withStoredData(dataDir, async (rows, store) => {
    const sum = async (table: string) => Number((await rows<{ s: string | number }>(`SELECT sum(samples) AS s FROM ${table}`))[0]?.s ?? 0);
    const ids = await rows<{ id: string }>('SELECT id FROM stalls FINAL ORDER BY id');
    return {
      counts: await store.counts(),
      rollup_1s_samples: await sum('port_samples_1s'),
      rollup_1m_samples: await sum('port_samples_1m'),
      stall_ids: ids.map((r) => r.id),
      alerts: await rows<StoredAlert>('SELECT id, rule, state, toJSONString(labels) AS labels FROM alerts FINAL ORDER BY id'),
    };
  });
}

/** Sum of `fabricscope_bus_lag` over the groups whose key matches, from a process's /metrics. */
export async function busLag(apiUrl: string, key: RegExp = /./): Promise<number> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  let lag = 0;
  for (const m of text.matchAll(/^fabricscope_bus_lag\{key="([^"]+)"\} (\d+)/gm)) if (key.test(m[1]!)) lag += Number(m[2]);
  return lag;
}

/**
 * Whether a consumer group has committed, on every partition of `topic`, the partition's end.
 * A process that has just (re)joined reports no lag until it has fetched, so its own lag
 * metric alone cannot tell "caught up" from "not started yet"; the brokers can.
 */
export async function groupCaughtUp(brokers: string[], groupId: string, topic: string): Promise<boolean> {
  const admin = new Kafka({ clientId: 'test-caught-up', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    return ends.every((e) => BigInt(e.high) === 0n || at.get(e.partition) === BigInt(e.high));
  } finally {
    await admin.disconnect();
  }
}

/** Polls `check` until it returns true; fails naming `what` (and what `progress` says) after `timeoutMs`. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 120_000, everyMs = 250, progress = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${progress()})${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Keeps each process's log under test-output/<name>/ for a look after a failure. */
export function keepLogs(name: string, services: Service[]): void {
  const dir = join(REPO_ROOT, 'test-output', name);
  mkdirSync(dir, { recursive: true });
  services.forEach((s, i) => writeFileSync(join(dir, `${i}-${String(s.child.spawnargs[2])}.log`), s.stderr()));
}
