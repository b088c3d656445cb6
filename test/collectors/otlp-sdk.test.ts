/**
 * The receiver against the OpenTelemetry JS SDK's own encoders: protobuf bytes from the
 * official serializer, and the real OTLPMetricExporter (JSON over HTTP) that our emulator
 * and many agents use.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { OtlpReceiver } from '../../collectors/otlp/otlp-receiver.js';
import { captureBus } from './bus-capture.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };

class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** A fake switch made of real SDK instruments: one port's queue gauge and ECN counter. */
function sdkSwitch(host: string) {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'host.name': host }), readers: [reader] });
  const meter = provider.getMeter('switch');
  const state = { queue: 0, ecn: 0, octets: 0 };
  const attrs = { interface: 'p5', tc: '3' };
  meter.createObservableGauge('nvswitch_interface_shared_buffer_port_tc_curr_occupancy').addCallback((o) => o.observe(state.queue, attrs));
  meter.createObservableCounter('nvswitch_interface_tc_tx_ecn_marked_tc').addCallback((o) => o.observe(state.ecn, attrs));
  meter.createObservableGauge('nvswitch_interface_if_out_octets').addCallback((o) => o.observe(state.octets, { interface: 'p5' }));
  return { reader, provider, state };
}

const nextMs = async () => new Promise((r) => setTimeout(r, 3)); // distinct timestamps only

let receiver: OtlpReceiver | undefined;
afterEach(async () => receiver?.stop());

describe('OTLP receiver with the OpenTelemetry SDK', () => {
  it('decodes protobuf ExportMetricsServiceRequests from the official serializer', async () => {
    const { bus, records } = captureBus('port_samples');
    receiver = new OtlpReceiver({ bus, port: 0, logger: silent });
    await receiver.start();
    const sw = sdkSwitch('leaf-3');
    for (const [queue, ecn, octets] of [[100, 7, 1_000], [300, 19, 4_000]] as const) {
      Object.assign(sw.state, { queue, ecn, octets });
      const { resourceMetrics } = await sw.reader.collect();
      const body = ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!;
      const res = await fetch(`${receiver.url}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array(body) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/x-protobuf');
      expect(ProtobufMetricsSerializer.deserializeResponse(new Uint8Array(await res.arrayBuffer()))).toEqual({});
      await nextMs();
    }
    await bus.drain();
    expect(records).toHaveLength(2);
    expect(records.map((s) => s.port)).toEqual(['leaf-3/p5', 'leaf-3/p5']);
    expect(records.map((s) => s.queue_bytes)).toEqual([100, 300]);
    expect(records[1]!.ecn_marked_pkts).toBe(12);
    expect(records[1]!.tx_bytes).toBe(3_000);
    expect(records[1]!.interval_ms).toBeGreaterThan(0);
    await sw.provider.shutdown();
  });

  it('answers 400 to a body that is not protobuf', async () => {
    const { bus } = captureBus('port_samples');
    receiver = new OtlpReceiver({ bus, port: 0, logger: silent });
    await receiver.start();
    const res = await fetch(`${receiver.url}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]),
    });
    expect(res.status).toBe(400);
  });

  it('takes exports from the real OTLPMetricExporter (JSON)', async () => {
    const { bus, records } = captureBus('port_samples');
    receiver = new OtlpReceiver({ bus, port: 0, logger: silent });
    await receiver.start();
    const sw = sdkSwitch('spine-1');
    sw.state.queue = 2048;
    const exporter = new OTLPMetricExporter({ url: `${receiver.url}/v1/metrics` });
    const { resourceMetrics } = await sw.reader.collect();
    const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(resourceMetrics, resolve));
    expect(result.error).toBeUndefined();
    expect(result.code).toBe(0);
    await bus.drain();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ port: 'spine-1/p5', device: 'spine-1', queue_bytes: 2048, interval_ms: 0 });
    await exporter.shutdown();
    await sw.provider.shutdown();
  });
});
