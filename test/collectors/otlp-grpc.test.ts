/**
 * The OTLP/gRPC receiver against the real OpenTelemetry gRPC exporter (gzip on), and against
 * a raw gRPC client for what an exporter never sends: garbage, bad fields, points it cannot
 * attribute, and retries after backpressure.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { CollectorService } from '../../collectors/collector-service.js';
import { OtlpGrpcReceiver } from '../../collectors/otlp/otlp-grpc-receiver.js';
import { loadConfig } from '../../core/config.js';
import { captureBus } from './bus-capture.js';
import { onePoint, rawExport, T } from './otlp-grpc-client.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };

class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

function sdkSwitch(host: string) {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'host.name': host }), readers: [reader] });
  const meter = provider.getMeter('switch');
  const state = { queue: 0, ecn: 0, octets: 0 };
  const attrs = { interface: 'swp1', tc: '3' };
  meter.createObservableGauge('nvswitch_interface_shared_buffer_port_tc_curr_occupancy').addCallback((o) => o.observe(state.queue, attrs));
  meter.createObservableCounter('nvswitch_interface_tc_tx_ecn_marked_tc').addCallback((o) => o.observe(state.ecn, attrs));
  meter.createObservableGauge('nvswitch_interface_if_out_octets').addCallback((o) => o.observe(state.octets, { interface: 'swp1' }));
  return { reader, provider, state };
}

let receiver: OtlpGrpcReceiver | undefined;
afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
});

describe('OTLP/gRPC receiver', () => {
  it('takes gzip exports from the real OpenTelemetry gRPC exporter', async () => {
    const { bus, records } = captureBus('port_samples');
    receiver = new OtlpGrpcReceiver({ bus, port: 0, logger: silent });
    const { port } = await receiver.start();
    expect(port).toBeGreaterThan(0);
    const sw = sdkSwitch('leaf-1');
    const exporter = new OTLPMetricExporter({ url: receiver.url, compression: 'gzip' as never });
    for (const [queue, ecn, octets] of [[100, 7, 1_000], [300, 19, 4_000]] as const) {
      Object.assign(sw.state, { queue, ecn, octets });
      const { resourceMetrics } = await sw.reader.collect();
      const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(resourceMetrics, resolve));
      expect(result.error).toBeUndefined();
      expect(result.code).toBe(0);
      await new Promise((r) => setTimeout(r, 3)); // distinct timestamps only
    }
    await bus.drain();
    expect(records.map((s) => [s.port, s.queue_bytes])).toEqual([['leaf-1/swp1', 100], ['leaf-1/swp1', 300]]);
    expect(records[1]).toMatchObject({ ecn_marked_pkts: 12, tx_bytes: 3_000 });
    expect(receiver.stats()).toMatchObject({ requests: 2, published: 2, failed_requests: 0 });
    await exporter.shutdown();
    await sw.provider.shutdown();
  });

  it('answers INVALID_ARGUMENT naming the field, and takes good data afterwards', async () => {
    const { bus, records } = captureBus('port_samples');
    receiver = new OtlpGrpcReceiver({ bus, port: 0, logger: silent });
    const { port } = await receiver.start();

    const garbage = await rawExport(port, new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    expect(garbage.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(garbage.error?.details).toMatch(/protobuf/);

    const noTime = await rawExport(port, onePoint({ host: 'leaf-0', attrs: { interface: 'swp1' }, timeNs: [0, 0] }), true);
    expect(noTime.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(noTime.error?.details).toContain('resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].timeUnixNano');

    const good = await rawExport(port, onePoint({ host: 'leaf-0', attrs: { interface: 'swp1' }, timeNs: [T, 0] }), true);
    expect(good.error).toBeUndefined();
    expect(ProtobufMetricsSerializer.deserializeResponse(new Uint8Array(good.response!))).toEqual({});
    await bus.drain();
    expect(records).toHaveLength(1);
    expect(receiver.stats()).toMatchObject({ requests: 3, failed_requests: 2, published: 1 });
  });

  it('reports points it cannot attribute as partial success', async () => {
    const { bus } = captureBus('port_samples');
    receiver = new OtlpGrpcReceiver({ bus, port: 0, logger: silent });
    const { port } = await receiver.start();
    const res = await rawExport(port, onePoint({ host: 'leaf-0', attrs: { tc: '3' }, timeNs: [T, 0] }));
    expect(res.error).toBeUndefined();
    const decoded = ProtobufMetricsSerializer.deserializeResponse(new Uint8Array(res.response!)) as {
      partialSuccess?: { rejectedDataPoints?: unknown; errorMessage?: string };
    };
    expect(Number(decoded.partialSuccess?.rejectedDataPoints)).toBe(1);
    expect(decoded.partialSuccess?.errorMessage).toContain('attribute interface is missing');
  });

  it('answers RESOURCE_EXHAUSTED with RetryInfo when the bus is full, and the retry counts in full', async () => {
    const { MemoryBus } = await import('../../pipeline/memory-bus.js');
    const bus = new MemoryBus({ capacity: 1, publishWaitMs: 20 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const got: number[] = [];
    bus.subscribe('port_samples', 'slow', async (batch) => {
      await gate;
      got.push(...batch.map((s) => s.tx_bytes));
    });
    receiver = new OtlpGrpcReceiver({ bus, port: 0, logger: silent });
    const { port } = await receiver.start();
    const octets = (t: number, v: number) => onePoint({ host: 'leaf-0', attrs: { interface: 'swp1' }, timeNs: [t, 0], metric: 'nvswitch_interface_if_out_octets', value: v });

    expect((await rawExport(port, octets(T, 1_000))).error).toBeUndefined();
    const full = await rawExport(port, octets(T + 1, 5_000));
    expect(full.error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(full.error?.metadata.get('grpc-status-details-bin')).toHaveLength(1);
    release();
    await bus.drain();
    expect((await rawExport(port, octets(T + 1, 5_000))).error).toBeUndefined();
    await bus.drain();
    expect(got).toEqual([0, 4_000]);
    expect(receiver.stats()).toMatchObject({ dropped: 1, published: 2 });
  });
});

describe('CollectorService with OTLP/gRPC', () => {
  it('starts the gRPC receiver from otlp_grpc_port and logs its url', async () => {
    const { bus, records } = captureBus('port_samples');
    const lines: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
    const logger = {
      debug() {},
      info: (msg: string, fields?: Record<string, unknown>) => lines.push({ msg, fields }),
      warn() {},
      error() {},
      child: () => logger,
    };
    const config = loadConfig({ flags: { otlp_http_port: '0', otlp_grpc_port: '0', speed: 'max' } });
    const service = CollectorService.fromConfig(bus, config, { logger });
    const { otlpGrpc } = await service.start();
    expect(otlpGrpc!.port).toBeGreaterThan(0);
    expect(service.otlpGrpcUrl).toBe(`http://127.0.0.1:${otlpGrpc!.port}`);
    expect(lines.find((l) => l.msg === 'OTLP/gRPC receiver listening')?.fields).toEqual({ url: service.otlpGrpcUrl });

    const exporter = new OTLPMetricExporter({ url: service.otlpGrpcUrl });
    const sw = sdkSwitch('spine-0');
    sw.state.queue = 777;
    const { resourceMetrics } = await sw.reader.collect();
    const result = await new Promise<{ code: number }>((resolve) => exporter.export(resourceMetrics, resolve));
    expect(result.code).toBe(0);
    await service.stop();
    await bus.drain();
    expect(records.map((r) => r.queue_bytes)).toEqual([777]);
    expect(service.stats().otlp).toMatchObject({ requests: 1, published: 1 });
    await exporter.shutdown();
    await sw.provider.shutdown();
  });

  it('in lockstep replays, goes on over HTTP when the gRPC port is taken; otherwise fails to start', async () => {
    const { bus } = captureBus('port_samples');
    const holder = new OtlpGrpcReceiver({ bus, port: 0, logger: silent });
    const { port } = await holder.start();
    try {
      const lockstep = CollectorService.fromConfig(bus, loadConfig({ flags: { otlp_http_port: '0', otlp_grpc_port: String(port), speed: 'max' } }), { logger: silent });
      await lockstep.start();
      expect(lockstep.otlpUrl).toBeDefined();
      expect(lockstep.otlpGrpcUrl).toBeUndefined();
      await lockstep.stop();
      const realTime = CollectorService.fromConfig(bus, loadConfig({ flags: { otlp_http_port: '0', otlp_grpc_port: String(port) } }), { logger: silent, lockstep: false });
      await expect(realTime.start()).rejects.toThrow(/address|in use|bind/i);
    } finally {
      await holder.stop();
    }
  });
});
