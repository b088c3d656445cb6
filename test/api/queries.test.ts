/**
 * The query endpoints beyond the DESIGN.md contract, over real chDB on a real socket: stall
 * pagination, top root causes and time series.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer, type ListeningServer } from '../../api/server.js';
import { encodeCursor } from '../../api/cursor.js';
import { createStore } from '../../storage/create-store.js';
import type { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { createLogger } from '../../core/log.js';
import type { Stall } from '../../core/records.js';
import { Topology } from '../../core/topology.js';
import { T0, collectiveEvent, gpuSample, portSample, stall, tempDataDir } from '../storage/fixtures.js';

let store: ClickHouseStore;
let server: ListeningServer;

const get = async (path: string) => {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, body: (await res.json()) as any };
};

/** 12 stalls in pairs that share a start time, so ordering needs the id as tie-breaker. */
const STALLS: Stall[] = Array.from({ length: 12 }, (_, i) =>
  stall(i + 1, {
    start_ms: T0 + Math.floor(i / 2) * 1000,
    job: i % 3 === 0 ? 'train-b' : 'train-a',
  }),
);

beforeAll(async () => {
  store = createStore({ data: tempDataDir('queries') });
  await store.migrate();
  await store.insert('stalls', STALLS);
  server = await createApiServer({ store, logger: createLogger('silent') }).listen('127.0.0.1', 0);
});
afterAll(async () => {
  await server?.close();
  await store?.close();
});

