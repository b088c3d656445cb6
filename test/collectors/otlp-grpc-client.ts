/**
 * A raw OTLP/gRPC metrics client for tests: hand-made export requests serialised by the
 * OpenTelemetry SDK's own encoder, sent without any exporter retry logic so a test sees each
 * answer (status, RetryInfo) as the receiver gave it.
 */
import * as grpc from '@grpc/grpc-js';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { METRICS_EXPORT_PATH } from '../../collectors/otlp/otlp-grpc-receiver.js';

export const T = 1_767_225_600; // seconds

/** A hand-made ResourceMetrics with one gauge point, serialised by the SDK's own encoder. */
export function onePoint(opts: { host?: string; attrs: Record<string, string>; timeNs: [number, number]; metric?: string; value?: number }): Uint8Array {
  const rm: ResourceMetrics = {
    resource: resourceFromAttributes(opts.host ? { 'host.name': opts.host } : {}),
    scopeMetrics: [
      {
        scope: { name: 'test' },
        metrics: [
          {
            descriptor: { name: opts.metric ?? 'nvswitch_interface_shared_buffer_port_tc_curr_occupancy', description: '', unit: '', valueType: 1 },
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.GAUGE,
            dataPoints: [{ attributes: opts.attrs, startTime: [T - 100, 0], endTime: opts.timeNs, value: opts.value ?? 42 }],
          },
        ],
      },
    ],
  };
  return ProtobufMetricsSerializer.serializeRequest(rm)!;
}

export function rawExport(port: number, body: Uint8Array, gzip = false): Promise<{ error?: grpc.ServiceError; response?: Buffer }> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), gzip ? { 'grpc.default_compression_algorithm': 2 } : {});
  return new Promise((resolve) => {
    client.makeUnaryRequest(METRICS_EXPORT_PATH, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(body), (error, response) => {
      client.close();
      resolve({ error: error ?? undefined, response });
    });
  });
}

