/**
 * The API's safety layers on a real socket over real chDB: bearer auth, the loopback rule,
 * per-client rate limiting, body size limits, CORS, and the store's read-only query limits.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer, type ApiServer, type ApiServerOptions, type ListeningServer } from '../../api/server.js';
import { TokenSet, isLoopbackHost } from '../../api/auth.js';
import { TokenBuckets } from '../../api/rate-limit.js';
import { createStore } from '../../storage/create-store.js';
import { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { openClickHouse } from '../../storage/clickhouse-connection.js';
import { readOnlySettingsClause } from '../../storage/query-limits.js';
import { ConfigError, InvalidArgumentError } from '../../core/errors.js';
import { createLogger } from '../../core/log.js';
import { stall, tempDataDir } from '../storage/fixtures.js';

let store: ClickHouseStore;
let dataDir: string;
const servers: ListeningServer[] = [];

async function start(options: Partial<ApiServerOptions> = {}): Promise<{ api: ApiServer; url: string }> {
  const api = createApiServer({ store, logger: createLogger('silent'), ...options });
  const server = await api.listen('127.0.0.1', 0);
  servers.push(server);
  return { api, url: server.url };
}

beforeAll(async () => {
  dataDir = tempDataDir('safety');
  store = createStore({ data: dataDir });
  await store.migrate();
  await store.insert('stalls', [stall(1), stall(2), stall(3, { job: 'train-b' })]);
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await store?.close();
});

describe('bearer-token auth', () => {
  const TOKEN = 's3cret-token-A';
  let url: string;
  beforeAll(async () => {
    ({ url } = await start({ apiTokens: [TOKEN, 'other-token-B'] }));
  });

  const cases: Array<[string, string | undefined, number]> = [
    ['/api/v1/stalls', undefined, 401],
    ['/api/v1/stalls', `Bearer ${TOKEN}`, 200],
    ['/api/v1/stalls', 'Bearer other-token-B', 200],
    ['/api/v1/stalls', `bearer   ${TOKEN}`, 200],
    ['/api/v1/stalls', `Bearer ${TOKEN}x`, 401],
    ['/api/v1/stalls', `Bearer ${TOKEN.slice(0, -1)}`, 401],
    ['/api/v1/stalls', `Bearer ${TOKEN.toUpperCase()}`, 401],
    ['/api/v1/stalls', 'Bearer ', 401],
    ['/api/v1/stalls', `Bearer ${TOKEN} extra`, 401],
    ['/api/v1/stalls', `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}`, 401],
    ['/api/v1/stalls', TOKEN, 401],
    ['/api/v1/stalls', `Bearer ${'A'.repeat(4000)}`, 401],
    ['/api/v1/stalls', "Bearer ' OR 1=1 --", 401],
    ['/api/v1/stalls/train-a%3A1', undefined, 401],
    ['/api/v1/alerts', undefined, 401],
    ['/api/v1/gpus', undefined, 401],
    ['/metrics', undefined, 401],
    ['/openapi.json', undefined, 401],
    ['/api/v1/no-such-route', undefined, 401],
    ['/healthz', undefined, 200],
    ['/readyz', undefined, 200],
  ];

  it.each(cases)('GET %s with Authorization %s → %i', async (path, authorization, status) => {
    const res = await fetch(`${url}${path}`, { headers: authorization === undefined ? {} : { authorization } });
    expect(res.status).toBe(status);
    const body = (await res.json()) as any;
    if (status === 401) {
      expect(body).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="fabricscope"');
      expect(JSON.stringify(body)).not.toContain(TOKEN);
    } else {
      expect(res.headers.get('www-authenticate')).toBeNull();
    }
  });

  it('compares tokens by value only', () => {
    const set = new TokenSet(['abc', 'äöü-токен']);
    expect([set.has('abc'), set.has('äöü-токен'), set.has('ab'), set.has('abcd'), set.has(''), set.has('ABC')]).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(new TokenSet([]).has('')).toBe(false);
  });
});

describe('open API only on loopback', () => {
  const hosts: Array<[string, boolean]> = [
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['[::1]', true],
    ['localhost', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.5', false],
    ['192.168.1.1', false],
    ['example.com', false],
    ['128.0.0.1', false],
  ];
  it.each(hosts)('isLoopbackHost(%s) = %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it('refuses to build an open API for a non-loopback host', () => {
    const build = (host: string, apiTokens?: string[]) => () =>
      createApiServer({ store, logger: createLogger('silent'), host, apiTokens });
    expect(build('0.0.0.0')).toThrow(ConfigError);
    expect(build('0.0.0.0')).toThrow(/api_tokens/);
    expect(build('0.0.0.0', ['t'])).not.toThrow();
    expect(build('127.0.0.1')).not.toThrow();
  });

  it('refuses to listen open on a non-loopback host even if built for loopback', async () => {
    const api = createApiServer({ store, logger: createLogger('silent') });
    await expect(api.listen('0.0.0.0', 0)).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('rate limiting', () => {
  it('answers 429 with Retry-After once a client has used its burst, and counts it', async () => {
    const { api, url } = await start({ rateLimit: { requests_per_s: 0.001, burst: 3 } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${url}/api/v1/stalls?limit=1`)).status);
    expect(statuses).toEqual([200, 200, 200]);
    const limited = await fetch(`${url}/api/v1/stalls?limit=1`);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toEqual({ error: { code: 'RATE_LIMITED', message: expect.stringContaining('retry in') } });
    // Probes are never throttled.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(api.telemetry.render()).toMatch(/^fabricscope_http_rate_limited_total 1$/m);
  });

  it('refills at the configured rate, per client, with a bounded client table', () => {
    let now = 0;
    const buckets = new TokenBuckets({ requests_per_s: 2, burst: 2, max_clients: 2 }, () => now);
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 1]);
    expect(buckets.take('b')).toBe(0); // another client has its own bucket
    now += 500; // half a second at 2/s: one token back
    expect([buckets.take('a'), buckets.take('a')]).toEqual([0, 1]);
    buckets.take('c'); // evicts the least recently used ('b')
    expect([buckets.take('b'), buckets.take('b'), buckets.take('b')]).toEqual([0, 0, 1]);
    expect(() => new TokenBuckets({ requests_per_s: 0, burst: 1 })).toThrow(RangeError);
  });
});

/** Raw HTTP so the body can be declared, chunked or oversized as a hostile client would. */
function send(url: string, options: { method?: string; headers?: Record<string, string>; chunks?: Buffer[] }) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${url}/api/v1/stalls`, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server may answer 413 and close before reading everything: that is the point.
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    for (const c of options.chunks ?? []) req.write(c);
    req.end();
  });
}

describe('body size limit', () => {
  let url: string;
  beforeAll(async () => {
    ({ url } = await start({ maxBodyBytes: 1024 }));
  });

  // Node's client frames a GET body only when told how: length or chunked, explicitly.
  const chunked = { 'transfer-encoding': 'chunked' };
  const cases: Array<[string, { method?: string; headers?: Record<string, string>; chunks?: Buffer[] }, number]> = [
    ['no body → 200', {}, 200],
    ['small body → 200', { headers: { 'content-type': 'application/json', 'content-length': '7' }, chunks: [Buffer.from('{"a":1}')] }, 200],
    ['small chunked body → 200', { headers: chunked, chunks: [Buffer.from('a'), Buffer.from('b')] }, 200],
    ['declared too large, never sent → 413', { headers: { 'content-length': String(10 * 1024 * 1024) }, chunks: [Buffer.alloc(2048)] }, 413],
    ['declared length not a number → 400 (Node refuses it)', { headers: { 'content-length': 'abc' } }, 400],
    ['chunked too large → 413', { headers: chunked, chunks: Array.from({ length: 8 }, () => Buffer.alloc(512, 'x')) }, 413],
    ['POST too large → 413', { method: 'POST', headers: { 'content-type': 'application/json' }, chunks: [Buffer.alloc(4096, '{')] }, 413],
  ];

  it.each(cases)('%s', async (_label, options, status) => {
    const res = await send(url, options);
    expect(res.status).toBe(status);
    if (status === 413) expect(JSON.parse(res.body).error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('CORS', () => {
  it('is closed by default: no Access-Control-* header for any origin', async () => {
    const { url } = await start();
    const res = await fetch(`${url}/api/v1/stalls`, { headers: { origin: 'https://evil.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${url}/api/v1/stalls`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers allowed origins only, preflight included', async () => {
    const { url } = await start({ corsOrigins: ['https://grafana.example:3000'] });
    const cases: Array<[string | undefined, string | null]> = [
      ['https://grafana.example:3000', 'https://grafana.example:3000'],
      ['https://grafana.example', null],
      ['http://grafana.example:3000', null],
      ['https://grafana.example:3000.evil.example', null],
      ['null', null],
      [undefined, null],
    ];
    for (const [origin, expected] of cases) {
      const res = await fetch(`${url}/api/v1/stalls`, { headers: origin ? { origin } : {} });
      expect(res.headers.get('access-control-allow-origin'), String(origin)).toBe(expected);
      expect(res.headers.get('vary')).toMatch(/Origin/);
    }
    const preflight = await fetch(`${url}/api/v1/stalls`, {
      method: 'OPTIONS',
      headers: { origin: 'https://grafana.example:3000', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/GET/);
  });

  it('lets a preflight through without a token while data still needs one', async () => {
    const { url } = await start({ apiTokens: ['t0k'], corsOrigins: ['https://ui.example'] });
    const preflight = await fetch(`${url}/api/v1/stalls`, {
      method: 'OPTIONS',
      headers: { origin: 'https://ui.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect((await fetch(`${url}/api/v1/stalls`, { headers: { origin: 'https://ui.example' } })).status).toBe(401);
  });
});

describe('read-only, limited queries', () => {
  it('the settings every read carries refuse writes', async () => {
    const { client } = openClickHouse({ kind: 'embedded', dataDir });
    const clause = readOnlySettingsClause({ max_execution_time_s: 5, max_result_rows: 100 });
    await expect(client.command({ query: `INSERT INTO stalls SELECT * FROM stalls ${clause}` })).rejects.toThrow(/readonly/i);
    await expect(client.command({ query: `DROP TABLE stalls ${clause}` })).rejects.toThrow();
    // The limits are scoped to the query: writes through the store still work afterwards.
    await store.insert('stalls', [stall(9)]);
    expect((await store.counts()).stalls).toBe(4);
    await store.insert('stalls', [stall(9)]);
  });

  it('a result over max_result_rows is a clear 4xx-class error, not a truncated answer', async () => {
    const { client } = openClickHouse({ kind: 'embedded', dataDir });
    const limited = new ClickHouseStore(client, { queryLimits: { max_result_rows: 2 } });
    const err = await limited.listStalls({ limit: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(/exceed 2 rows/);
    expect(await limited.listStalls({ limit: 2 })).toHaveLength(2);
  });

  it('rejects nonsensical limits at construction', () => {
    const { client } = openClickHouse({ kind: 'embedded', dataDir });
    expect(() => new ClickHouseStore(client, { queryLimits: { max_execution_time_s: 0 } })).toThrow(RangeError);
    expect(() => new ClickHouseStore(client, { queryLimits: { max_result_rows: 1.5 } })).toThrow(RangeError);
  });
});