async function walk(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const qs = `${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const { status, body } = await get(`/api/v1/stalls?${qs}`);
    expect(status).toBe(200);
    expect(body.stalls.length).toBeLessThanOrEqual(limit);
    ids.push(...body.stalls.map((s: any) => s.id));
    cursor = body.next_cursor;
    pages++;
  } while (cursor !== null && pages < 50);
  return { ids, pages };
}

describe('stall cursor pagination', () => {
  it.each([1, 3, 5, 12, 100])('pages of %i walk the full listing once, in order', async (limit) => {
    const all = (await get('/api/v1/stalls?limit=1000')).body.stalls.map((s: any) => s.id);
    expect(all).toHaveLength(12);
    const { ids, pages } = await walk('', limit);
    expect(ids).toEqual(all);
    expect(pages).toBe(Math.max(1, Math.ceil(12 / limit)));
  });

  it('keeps the filters across pages', async () => {
    const all = (await get('/api/v1/stalls?job=train-b')).body.stalls.map((s: any) => s.id);
    expect(all).toHaveLength(4);
    expect((await walk('job=train-b', 3)).ids).toEqual(all);
  });

  it('orders ties on start by id and resumes between them', async () => {
    const first = await get('/api/v1/stalls?limit=1');
    const second = await get(`/api/v1/stalls?limit=1&cursor=${first.body.next_cursor}`);
    expect(first.body.stalls[0].start).toBe(second.body.stalls[0].start);
    expect(first.body.stalls[0].id < second.body.stalls[0].id).toBe(true);
  });

  it('a cursor past the last stall gives an empty last page', async () => {
    const body = (await get(`/api/v1/stalls?cursor=${encodeCursor({ start_ms: 0, id: '' + 'a' })}`)).body;
    expect(body).toEqual({ stalls: [], next_cursor: null });
  });

  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const hostile: Array<[string, string]> = [
    ['empty', ''],
    ['not base64url', 'abc$%^'],
    ['padding', `${b64([1, 'a'])}==`],
    ['not JSON', Buffer.from('hello').toString('base64url')],
    ['an object', b64({ start_ms: 1, id: 'a' })],
    ['three items', b64([1, 'a', 2])],
    ['negative time', b64([-1, 'a'])],
    ['float time', b64([1.5, 'a'])],
    ['huge time', b64([1e300, 'a'])],
    ['string time', b64(['1', 'a'])],
    ['empty id', b64([1, ''])],
    ['long id', b64([1, 'x'.repeat(300)])],
    ['id with SQL', encodeURIComponent(b64([1, "'); DROP TABLE stalls; --"]))],
    ['over-long', 'A'.repeat(600)],
    ['repeated', `${b64([1, 'a'])}&cursor=${b64([2, 'b'])}`],
  ];
  it.each(hostile)('a malformed cursor (%s) is a 400 naming query.cursor', async (_label, cursor) => {
    const { status, body } = await get(`/api/v1/stalls?cursor=${cursor}`);
    if (_label === 'id with SQL') {
      // Well-formed: it is just an id that sorts somewhere; it must not do anything else.
      expect(status).toBe(200);
      return;
    }
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'INVALID_ARGUMENT', where: 'query.cursor' });
  });

  it('leaves the data unchanged', async () => {
    expect((await store.counts()).stalls).toBe(12);
  });
});

describe('GET /api/v1/root-causes', () => {
  beforeAll(async () => {
    await store.insert('stalls', [
      // 2 ranks × (2,020,000 − 20,000) µs = 4 GPU-seconds
      stall(101, { job: 'train-c', kind: 'straggler_gpu', location: 'node-1/gpu-3', duration_us: 2_020_000, start_ms: T0 + 20_000 }),
      stall(102, { job: 'train-c', kind: 'pfc_storm', location: 'node-2/nic-1', start_ms: T0 + 21_000 }),
      stall(103, { job: 'train-c', kind: 'pfc_storm', location: 'node-2/nic-1', start_ms: T0 + 22_000 }),
    ]);
  });

  const culprits = (list: any[]) => list.map((c) => [c.kind, c.location, c.stalls, c.gpu_seconds_lost]);

  it('ranks culprits by stall count and by GPU-seconds lost', async () => {
    const { status, body } = await get('/api/v1/root-causes');
    expect(status).toBe(200);
    expect(culprits(body.by_stalls)).toEqual([
      ['incast_congestion', 'leaf-3/p5', 12, 0.72],
      ['pfc_storm', 'node-2/nic-1', 2, 0.12],
      ['straggler_gpu', 'node-1/gpu-3', 1, 4],
    ]);
    expect(culprits(body.by_gpu_seconds_lost).map((c) => c[1])).toEqual(['node-1/gpu-3', 'leaf-3/p5', 'node-2/nic-1']);
    expect(body.by_stalls[0]).toMatchObject({ jobs: ['train-a', 'train-b'], first: '2026-01-01T00:00:00.000Z', last: '2026-01-01T00:00:05.000Z' });
    expect(body).toMatchObject({ from: null, to: null });
  });

  it('filters by job, window and limit', async () => {
    const q = async (qs: string) => culprits((await get(`/api/v1/root-causes?${qs}`)).body.by_stalls).map((c) => c[1]);
    expect(await q('job=train-c')).toEqual(['node-2/nic-1', 'node-1/gpu-3']);
    expect(await q(`to=${T0 + 6000}`)).toEqual(['leaf-3/p5']);
    // The straggler's stall began before the window but lasted into it; one stall each,
    // so the tie goes to the costlier culprit.
    expect(await q(`from=${T0 + 21_500}`)).toEqual(['node-1/gpu-3', 'node-2/nic-1']);
    expect(await q('limit=1')).toEqual(['leaf-3/p5']);
    expect(await q('job=nobody')).toEqual([]);
  });

  it('each ranking has its own top: a culprit outside one top still leads the other', async () => {
    const { body } = await get('/api/v1/root-causes?limit=1');
    expect(culprits(body.by_stalls).map((c) => c[1])).toEqual(['leaf-3/p5']);
    expect(culprits(body.by_gpu_seconds_lost).map((c) => c[1])).toEqual(['node-1/gpu-3']);
  });

  const hostile: Array<[string, string]> = [
    ['limit=0', 'query.limit'],
    ['limit=101', 'query.limit'],
    ['limit=-3', 'query.limit'],
    ['from=yesterday', 'query.from'],
    [`from=${T0 + 10}&to=${T0}`, 'query.to'],
    ['kind=pfc_storm', 'query.kind'],
    [`job=${'j'.repeat(300)}`, 'query.job'],
    ['job=a&job=b', 'query.job'],
  ];
  it.each(hostile)('GET /api/v1/root-causes?%s → 400 naming %s', async (qs, where) => {
    const { status, body } = await get(`/api/v1/root-causes?${qs}`);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'INVALID_ARGUMENT', where });
  });

  it('treats injection attempts as plain values', async () => {
    const { status, body } = await get(`/api/v1/root-causes?job=${encodeURIComponent("train-a' OR '1'='1")}`);
    expect(status).toBe(200);
    expect(body.by_stalls).toEqual([]);
    expect((await store.counts()).stalls).toBe(15);
  });
});

describe('time series', () => {
  const PORT = 'leaf-3/p5';
  beforeAll(async () => {
    // 10 s of one port at 100 ms: queue ramps up, 10 ECN marks per sample, the link paused half
    // of second 2, down once in second 5. Plus a sibling port that must not leak in.
    const samples = Array.from({ length: 100 }, (_, i) => ({
      ...portSample(i, PORT),
      interval_ms: 100,
      queue_bytes: i * 1000,
      ecn_marked_pkts: 10,
      pfc_rx_pause_us: i >= 20 && i < 30 ? 50_000 : 0,
      credit_stall_us: 0,
      oper_up: i !== 55,
    }));
    await store.insert('port_samples', samples.slice(0, 50));
    await store.insert('port_samples', samples.slice(50));
    await store.insert('port_samples', [{ ...portSample(5, 'leaf-3/p6'), queue_bytes: 10 ** 9 }]);
    await store.insert('gpu_samples', [
      gpuSample('node-0/gpu-1', T0, 1980),
      gpuSample('node-0/gpu-1', T0 + 1000, 1980),
      gpuSample('node-0/gpu-1', T0 + 2000, 1000),
      gpuSample('node-0/gpu-1', T0 + 3000, 1200),
    ]);
    // Calls 1..4 of train-a, one per second, two ranks; rank 1 ends last. Call 3 is slow.
    const event = (seq: number, rank: number, duration_us: number, busbw_gbs: number) => ({
      ...collectiveEvent(rank, seq),
      start_us: (T0 + seq * 1000) * 1000,
      end_us: (T0 + seq * 1000) * 1000 + duration_us,
      busbw_gbs,
    });
    await store.insert('collective_events', [1, 2, 3, 4].flatMap((seq) => [event(seq, 0, 20_000, 20), event(seq, 1, seq === 3 ? 100_000 : 30_000, 10)]));
  });

  it('a port at 1 s steps reads the 1 s rollup: rates, fractions and maxima per bucket', async () => {
    const { status, body } = await get(`/api/v1/series/port/leaf-3%2Fp5?from=${T0}&to=${T0 + 10_000}&step=1000`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ port: PORT, from: '2026-01-01T00:00:00.000Z', step_ms: 1000, resolution: '1s' });
    expect(body.points).toHaveLength(10);
    expect(body.points[2]).toEqual({
      t: '2026-01-01T00:00:02.000Z',
      t_ms: T0 + 2000,
      samples: 10,
      queue_bytes_max: 29_000,
      queue_bytes_avg: 24_500,
      tx_gbps: 0.4,
      ecn_marked_pkts_per_s: 100,
      pfc_pause_fraction: 0.5,
      pfc_tx_pause_frames: 0,
      credit_stall_fraction: 0,
      link_errors: 0,
      down_samples: 0,
    });
    expect(body.points.map((p: any) => p.down_samples)).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  });

  it('raw samples and the rollups agree', async () => {
    const raw = (await get(`/api/v1/series/port/${PORT}?from=${T0}&to=${T0 + 60_000}&step=500`)).body;
    const perSecond = (await get(`/api/v1/series/port/${PORT}?from=${T0}&to=${T0 + 60_000}&step=1000`)).body;
    const perTenSeconds = (await get(`/api/v1/series/port/${PORT}?from=${T0}&to=${T0 + 60_000}&step=10000`)).body;
    const perMinute = (await get(`/api/v1/series/port/${PORT}?from=${T0}&to=${T0 + 60_000}&step=60000`)).body;
    expect([raw.resolution, perSecond.resolution, perTenSeconds.resolution, perMinute.resolution]).toEqual(['raw', '1s', '10s', '1m']);
    expect(perTenSeconds.points).toHaveLength(1);
    expect({ ...perTenSeconds.points[0] }).toEqual({ ...perMinute.points[0] });
    expect(raw.points).toHaveLength(20);
    expect(perMinute.points).toHaveLength(1);
    expect(perMinute.points[0]).toMatchObject({ samples: 100, queue_bytes_max: 99_000, queue_bytes_avg: 49_500, pfc_pause_fraction: 0.05, tx_gbps: 0.4, down_samples: 1 });
    const total = (points: any[], key: string) => points.reduce((s, p) => s + p[key] * (key === 'samples' ? 1 : p.samples), 0);
    expect(total(raw.points, 'samples')).toBe(100);
    expect(total(perSecond.points, 'queue_bytes_avg')).toBe(total(raw.points, 'queue_bytes_avg'));
  });

  it('the port name may be sent with a plain slash; unknown ports give no points', async () => {
    const plain = await get(`/api/v1/series/port/leaf-3/p5?from=${T0}&to=${T0 + 10_000}&step=1000`);
    expect(plain.body.points).toHaveLength(10);
    expect((await get(`/api/v1/series/port/leaf-9%2Fp1?from=${T0}&to=${T0 + 10_000}`)).body.points).toEqual([]);
  });

  it('a GPU averages each DCGM field per step, optionally only some fields', async () => {
    const { body } = await get(`/api/v1/series/gpu/node-0%2Fgpu-1?from=${T0}&to=${T0 + 4000}&step=2000`);
    expect(body.gpu).toBe('node-0/gpu-1');
    expect(body.points).toEqual([
      { t: '2026-01-01T00:00:00.000Z', t_ms: T0, samples: 2, metrics: { DCGM_FI_DEV_GPU_UTIL: 97.5, DCGM_FI_DEV_SM_CLOCK: 1980 } },
      { t: '2026-01-01T00:00:02.000Z', t_ms: T0 + 2000, samples: 2, metrics: { DCGM_FI_DEV_GPU_UTIL: 97.5, DCGM_FI_DEV_SM_CLOCK: 1100 } },
    ]);
    const one = await get(`/api/v1/series/gpu/node-0/gpu-1?from=${T0}&to=${T0 + 4000}&step=2000&fields=DCGM_FI_DEV_SM_CLOCK`);
    expect(one.body.points.map((p: any) => Object.keys(p.metrics))).toEqual([['DCGM_FI_DEV_SM_CLOCK'], ['DCGM_FI_DEV_SM_CLOCK']]);
  });

  it('a job gives collective duration percentiles and busbw per step', async () => {
    const { body } = await get(`/api/v1/series/job/train-a?from=${T0}&to=${T0 + 6000}&step=2000`);
    expect(body.points.map((p: any) => [p.t_ms - T0, p.calls, p.duration_max_us, p.busbw_avg_gbs, p.busbw_min_gbs])).toEqual([
      [0, 1, 30_000, 15, 15],
      [2000, 2, 100_000, 15, 15],
      [4000, 1, 30_000, 15, 15],
    ]);
    const slow = body.points[1];
    expect(slow.duration_p50_us).toBeGreaterThanOrEqual(30_000);
    expect(slow.duration_p50_us).toBeLessThanOrEqual(100_000);
    expect(slow.duration_p99_us).toBeGreaterThan(slow.duration_p50_us);
  });

  it('without a step, picks a round one giving at most 1000 points', async () => {
    const { body } = await get(`/api/v1/series/port/${PORT}?from=${T0}&to=${T0 + 24 * 3600_000}`);
    expect(body.step_ms).toBe(120_000);
    expect(body.resolution).toBe('1m');
  });

  const hostile: Array<[string, string]> = [
    [`/api/v1/series/port/${PORT}?from=${T0}&to=${T0 + 3600_000}&step=1`, 'query.step'],
    [`/api/v1/series/port/${PORT}?step=0`, 'query.step'],
    [`/api/v1/series/port/${PORT}?step=-1000`, 'query.step'],
    [`/api/v1/series/port/${PORT}?step=1e3`, 'query.step'],
    [`/api/v1/series/port/${PORT}?step=99999999999`, 'query.step'],
    [`/api/v1/series/port/${PORT}?from=${T0 + 1000}&to=${T0}`, 'query.to'],
    [`/api/v1/series/port/${PORT}?from=${T0}&to=${T0}`, 'query.to'],
    [`/api/v1/series/port/${PORT}?from=not-a-time`, 'query.from'],
    [`/api/v1/series/port/${PORT}?fields=x`, 'query.fields'],
    [`/api/v1/series/port/${'p'.repeat(300)}`, 'params.port'],
    [`/api/v1/series/gpu/node-0%2Fgpu-1?fields=${encodeURIComponent("x') OR 1=1 --")}`, 'query.fields.0'],
    [`/api/v1/series/gpu/node-0%2Fgpu-1?fields=${Array.from({ length: 40 }, (_, i) => `F${i}`).join(',')}`, 'query.fields'],
    [`/api/v1/series/gpu/node-0%2Fgpu-1?fields=,,`, 'query.fields'],
    [`/api/v1/series/job/train-a?step=5&step=6`, 'query.step'],
    [`/api/v1/series/job/${'j'.repeat(300)}`, 'params.job'],
  ];
  it.each(hostile)('GET %s → 400 naming %s', async (path, where) => {
    const { status, body } = await get(path);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'INVALID_ARGUMENT', where });
  });

  it.each([
    `/api/v1/series/port/${encodeURIComponent("leaf-3/p5' OR 1=1 --")}?from=${T0}&to=${T0 + 10_000}`,
    `/api/v1/series/gpu/${encodeURIComponent("x'); DROP TABLE gpu_samples; --")}?from=${T0}&to=${T0 + 10_000}`,
    `/api/v1/series/job/${encodeURIComponent("train-a' --")}?from=${T0}&to=${T0 + 10_000}`,
  ])('injection in a name is a plain value: %s', async (path) => {
    const { status, body } = await get(path);
    expect(status).toBe(200);
    expect(body.points).toEqual([]);
  });

  it('leaves the data unchanged', async () => {
    const c = await store.counts();
    expect([c.port_samples, c.gpu_samples, c.collective_events]).toEqual([101, 4, 8]);
  });
});

describe('topology and jobs', () => {
  it('GET /api/v1/topology without a topology lists the ports that reported, with their latest state', async () => {
    const { status, body } = await get(`/api/v1/topology?to=${T0 + 10_000}`);
    expect(status).toBe(200);
    expect(body.topology).toBeNull();
    expect(body.ports.map((p: any) => p.name)).toEqual(['leaf-3/p5', 'leaf-3/p6']);
    expect(body.ports[0]).toEqual({
      name: 'leaf-3/p5',
      device: 'leaf-3',
      role: null,
      peer: null,
      capacity_gbps: null,
      state: {
        last_seen: '2026-01-01T00:00:09.900Z',
        oper_up: true,
        queue_bytes: 99_000,
        tx_gbps: 0.4,
        ecn_marked_pkts_per_s: 100,
        pfc_pause_fraction: 0,
        credit_stall_fraction: 0,
        link_errors: 0,
      },
    });
    // The state at a time is the latest sample before it.
    const earlier = await get(`/api/v1/topology?to=${T0 + 5_560}`);
    expect(earlier.body.ports[0].state).toMatchObject({ last_seen: '2026-01-01T00:00:05.500Z', oper_up: false });
    expect((await get(`/api/v1/topology?to=${T0 + 3600_000}`)).body.ports).toEqual([]);
  });

  it('with a topology, lists every port with role and peer, silent ones with state null', async () => {
    const topology = new Topology({ nodes: 2, gpus_per_node: 2, leaves: 1, spines: 1, link_gbps: 400 });
    const other = await createApiServer({ store, logger: createLogger('silent'), topology }).listen('127.0.0.1', 0);
    try {
      const body = (await (await fetch(`${other.url}/api/v1/topology?to=${T0 + 10_000}`)).json()) as any;
      expect(body.topology).toEqual({ nodes: 2, gpus_per_node: 2, leaves: 1, spines: 1, link_gbps: 400 });
      const names = body.ports.map((p: any) => p.name);
      expect(names).toEqual(expect.arrayContaining(['leaf-0/p0', 'leaf-0/p4', 'spine-0/p0', 'nvsw-1/p1', 'leaf-3/p5']));
      expect(body.ports.find((p: any) => p.name === 'leaf-0/p0')).toEqual({
        name: 'leaf-0/p0',
        device: 'leaf-0',
        role: 'leaf_downlink',
        peer: 'node-0/nic-0',
        capacity_gbps: 400,
        state: null,
      });
      expect(body.ports.find((p: any) => p.name === 'leaf-3/p5')).toMatchObject({ role: null, state: { queue_bytes: 99_000 } });
    } finally {
      await other.close();
    }
  });

  it('GET /api/v1/jobs gives each job with its placement and activity', async () => {
    const { status, body } = await get(`/api/v1/jobs?from=${T0}&to=${T0 + 10_000}`);
    expect(status).toBe(200);
    expect(body.jobs).toEqual([
      {
        job: 'train-a',
        n_ranks: 16,
        placement: [
          { rank: 0, host: 'node-0' },
          { rank: 1, host: 'node-0' },
        ],
        collectives: ['AllReduce'],
        calls: 4,
        first: '2026-01-01T00:00:01.000Z',
        last: '2026-01-01T00:00:04.030Z',
        busbw_avg_gbs: 15,
      },
    ]);
    expect((await get(`/api/v1/jobs?from=${T0 + 5000}&to=${T0 + 10_000}`)).body.jobs).toEqual([]);
  });

  it.each([
    ['/api/v1/topology?to=soon', 'query.to'],
    [`/api/v1/topology?from=${T0 + 10}&to=${T0}`, 'query.to'],
    ['/api/v1/topology?port=leaf-3%2Fp5', 'query.port'],
    ['/api/v1/jobs?from=-1', 'query.from'],
    ['/api/v1/jobs?job=x', 'query.job'],
  ])('GET %s → 400 naming %s', async (path, where) => {
    const { status, body } = await get(path);
    expect(status).toBe(400);
    expect(body.error.where).toBe(where);
  });
});

describe('/openapi.json for the query endpoints', () => {
  it('documents every new endpoint with parameters generated from the validating schemas', async () => {
    const { body } = await get('/openapi.json');
    const params = (path: string) => body.paths[path].get.parameters.map((p: any) => `${p.in}:${p.name}${p.required ? '!' : ''}`).sort();
    expect(params('/api/v1/root-causes')).toEqual(['query:from', 'query:job', 'query:limit', 'query:to']);
    expect(params('/api/v1/series/port/{port}')).toEqual(['path:port!', 'query:from', 'query:step', 'query:to']);
    expect(params('/api/v1/series/gpu/{gpu}')).toEqual(['path:gpu!', 'query:fields', 'query:from', 'query:step', 'query:to']);
    expect(params('/api/v1/series/job/{job}')).toEqual(['path:job!', 'query:from', 'query:step', 'query:to']);
    expect(params('/api/v1/stream')).toEqual(['query:access_token', 'query:types']);
    expect(params('/api/v1/topology')).toEqual(['query:from', 'query:to']);
    expect(params('/api/v1/jobs')).toEqual(['query:from', 'query:to']);
    expect(body.paths['/api/v1/series/port/{port}'].get.description).toMatch(/%2F/);
    expect(body.paths['/api/v1/stalls'].get.responses['200'].content['application/json'].schema.properties.next_cursor).toBeDefined();
    expect(body.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    expect(body.paths['/healthz'].get.security).toEqual([]);
    expect(Object.keys(body.paths['/api/v1/stream'].get.responses['200'].content)).toEqual(['text/event-stream']);
  });
});
