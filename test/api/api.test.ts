/** The HTTP API over a real chDB store on a real socket: contracts, filters, hostile input. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer, type ListeningServer } from '../../api/server.js';
import { createStore } from '../../storage/create-store.js';
import type { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { createLogger } from '../../core/log.js';
import { FAULT_KINDS } from '../../core/names.js';
import { T0, alert, gpuSample, stall, tempDataDir } from '../storage/fixtures.js';

let store: ClickHouseStore;
let server: ListeningServer;
let liveReady = true;

const get = async (path: string) => {
  const res = await fetch(`${server.url}${path}`);
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, body };
};

beforeAll(async () => {
  store = createStore({ data: tempDataDir('api') });
  await store.migrate();
  await store.insert('stalls', [
    stall(1),
    stall(2, { kind: 'straggler_gpu', location: 'node-1/gpu-3', duration_us: 200_000 }),
    stall(3, { job: 'train-b', kind: 'pfc_storm', location: 'node-2/nic-1' }),
  ]);
  await store.insert('alerts', [alert('a1', 'firing', T0 + 6000), alert('a2', 'resolved', T0 + 9000)]);
  await store.insert('gpu_samples', [gpuSample('node-0/gpu-0', T0, 1980), gpuSample('node-0/gpu-0', T0 + 1000, 1100)]);
  const api = createApiServer({
    store,
    logger: createLogger('silent'),
    live: { ready: () => liveReady, metrics: () => 'fabricscope_pipeline_records_total 42\n' },
  });
  server = await api.listen('127.0.0.1', 0);
});

afterAll(async () => {
  await server?.close();
  await store?.close();
});

describe('GET /api/v1/stalls', () => {
  it('answers the contract shape exactly', async () => {
    const { status, headers, body } = await get('/api/v1/stalls');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/application\/json/);
    // DESIGN.md's `stalls`, with the pagination cursor beside it.
    expect(Object.keys(body)).toEqual(['stalls', 'next_cursor']);
    expect(body.next_cursor).toBeNull();
    expect(body.stalls.map((s: any) => s.id)).toEqual(['train-b:3', 'train-a:2', 'train-a:1']);
    const s = body.stalls.find((x: any) => x.id === 'train-a:1');
    expect(s).toEqual({
      id: 'train-a:1',
      job: 'train-a',
      collective: 'AllReduce',
      seq: 1,
      start: '2026-01-01T00:00:01.000Z',
      end: '2026-01-01T00:00:01.050Z',
      duration_us: 50_000,
      expected_us: 20_000,
      slowest_rank: 5,
      root_cause: {
        kind: 'incast_congestion',
        location: 'leaf-3/p5',
        confidence: 0.9,
        evidence: [
          { signal: 'queue_bytes', location: 'leaf-3/p5', value: 900_000, reference: 100_000, unit: 'bytes' },
          { signal: 'ecn_marked_pkts', location: 'leaf-3/p5', value: 1200 },
        ],
      },
    });
  });

  it('filters by job, kind, location, min_duration_us and limit', async () => {
    const ids = async (qs: string) => (await get(`/api/v1/stalls?${qs}`)).body.stalls.map((s: any) => s.id);
    expect(await ids('job=train-b')).toEqual(['train-b:3']);
    expect(await ids('kind=straggler_gpu')).toEqual(['train-a:2']);
    expect(await ids('location=node-2%2Fnic-1')).toEqual(['train-b:3']);
    expect(await ids('min_duration_us=100000')).toEqual(['train-a:2']);
    expect(await ids('limit=1')).toEqual(['train-b:3']);
    expect(await ids('kind=unknown')).toEqual([]);
  });

  it('accepts from/to as ISO-8601 or epoch ms with the same result', async () => {
    const iso = await get('/api/v1/stalls?from=2026-01-01T00:00:01.500Z&to=2026-01-01T00:00:02.500Z');
    const ms = await get(`/api/v1/stalls?from=${T0 + 1500}&to=${T0 + 2500}`);
    expect(iso.status).toBe(200);
    expect(iso.body.stalls.map((s: any) => s.id)).toEqual(['train-a:2']);
    expect(ms.body).toEqual(iso.body);
    const offset = await get('/api/v1/stalls?from=2026-01-01T01:00:01.500%2B01:00&to=2026-01-01T00:00:02.500Z');
    expect(offset.body).toEqual(iso.body);
  });

  it('GET /api/v1/stalls/:id gives one stall in full, 404 otherwise', async () => {
    const { status, body } = await get('/api/v1/stalls/train-a%3A2');
    expect(status).toBe(200);
    expect(body.stall.id).toBe('train-a:2');
    expect(body.stall.ranks).toHaveLength(2);
    expect(body.stall.ranks[1]).toMatchObject({ rank: 5, gpu: 'node-0/gpu-5', exec_time_us: 20_000 });
    const missing = await get('/api/v1/stalls/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
  });
});

describe('hostile and invalid input', () => {
  const long = 'x'.repeat(5000);
  const cases: Array<[string, number, string | null]> = [
    ['from=abc', 400, 'query.from'],
    ['to=2026-13-45T99:00:00Z', 400, 'query.to'],
    ['from=1e12', 400, 'query.from'],
    ['from=99999999999999999999', 400, 'query.from'],
    ['from=99999999999999', 400, 'query.from'],
    ['from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 400, 'query.to'],
    ['limit=-1', 400, 'query.limit'],
    ['limit=0', 400, 'query.limit'],
    ['limit=99999', 400, 'query.limit'],
    ['limit=1.5', 400, 'query.limit'],
    ['limit=', 400, 'query.limit'],
    ['min_duration_us=-5', 400, 'query.min_duration_us'],
    ['kind=DROP%20TABLE%20stalls', 400, 'query.kind'],
    ['kind=Incast_Congestion', 400, 'query.kind'],
    ['job=a&job=b', 400, 'query.job'],
    ['from%5Bgt%5D=1', 400, 'query.from[gt]'],
    ['colour=blue', 400, 'query.colour'],
    [`job=${long}`, 400, 'query.job'],
    [`location=${long}`, 400, 'query.location'],
    ["job='%20OR%201=1%20--", 200, null],
    ["location=x')%3B%20DROP%20TABLE%20stalls%3B%20--", 200, null],
    ['job=%00%FF%FE', 200, null],
    ['job=%E2%80%AE%F0%9F%92%A5', 200, null],
  ];

  it.each(cases)('GET /api/v1/stalls?%s → %i', async (qs, status, where) => {
    const res = await get(`/api/v1/stalls?${qs}`);
    expect(res.status).toBe(status);
    if (status === 400) {
      expect(res.body).toEqual({ error: { code: 'INVALID_ARGUMENT', message: expect.any(String), where } });
      expect(JSON.stringify(res.body).length).toBeLessThan(1000);
    } else {
      expect(res.body).toEqual({ stalls: [], next_cursor: null });
    }
  });

  it('leaves the stalls table intact and the server answering', async () => {
    expect((await store.counts()).stalls).toBe(3);
    expect((await get('/api/v1/stalls')).body.stalls).toHaveLength(3);
    expect(await get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('rejects a bad alert state and an overlong stall id', async () => {
    expect((await get('/api/v1/alerts?state=on')).body.error.where).toBe('query.state');
    const res = await get(`/api/v1/stalls/${'y'.repeat(300)}`);
    expect(res.status).toBe(400);
    expect(res.body.error.where).toBe('params.id');
  });

  it('answers a malformed URL encoding with 400 in the same shape', async () => {
    const res = await get('/api/v1/stalls/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_ARGUMENT');
  });

  it('survives a URL larger than the header limit', async () => {
    const res = await get(`/api/v1/stalls?job=${'z'.repeat(40_000)}`);
    expect(res.status).toBe(431);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('unknown routes are 404 in the same error shape', async () => {
    const res = await get('/api/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'NOT_FOUND', message: expect.stringContaining('/api/v1/nothing-here') } });
  });
});

describe('alerts and gpus', () => {
  it('GET /api/v1/alerts filters by state and has the contract shape', async () => {
    const all = await get('/api/v1/alerts');
    expect(all.body.alerts).toHaveLength(2);
    const { body } = await get('/api/v1/alerts?state=resolved');
    expect(body).toEqual({
      alerts: [
        {
          id: 'a2',
          rule: 'FabricNondeterminism',
          state: 'resolved',
          labels: { job: 'train-a', severity: 'warning' },
          annotations: { summary: 'collective duration variance above threshold' },
          startsAt: '2026-01-01T00:00:05.000Z',
          endsAt: '2026-01-01T00:00:09.000Z',
          value: 0.42,
        },
      ],
    });
    expect((await get('/api/v1/alerts?state=firing')).body.alerts[0].endsAt).toBeNull();
  });

  it('GET /api/v1/gpus gives the latest values per GPU', async () => {
    const { body } = await get('/api/v1/gpus');
    expect(body).toEqual({
      gpus: [
        {
          id: 'node-0/gpu-0',
          node: 'node-0',
          uuid: 'GPU-node0gpu0',
          model: 'NVIDIA H100 80GB HBM3',
          last_seen: '2026-01-01T00:00:01.000Z',
          metrics: { DCGM_FI_DEV_SM_CLOCK: 1100, DCGM_FI_DEV_GPU_UTIL: 97.5 },
        },
      ],
    });
  });
});

describe('operational endpoints', () => {
  it('sets security headers and hides x-powered-by', async () => {
    const { headers } = await get('/healthz');
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(headers.get('x-powered-by')).toBeNull();
  });

  it('/readyz follows the store and the live pipeline', async () => {
    expect(await get('/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    liveReady = false;
    const notReady = await get('/readyz');
    liveReady = true;
    expect(notReady.status).toBe(503);
    expect(notReady.body.error).toMatchObject({ code: 'NOT_READY', message: expect.stringContaining('live pipeline') });
  });

  it('/metrics counts requests by route pattern and status and appends live metrics', async () => {
    await get('/api/v1/stalls/train-a%3A1');
    const { status, headers, body } = await get('/metrics');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/plain/);
    expect(body).toMatch(/^fabricscope_http_requests_total\{method="GET",route="\/api\/v1\/stalls",status="200"\} \d+$/m);
    expect(body).toMatch(/route="\/api\/v1\/stalls\/:id",status="200"/);
    expect(body).toMatch(/route="\/api\/v1\/stalls",status="400"/);
    expect(body).toMatch(/route="unmatched",status="404"/);
    expect(body).not.toContain('train-a:1');
    expect(body).toContain('# TYPE fabricscope_store_errors_total counter');
    expect(body).toContain('fabricscope_pipeline_records_total 42');
  });

  it('/openapi.json is OpenAPI 3.1 and lists the stalls parameters', async () => {
    const { status, body } = await get('/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    const params = body.paths['/api/v1/stalls'].get.parameters;
    expect(params.map((p: any) => p.name).sort()).toEqual(['cursor', 'from', 'job', 'kind', 'limit', 'location', 'min_duration_us', 'to'].sort());
    const kind = params.find((p: any) => p.name === 'kind');
    expect(kind).toMatchObject({ in: 'query', required: false, schema: { type: 'string', enum: [...FAULT_KINDS, 'unknown'] } });
    expect(body.paths['/api/v1/stalls/{id}'].get.parameters[0]).toMatchObject({ name: 'id', in: 'path', required: true });
    expect(Object.keys(body.paths)).toEqual(expect.arrayContaining(['/api/v1/alerts', '/api/v1/gpus', '/healthz', '/readyz', '/metrics']));
  });
});
