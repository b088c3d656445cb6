/**
 * Bad senders: random and truncated bodies on every endpoint (OTLP/HTTP JSON, protobuf and
 * gzip, OTLP/gRPC, /v1/nccl, and a dcgm-exporter that serves garbage). Each gets a 4xx /
 * INVALID_ARGUMENT (or, when the bytes happen to be valid, a 200), the process keeps serving,
 * and what was accepted before is still whole: later counter deltas are computed from it.
 * Then a clean shutdown in the middle of traffic: everything answered 200 is on the bus.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { CollectorService } from '../../collectors/collector-service.js';
import { METRICS_EXPORT_PATH } from '../../collectors/otlp/otlp-grpc-receiver.js';
import type { Topic, TopicRecords } from '../../core/records.js';
import { MemoryBus } from '../../pipeline/memory-bus.js';
import { collLine } from './nccl-fixtures.js';
import { switchPayload, zeroPort } from './otlp-fixtures.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };
const T0 = 1_767_225_600_000;

/** Deterministic PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    bytes: (n: number) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256)),
  };
}

/** Replaces one random leaf of a JSON value with a value of a random wrong type. */
function mutate(value: unknown, r: ReturnType<typeof rng>): unknown {
  const weird = [null, -1, 1.5, 'x', '', true, [], {}, '18446744073709551616', 'NaN', [1, 'a'], { asInt: 'z' }];
  const clone = JSON.parse(JSON.stringify(value)) as unknown;
  const paths: Array<[Record<string, unknown> | unknown[], string | number]> = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((x, i) => (paths.push([v, i]), walk(x)));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (paths.push([v as Record<string, unknown>, k]), walk(x));
  };
  walk(clone);
  const [parent, key] = paths[r.int(paths.length)]!;
  (parent as Record<string | number, unknown>)[key] = weird[r.int(weird.length)];
  return clone;
}

function recordingBus() {
  const bus = new MemoryBus();
  const got = { port_samples: [] as TopicRecords['port_samples'][], gpu_samples: [] as TopicRecords['gpu_samples'][], collective_events: [] as TopicRecords['collective_events'][] };
  for (const topic of Object.keys(got) as Array<keyof typeof got>) {
    bus.subscribe(topic as Topic, 'test', async (batch) => {
      (got[topic] as unknown[]).push(...batch);
    });
  }
  return { bus, got };
}

function grpcExport(port: number, body: Uint8Array): Promise<grpc.ServiceError | undefined> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise((resolve) =>
    client.makeUnaryRequest(METRICS_EXPORT_PATH, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(body), (err) => {
      client.close();
      resolve(err ?? undefined);
    }),
  );
}

let cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('fuzz: random and truncated bodies on every endpoint', () => {
  it('answers 4xx / INVALID_ARGUMENT, never crashes, and keeps what it accepted before', async () => {
    const r = rng(20260101);
    const { bus, got } = recordingBus();
    let garbage: Uint8Array = new Uint8Array();
    const exporter: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(garbage));
    await new Promise<void>((ok) => exporter.listen(0, '127.0.0.1', ok));
    cleanup.push(() => new Promise((ok) => (exporter.closeAllConnections(), exporter.close(ok))));
    const exporterUrl = `http://127.0.0.1:${(exporter.address() as AddressInfo).port}/metrics`;
    const dir = mkdtempSync(join(tmpdir(), 'fabricscope-fuzz-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));

    const service = new CollectorService({ bus, logger: silent, otlp: { port: 0, maxBodyBytes: 64 * 1024 }, otlpGrpc: { port: 0 }, scrape: { targets: [exporterUrl] }, nccl: { dir } });
    const { otlpGrpc } = await service.start();
    cleanup.push(() => service.stop());
    const url = service.otlpUrl!;
    const post = (path: string, body: Uint8Array | string, headers: Record<string, string>) =>
      fetch(`${url}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });

    // Accepted before the storm: leaf-0/p1 with counters that later deltas depend on.
    const before = switchPayload('leaf-0', T0, { p1: zeroPort({ ecn: 100, outOctets: 10_000, queue: 7 }) });
    expect((await post('/v1/metrics', JSON.stringify(before), { 'content-type': 'application/json' })).status).toBe(200);
    expect((await post('/v1/nccl', `${collLine({ sn: 1 })}\n`, { 'content-type': 'application/x-ndjson' })).status).toBe(200);
    garbage = new TextEncoder().encode('DCGM_FI_DEV_SM_CLOCK{gpu="0",UUID="GPU-a",Hostname="node-0"} 1410 1767225600000\n');
    expect((await service.scrapeNow()).published).toBe(1);

    // Fuzz senders use another switch, so a mutation that happens to be valid cannot touch leaf-0.
    const victim = JSON.stringify(switchPayload('fuzz-0', T0, { p1: zeroPort({ ecn: 5, outOctets: 50 }) }));
    const statuses = new Map<string, Set<number>>();
    const note = (what: string, status: number) => statuses.set(what, (statuses.get(what) ?? new Set()).add(status));

    for (let i = 0; i < 60; i++) {
      const randomBytes = r.bytes(1 + r.int(300));
      const truncated = victim.slice(0, r.int(victim.length));
      const cases: Array<[string, Uint8Array | string, Record<string, string>]> = [
        ['json random', randomBytes, { 'content-type': 'application/json' }],
        ['json truncated', truncated, { 'content-type': 'application/json' }],
        ['json mutated', JSON.stringify(mutate(JSON.parse(victim), r)), { 'content-type': 'application/json' }],
        ['protobuf random', randomBytes, { 'content-type': 'application/x-protobuf' }],
        ['gzip random', randomBytes, { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
        ['gzip truncated', gzipSync(victim).subarray(0, 1 + r.int(40)), { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
        ['gzip bomb', gzipSync(Buffer.alloc(1024 * 1024, 0x20)), { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
      ];
      for (const [what, body, headers] of cases) {
        const res = await post('/v1/metrics', body, headers);
        await res.arrayBuffer();
        note(what, res.status);
        expect(res.status, what).toBeLessThan(500);
      }
      const nccl = await post('/v1/nccl', i % 2 ? randomBytes : collLine({ sn: 1000 + i }).slice(0, r.int(200)), { 'content-type': 'application/x-ndjson' });
      await nccl.arrayBuffer();
      note('nccl', nccl.status);
      expect(nccl.status).toBeLessThan(500);

      const dumpText = JSON.stringify({ entries: [{ profiling_name: 'nccl:all_reduce', state: 'completed', collective_seq_id: 5000 + i, time_created_ns: 1, duration_ms: 1 }] });
      const dump = await post('/v1/flight-recorder?rank=0', i % 2 ? randomBytes : dumpText.slice(0, r.int(dumpText.length)), { 'content-type': 'application/json' });
      await dump.arrayBuffer();
      note('flight recorder', dump.status);
      expect(dump.status).toBeLessThan(500);

      const err = await grpcExport(otlpGrpc!.port, randomBytes);
      note('grpc random', err?.code ?? 0);
      expect([grpc.status.OK, grpc.status.INVALID_ARGUMENT]).toContain(err?.code ?? grpc.status.OK);

      garbage = i % 3 === 0 ? randomBytes : new TextEncoder().encode('DCGM_FI_DEV_SM_CLOCK{gpu="0",UUID="GPU-a",Hostname="node-0"} 1410 1767225600000\n'.slice(0, r.int(90)));
      const scrape = await service.scrapeNow();
      expect(scrape.targets).toHaveLength(1);
    }
    // Every refusal of malformed input is a 400, 413 (the bomb) or 415 — never a 5xx.
    expect([...statuses.get('json random')!]).toEqual([400]);
    expect([...statuses.get('gzip bomb')!]).toEqual([413]);
    expect(statuses.get('protobuf random')!.has(400)).toBe(true);
    expect(statuses.get('flight recorder')!.has(400)).toBe(true);
    expect(statuses.get('grpc random')!.has(grpc.status.INVALID_ARGUMENT)).toBe(true);

    // What was accepted before is intact: the next leaf-0 sample's deltas are from it.
    const after = switchPayload('leaf-0', T0 + 1_000, { p1: zeroPort({ ecn: 130, outOctets: 12_500, queue: 9 }) });
    expect((await post('/v1/metrics', JSON.stringify(after), { 'content-type': 'application/json' })).status).toBe(200);
    writeFileSync(join(dir, 'node-0-pid1.log'), `${collLine({ sn: 2 })}\n`);
    expect(await service.pollNcclNow()).toBe(1);
    await bus.drain();
    const leaf0 = got.port_samples.filter((s) => s.port === 'leaf-0/p1');
    expect(leaf0.map((s) => [s.ts_ms - T0, s.ecn_marked_pkts, s.tx_bytes, s.queue_bytes])).toEqual([[0, 0, 0, 7], [1_000, 30, 2_500, 9]]);
    expect(got.collective_events.filter((e) => e.seq === 1 || e.seq === 2)).toHaveLength(2);
    expect(got.gpu_samples.length).toBeGreaterThanOrEqual(1);
    const stats = service.stats();
    expect(stats.otlp!.failed_requests).toBeGreaterThan(300);
    expect(stats.nccl.rejected).toBeGreaterThan(0);
    expect(stats.dcgm!.rejected).toBeGreaterThan(0);
  });
});

describe('clean shutdown', () => {
  it('publishes everything it answered 200 to, and every NCCL line written before stop', async () => {
    const { bus, got } = recordingBus();
    const dir = mkdtempSync(join(tmpdir(), 'fabricscope-stop-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const service = new CollectorService({ bus, logger: silent, otlp: { port: 0 }, otlpGrpc: { port: 0 }, nccl: { dir, pollIntervalMs: 50 } });
    await service.start();
    const url = service.otlpUrl!;
    writeFileSync(join(dir, 'node-0-pid1.log'), Array.from({ length: 200 }, (_, i) => collLine({ sn: i })).join('\n') + '\n');

    const sends = Array.from({ length: 40 }, (_, i) =>
      fetch(`${url}/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(switchPayload(`leaf-${i}`, T0, { p1: zeroPort({ queue: i }) })),
      }).then(
        (res) => res.status,
        () => 0, // refused at the door once stopping: fine, it was not accepted
      ),
    );
    // Stop while requests are in progress (they have arrived, their bodies are being handled).
    while ((service.stats().otlp?.requests ?? 0) < 10) await new Promise((r) => setTimeout(r, 1));
    await service.stop();
    const statuses = await Promise.all(sends);
    await bus.drain();
    const accepted = statuses.map((s, i) => (s === 200 ? i : -1)).filter((i) => i >= 0);
    expect(accepted.length).toBeGreaterThan(0);
    const published = new Set(got.port_samples.map((s) => s.device));
    for (const i of accepted) expect(published.has(`leaf-${i}`), `leaf-${i}`).toBe(true);
    expect(got.collective_events).toHaveLength(200);
  });
});
