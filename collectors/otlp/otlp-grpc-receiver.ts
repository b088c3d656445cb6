/**
 * The OTLP/gRPC receiver: `opentelemetry.proto.collector.metrics.v1.MetricsService/Export`
 * (default port 4317), which is how NVIDIA Cumulus switches export. Messages may be gzip
 * compressed (`grpc-encoding: gzip`, handled by grpc-js). Answers per the OTLP spec:
 *
 * - OK with an ExportMetricsServiceResponse, `partial_success` when some points were refused;
 * - INVALID_ARGUMENT naming the bad field (the sender must not retry);
 * - RESOURCE_EXHAUSTED with google.rpc.RetryInfo when the bus is full (the sender retries
 *   the same request later; counter state is only kept once its samples were published);
 * - UNAVAILABLE while shutting down.
 *
 * The request is taken as raw bytes and decoded in the handler, so a malformed message is an
 * INVALID_ARGUMENT that names the field instead of a transport-level INTERNAL.
 */
import * as grpc from '@grpc/grpc-js';
import type { Bus } from '../../core/bus.js';
import { BackpressureError, asFabricscopeError } from '../../core/errors.js';
import { createLogger, type Logger } from '../../core/log.js';
import type { CollectorTelemetry } from '../collector-telemetry.js';
import { OtlpMetricsIngest, type OtlpMetricsStats } from './otlp-metrics-ingest.js';
import { encodeMetricsResponse, encodeRetryStatus } from './otlp-protobuf.js';
import { readMetricsRequest } from './otlp-wire-reader.js';

export const METRICS_EXPORT_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

const identity = (b: Buffer): Buffer => b;

const METRICS_SERVICE: grpc.ServiceDefinition = {
  Export: {
    path: METRICS_EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    responseDeserialize: identity,
  },
};

export interface OtlpGrpcReceiverOptions {
  bus: Bus;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 4317 (the OTLP/gRPC port); 0 picks a free port. */
  port?: number;
  /** Largest accepted message, after decompression; default 16 MiB. */
  maxMessageBytes?: number;
  logger?: Logger;
  /** Shared with the HTTP receiver, so a switch's counters have one history whatever the transport. */
  ingest?: OtlpMetricsIngest;
  telemetry?: CollectorTelemetry;
}

export class OtlpGrpcReceiver {
  readonly ingest: OtlpMetricsIngest;
  private readonly ownsIngest: boolean;
  private readonly host: string;
  private readonly requestedPort: number;
  private readonly maxMessageBytes: number;
  private readonly log: Logger;
  private server?: grpc.Server;
  private boundPort?: number;
  private stopping = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(options: OtlpGrpcReceiverOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.requestedPort = options.port ?? 4317;
    this.maxMessageBytes = options.maxMessageBytes ?? 16 * 1024 * 1024;
    this.log = options.logger ?? createLogger('info', 'collectors.otlp_grpc');
    this.ownsIngest = options.ingest === undefined;
    this.ingest = options.ingest ?? new OtlpMetricsIngest(options.bus, this.log, { telemetry: options.telemetry });
  }

  /** Starts listening; resolves with the bound address (useful with port 0). */
  async start(): Promise<{ host: string; port: number }> {
    if (!this.server) {
      const server = new grpc.Server({
        'grpc.max_receive_message_length': this.maxMessageBytes,
        'grpc.max_send_message_length': 4 * 1024 * 1024,
      });
      server.addService(METRICS_SERVICE, { Export: (call: grpc.ServerUnaryCall<Buffer, Uint8Array>, cb: grpc.sendUnaryData<Uint8Array>) => this.export(call, cb) });
      const address = `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.requestedPort}`;
      this.boundPort = await new Promise<number>((resolve, reject) =>
        server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
      );
      this.server = server;
      this.stopping = false;
      this.log.info('OTLP/gRPC receiver listening', { url: this.url });
    }
    return { host: this.host, port: this.port };
  }

  /**
   * Stops taking calls, lets calls in progress finish publishing, then (when the ingest is its
   * own) publishes port samples held for their missing families.
   */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.stopping = true;
    await Promise.allSettled([...this.inFlight]);
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    this.server = undefined;
    if (this.ownsIngest) await this.ingest.flush();
  }

  get port(): number {
    return this.boundPort ?? this.requestedPort;
  }

  /** `http://127.0.0.1:4317`: the form OTLP gRPC exporters take as their endpoint. */
  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  stats(): OtlpMetricsStats {
    return { ...this.ingest.counters };
  }

  private export(call: grpc.ServerUnaryCall<Buffer, Uint8Array>, cb: grpc.sendUnaryData<Uint8Array>): void {
    this.ingest.counters.requests++;
    if (this.stopping) {
      this.ingest.failed('grpc', false);
      cb({ code: grpc.status.UNAVAILABLE, details: 'the collector is shutting down' });
      return;
    }
    const work = (async () => {
      try {
        const partial = await this.ingest.ingest(readMetricsRequest(call.request), 'grpc');
        cb(null, encodeMetricsResponse(partial));
      } catch (e) {
        cb(this.failure(e));
      }
    })();
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** Every failure becomes a gRPC status; nothing a sender does can take the process down. */
  private failure(e: unknown): Partial<grpc.StatusObject> {
    const err = asFabricscopeError(e);
    if (e instanceof BackpressureError) {
      this.ingest.failed('grpc', false);
      this.log.warn('OTLP/gRPC export refused: bus full', { error: err.message });
      const metadata = new grpc.Metadata();
      metadata.set('grpc-status-details-bin', Buffer.from(encodeRetryStatus(grpc.status.RESOURCE_EXHAUSTED, err.message, e.retryAfterS)));
      return { code: grpc.status.RESOURCE_EXHAUSTED, details: err.message, metadata };
    }
    const malformed = err.httpStatus >= 400 && err.httpStatus < 500;
    this.ingest.failed('grpc', malformed);
    if (malformed) {
      this.log.warn('OTLP/gRPC export refused', { error: err.message });
      return { code: grpc.status.INVALID_ARGUMENT, details: err.message };
    }
    this.log.error('OTLP/gRPC export failed', { error: err.message });
    return { code: grpc.status.INTERNAL, details: err.message };
  }
}
