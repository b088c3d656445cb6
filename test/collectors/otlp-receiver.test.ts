import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../pipeline/memory-bus.js';
import type { PortSample } from '../../core/records.js';
import { OtlpReceiver } from '../../collectors/otlp/otlp-receiver.js';
import { captureBus } from './bus-capture.js';
import { switchPayload, zeroPort } from './otlp-fixtures.js';

const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };

let receivers: OtlpReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.map((r) => r.stop()));
  receivers = [];
});

async function startReceiver(bus: MemoryBus, maxBodyBytes?: number): Promise<OtlpReceiver> {
  const r = new OtlpReceiver({ bus, port: 0, maxBodyBytes, logger: silent });
  await r.start();
  receivers.push(r);
  return r;
}

function post(r: OtlpReceiver, body: string | Uint8Array, headers: Record<string, string> = { 'content-type': 'application/json' }, path = '/v1/metrics') {
  return fetch(`${r.url}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
}

const byPortTime = (samples: PortSample[], port: string, ts: number) => samples.find((s) => s.port === port && s.ts_ms === ts);

describe('OTLP receiver: JSON switch metrics → PortSample', () => {
  it('folds the metric families of each port and instant, with counter deltas', async () => {
    const { bus, records } = captureBus('port_samples');
    const r = await startReceiver(bus);
    const first = switchPayload('leaf-3', T0, {
      p5: zeroPort({ queue: 4096, ecn: 10, txPause: 2, rxPause: 1, rxPauseUs: 50, outOctets: 1_000_000, fcs: 3 }),
      p6: zeroPort({ outOctets: 500 }),
    });
    const second = switchPayload('leaf-3', T0 + 100, {
      p5: zeroPort({ queue: 8192, ecn: 25, txPause: 5, rxPause: 4, rxPauseUs: 350, outOctets: 6_000_000, fcs: 3 }),
      p6: zeroPort({ outOctets: 700, operState: 2 }),
    });
    for (const payload of [first, second]) {
      const res = await post(r, JSON.stringify(payload));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({});
    }
    await bus.drain();
    expect(records).toHaveLength(4);
    expect(byPortTime(records, 'leaf-3/p5', T0)).toEqual({
      ts_ms: T0, port: 'leaf-3/p5', device: 'leaf-3', interval_ms: 0, queue_bytes: 4096, tx_bytes: 0, ecn_marked_pkts: 0,
      pfc_tx_pause_frames: 0, pfc_rx_pause_frames: 0, pfc_rx_pause_us: 0, credit_stall_us: 0, link_errors: 0, oper_up: true,
    });
    expect(byPortTime(records, 'leaf-3/p5', T0 + 100)).toEqual({
      ts_ms: T0 + 100, port: 'leaf-3/p5', device: 'leaf-3', interval_ms: 100, queue_bytes: 8192, tx_bytes: 5_000_000,
      ecn_marked_pkts: 15, pfc_tx_pause_frames: 3, pfc_rx_pause_frames: 3, pfc_rx_pause_us: 300, credit_stall_us: 0,
      link_errors: 0, oper_up: true,
    });
    const p6 = byPortTime(records, 'leaf-3/p6', T0 + 100)!;
    expect(p6.tx_bytes).toBe(200);
    expect(p6.oper_up).toBe(false);
    expect(r.stats().metrics.published).toBe(4);
  });

  it('treats a counter that drops, or a sum whose start time moves, as reset', async () => {
    const { bus, records } = captureBus('port_samples');
    const r = await startReceiver(bus);
    await post(r, JSON.stringify(switchPayload('nvsw-2', T0, { p1: zeroPort({ outOctets: 9_000, ecn: 40, creditStallUs: 1_000 }) })));
    // if_out_octets (a gauge holding a counter) went down: the switch cleared it.
    await post(r, JSON.stringify(switchPayload('nvsw-2', T0 + 100, { p1: zeroPort({ outOctets: 120, ecn: 45, creditStallUs: 1_500 }) })));
    // The sums restart from a later startTimeUnixNano with small values: a reboot.
    await post(r, JSON.stringify(switchPayload('nvsw-2', T0 + 200, { p1: zeroPort({ outOctets: 220, ecn: 7, creditStallUs: 30 }) }, T0 + 150)));
    await bus.drain();
    const [a, b, c] = [T0, T0 + 100, T0 + 200].map((t) => byPortTime(records, 'nvsw-2/p1', t)!);
    expect(a!.tx_bytes).toBe(0);
    expect(b!.tx_bytes).toBe(120);
    expect(b!.ecn_marked_pkts).toBe(5);
    expect(b!.credit_stall_us).toBe(500);
    expect(c!.tx_bytes).toBe(100);
    expect(c!.ecn_marked_pkts).toBe(7);
    expect(c!.credit_stall_us).toBe(30);
  });

  it('ignores a resent payload instead of duplicating its samples', async () => {
    const { bus, records } = captureBus('port_samples');
    const r = await startReceiver(bus);
    const body = JSON.stringify(switchPayload('spine-0', T0, { p0: zeroPort() }));
    expect((await post(r, body)).status).toBe(200);
    expect((await post(r, body)).status).toBe(200);
    await bus.drain();
    expect(records).toHaveLength(1);
    expect(r.stats().metrics.stale_samples).toBe(1);
  });

  it('accepts numbers for 64-bit fields, intValue tc and gzip bodies', async () => {
    const { bus, records } = captureBus('port_samples');
    const r = await startReceiver(bus);
    const payload = {
      resourceMetrics: [{
        resource: { attributes: [{ key: 'host.name', value: { stringValue: 'leaf-0' } }] },
        scopeMetrics: [{ metrics: [{
          name: 'nvswitch_interface_shared_buffer_port_tc_curr_occupancy',
          gauge: { dataPoints: [
            { attributes: [{ key: 'interface', value: { stringValue: 'p1' } }, { key: 'tc', value: { intValue: '0' } }], timeUnixNano: T0 * 1e6, asInt: 100 },
            { attributes: [{ key: 'interface', value: { stringValue: 'p1' } }, { key: 'tc', value: { intValue: 3 } }], timeUnixNano: String(T0 * 1e6), asDouble: 28 },
          ] },
        }] }],
      }],
    };
    const res = await post(r, gzipSync(JSON.stringify(payload)), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    await bus.drain();
    expect(records).toHaveLength(1);
    expect(records[0]!.queue_bytes).toBe(128);
  });

  it('answers partialSuccess for points it cannot attribute to a port', async () => {
    const { bus, records } = captureBus('port_samples');
    const r = await startReceiver(bus);
    const payload = switchPayload('leaf-1', T0, { p2: zeroPort({ queue: 10 }) }) as any;
    payload.resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].attributes = [];
    const res = await post(r, JSON.stringify(payload));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.partialSuccess.rejectedDataPoints).toBe('1');
    expect(body.partialSuccess.errorMessage).toContain('resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0]: attribute interface is missing');
    await bus.drain();
    expect(records).toHaveLength(1); // the other families of leaf-1/p2 still make a sample
    expect(r.stats().metrics.rejected).toBe(1);
  });
});

describe('OTLP receiver: refusing bad requests', () => {
  const good = () => JSON.stringify(switchPayload('leaf-2', T0, { p0: zeroPort() }));

  it('400 names the problem, and the server keeps serving', async () => {
    const { bus, records } = captureBus('port_samples');
    const r = await startReceiver(bus);

    const badJson = await post(r, '{"resourceMetrics": [');
    expect(badJson.status).toBe(400);
    expect((await badJson.json()).message).toMatch(/^body: not valid JSON/);

    const badTime = switchPayload('leaf-2', T0, { p0: zeroPort() }) as any;
    badTime.resourceMetrics[0].scopeMetrics[0].metrics[2].sum.dataPoints[0].timeUnixNano = '12x';
    const r1 = await post(r, JSON.stringify(badTime));
    expect(r1.status).toBe(400);
    expect((await r1.json()).message).toBe('resourceMetrics[0].scopeMetrics[0].metrics[2].sum.dataPoints[0].timeUnixNano: not an integer');

    const noTime = switchPayload('leaf-2', T0, { p0: zeroPort() }) as any;
    delete noTime.resourceMetrics[0].scopeMetrics[0].metrics[6].gauge.dataPoints[0].timeUnixNano;
    const r2 = await post(r, JSON.stringify(noTime));
    expect(r2.status).toBe(400);
    expect((await r2.json()).message).toBe('resourceMetrics[0].scopeMetrics[0].metrics[6].gauge.dataPoints[0].timeUnixNano: missing');

    const wrongType = await post(r, JSON.stringify({ resourceMetrics: { oops: true } }));
    expect(wrongType.status).toBe(400);
    expect((await wrongType.json()).message).toBe('resourceMetrics: not an array');

    const badValue = switchPayload('leaf-2', T0, { p0: zeroPort() }) as any;
    badValue.resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].asDouble = 'lots';
    const r3 = await post(r, JSON.stringify(badValue));
    expect((await r3.json()).message).toBe('resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].asDouble: not a number');

    expect((await post(r, good())).status).toBe(200);
    await bus.drain();
    expect(records).toHaveLength(1);
    expect(r.stats().metrics.failed_requests).toBe(5);
  });

  it('413 over max_body_bytes, also after gzip inflation', async () => {
    const { bus } = captureBus('port_samples');
    const r = await startReceiver(bus, 10_000);
    const big = JSON.stringify({ resourceMetrics: [], pad: 'x'.repeat(50_000) });
    expect((await post(r, big)).status).toBe(413);
    const bomb = gzipSync(big);
    expect(bomb.length).toBeLessThan(10_000);
    expect((await post(r, bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status).toBe(413);
    expect((await post(r, good())).status).toBe(200);
  });

  it('415 for other content types or encodings; 404 and 405 elsewhere', async () => {
    const { bus } = captureBus('port_samples');
    const r = await startReceiver(bus);
    expect((await post(r, good(), { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post(r, good(), { 'content-type': 'application/json', 'content-encoding': 'br' })).status).toBe(415);
    expect((await fetch(`${r.url}/v1/metrics`)).status).toBe(405);
    expect((await post(r, good(), { 'content-type': 'application/json' }, '/v1/traces')).status).toBe(404);
  });

  it('503 with Retry-After when the bus is full; the retried payload then gets correct deltas', async () => {
    const bus = new MemoryBus({ capacity: 1, publishWaitMs: 0 });
    const records: PortSample[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    bus.subscribe('port_samples', 'slow', async (batch) => {
      await gate;
      records.push(...batch);
    });
    const r = await startReceiver(bus);
    const first = JSON.stringify(switchPayload('leaf-2', T0, { p0: zeroPort({ outOctets: 1_000 }) }));
    const second = JSON.stringify(switchPayload('leaf-2', T0 + 100, { p0: zeroPort({ outOctets: 3_000 }) }));
    expect((await post(r, first)).status).toBe(200);
    const refused = await post(r, second);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    release();
    await bus.drain();
    expect((await post(r, second)).status).toBe(200);
    await bus.drain();
    expect(records.map((s) => s.tx_bytes)).toEqual([0, 2_000]);
    expect(r.stats().metrics.dropped).toBe(1);
  });
});
