/**
 * The API when its ClickHouse server is unreachable (a real client against a closed port):
 * 500s without internals, /readyz 503 with the reason, errors counted, process still serving.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer, type ListeningServer } from '../../api/server.js';
import { createStore } from '../../storage/create-store.js';
import type { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { createLogger } from '../../core/log.js';

let store: ClickHouseStore;
let server: ListeningServer;

/** A port that was free a moment ago: nothing listens there, connections are refused. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

beforeAll(async () => {
  store = createStore({ clickhouse: `http://default:secret@127.0.0.1:${await closedPort()}/fabricscope` });
  server = await createApiServer({ store, logger: createLogger('silent') }).listen('127.0.0.1', 0);
});
afterAll(async () => {
  await server?.close();
  await store?.close();
});

describe('store unreachable', () => {
  it('answers 500 STORAGE_ERROR without stack, SQL or credentials', async () => {
    const res = await fetch(`${server.url}/api/v1/stalls?job=train-a`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'STORAGE_ERROR', message: expect.any(String) } });
    expect(text).not.toMatch(/secret|SELECT|at .*\.js|ECONNREFUSED/);
  });

  it('still validates first: a bad parameter is a 400, not a 500', async () => {
    const res = await fetch(`${server.url}/api/v1/stalls?from=abc`);
    expect(res.status).toBe(400);
  });

  it('/readyz is 503 with the reason, /healthz stays 200, errors are counted', async () => {
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as any).error).toMatchObject({ code: 'NOT_READY', message: expect.stringContaining('store not answering') });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^fabricscope_store_errors_total\{operation="listStalls"\} 1$/m);
    expect(metrics).toMatch(/^fabricscope_store_errors_total\{operation="ping"\} 1$/m);
  });
});
