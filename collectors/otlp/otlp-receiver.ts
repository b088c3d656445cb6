/**
 * The OTLP/HTTP receiver: `POST /v1/metrics` (OTLP JSON or protobuf, optionally gzip) from
 * switches, `POST /v1/nccl` (NCCL Inspector JSON lines, for ranks that post instead of
 * writing files) and `POST /v1/flight-recorder` (PyTorch Flight Recorder JSON dumps). Answers follow the OTLP/HTTP spec: 200 with an ExportMetricsServiceResponse
 * (partialSuccess when some points could not be used), 400 naming the bad field, 413, 415,
 * and 503 + Retry-After when the bus pushes back, so the exporter retries the same payload.
 * A payload's counter state is only kept once its samples are on the bus, which makes that
 * retry safe.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bus } from '../../core/bus.js';
import { BackpressureError, asFabricscopeError, type FabricscopeError, PayloadError } from '../../core/errors.js';
import { createLogger, type Logger } from '../../core/log.js';
import { emptyCounters, type CollectorCounters } from '../collector-stats.js';
import { mediaType, readBody, UnsupportedMediaTypeError } from '../http-body.js';
import { FlightRecorderCollector } from '../nccl/flight-recorder-collector.js';
import { parseInspectorLines } from '../nccl/inspector-record.js';
import type { CollectorTelemetry } from '../collector-telemetry.js';
import { OtlpMetricsIngest, type OtlpMetricsStats } from './otlp-metrics-ingest.js';
import { readJsonMetricsRequest } from './otlp-json-reader.js';
import { encodeMetricsResponse, encodeStatus } from './otlp-protobuf.js';
import { readMetricsRequest } from './otlp-wire-reader.js';
import type { PortSampleNormaliser } from './port-samples.js';

export interface OtlpReceiverOptions {
  bus: Bus;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 4318 (the OTLP/HTTP port); 0 picks a free port. */
  port?: number;
  /** Largest accepted body, before and after gzip; default 16 MiB. */
  maxBodyBytes?: number;
  logger?: Logger;
  /** Shared counter state, e.g. to keep deltas across a receiver restart. */
  normaliser?: PortSampleNormaliser;
  /** Shared with the gRPC receiver, so a switch's counters have one history whatever the transport. */
  ingest?: OtlpMetricsIngest;
  telemetry?: CollectorTelemetry;
  /** Takes `POST /v1/flight-recorder` (shared with a dump directory's, so duplicates are known across both). */
  flightRecorder?: FlightRecorderCollector;
}

export interface OtlpReceiverStats {
  /** `/v1/metrics`: received = data points, published = port samples. */
  metrics: OtlpMetricsStats;
  /** `/v1/nccl`: received = lines, published = collective events. */
  nccl: CollectorCounters & { requests: number; failed_requests: number; p2p_skipped: number };
}

/** google.rpc.Code values used in OTLP error bodies. */
const RPC_CODE: Record<number, number> = { 400: 3, 413: 3, 415: 3, 404: 5, 405: 12, 500: 13, 503: 14 };

const JSON_TYPES = new Set(['application/json']);
const PROTOBUF_TYPES = new Set(['application/x-protobuf', 'application/protobuf']);
const NCCL_TYPES = new Set(['application/json', 'application/x-ndjson', 'application/jsonl', 'application/jsonlines', 'text/plain', '']);

export class OtlpReceiver {
  private readonly bus: Bus;
  private readonly host: string;
  private readonly requestedPort: number;
  private readonly maxBodyBytes: number;
  private readonly log: Logger;
  readonly ingest: OtlpMetricsIngest;
  readonly flightRecorder: FlightRecorderCollector;
  /** Whether stop() publishes held port samples (not when the ingest is shared with others). */
  private readonly ownsIngest: boolean;
  private readonly telemetry?: CollectorTelemetry;
  private readonly server: Server;
  private readonly inFlight = new Set<Promise<void>>();
  private listening = false;
  private readonly ncclCounters: OtlpReceiverStats['nccl'] = { ...emptyCounters(), requests: 0, failed_requests: 0, p2p_skipped: 0 };

  constructor(options: OtlpReceiverOptions) {
    this.bus = options.bus;
    this.host = options.host ?? '127.0.0.1';
    this.requestedPort = options.port ?? 4318;
    this.maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
    this.log = options.logger ?? createLogger('info', 'collectors.otlp');
    this.telemetry = options.telemetry;
    this.ownsIngest = options.ingest === undefined;
    this.ingest = options.ingest ?? new OtlpMetricsIngest(this.bus, this.log, { normaliser: options.normaliser, telemetry: options.telemetry });
    this.flightRecorder = options.flightRecorder ?? new FlightRecorderCollector({ bus: this.bus, logger: this.log.child('flight_recorder'), telemetry: options.telemetry });
    this.server = createServer((req, res) => {
      const p = this.handle(req, res).catch((e) => this.fail(res, e));
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    });
    // A client that stalls mid-body must not hold a socket forever.
    this.server.requestTimeout = 60_000;
  }

  /** Starts listening; resolves with the bound address (useful with port 0). */
  async start(): Promise<{ host: string; port: number }> {
    if (!this.listening) {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(this.requestedPort, this.host, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
      this.listening = true;
      this.log.info('OTLP/HTTP receiver listening', { url: this.url });
    }
    return { host: this.host, port: this.port };
  }

  /**
   * Stops accepting connections and waits for requests in progress to finish publishing (and,
   * when the ingest is its own, publishes port samples held for their missing families).
   */
  async stop(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await Promise.allSettled([...this.inFlight]);
    this.server.closeAllConnections();
    await closed;
    if (this.ownsIngest) await this.ingest.flush();
  }

  get port(): number {
    const addr = this.server.address() as AddressInfo | null;
    return addr ? addr.port : this.requestedPort;
  }

  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  stats(): OtlpReceiverStats {
    return { metrics: { ...this.ingest.counters }, nccl: { ...this.ncclCounters } };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/v1/metrics') return this.handleMetrics(req, res);
    if (path === '/v1/nccl') return this.handleNccl(req, res);
    if (path === '/v1/flight-recorder') return this.handleFlightRecorder(req, res);
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 5, message: `no route for ${path}` }));
  }

  private async handleMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.ingest.counters.requests++;
    if (req.method !== 'POST') return this.methodNotAllowed(res);
    const type = mediaType(req);
    const isProtobuf = PROTOBUF_TYPES.has(type);
    if (!isProtobuf && !JSON_TYPES.has(type)) {
      throw new UnsupportedMediaTypeError(`Content-Type ${type || '(none)'} is not supported: use application/json or application/x-protobuf`);
    }
    const body = await readBody(req, this.maxBodyBytes);
    const flat = isProtobuf ? readMetricsRequest(body) : readJsonMetricsRequest(body);
    const partial = await this.ingest.ingest(flat, isProtobuf ? 'protobuf' : 'json');
    if (isProtobuf) {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(encodeMetricsResponse(partial));
    } else {
      const json = partial ? { partialSuccess: { rejectedDataPoints: String(partial.rejectedDataPoints), errorMessage: partial.errorMessage } } : {};
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    }
  }

  private async handleNccl(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const c = this.ncclCounters;
    c.requests++;
    if (req.method !== 'POST') return this.methodNotAllowed(res);
    const type = mediaType(req);
    if (!NCCL_TYPES.has(type)) {
      throw new UnsupportedMediaTypeError(`Content-Type ${type} is not supported: send NCCL Inspector JSON lines as application/x-ndjson`);
    }
    const body = await readBody(req, this.maxBodyBytes);
    const batch = parseInspectorLines(body.toString('utf8'), 'body');
    if (batch.lines > 0 && batch.errors.length === batch.lines) {
      // Nothing usable: refuse the whole body, naming the first problem.
      c.received += batch.lines;
      c.rejected += batch.lines;
      this.telemetry?.received('nccl', 'http', batch.lines);
      this.telemetry?.rejected('nccl', 'http', batch.lines);
      throw batch.errors[0]!;
    }
    try {
      await this.bus.publish('collective_events', batch.events);
    } catch (e) {
      c.dropped += batch.events.length;
      this.telemetry?.dropped('nccl', 'http', batch.events.length);
      throw e;
    }
    this.telemetry?.received('nccl', 'http', batch.lines);
    this.telemetry?.rejected('nccl', 'http', batch.errors.length);
    this.telemetry?.published('nccl', 'http', batch.events.length);
    c.received += batch.lines;
    c.rejected += batch.errors.length;
    c.p2p_skipped += batch.p2p;
    c.published += batch.events.length;
    if (batch.errors.length > 0) {
      this.log.warn('NCCL Inspector lines rejected', { rejected: batch.errors.length, first: batch.errors[0]!.message });
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        accepted: batch.events.length,
        skipped_p2p: batch.p2p,
        rejected: batch.errors.length,
        errors: batch.errors.slice(0, 5).map((e) => e.message),
      }),
    );
  }

  /** A PyTorch Flight Recorder JSON dump; `?rank=` (and `?host=`) when the dump does not say. */
  private async handleFlightRecorder(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return this.methodNotAllowed(res);
    const type = mediaType(req);
    if (!JSON_TYPES.has(type) && type !== '' && type !== 'text/plain') {
      throw new UnsupportedMediaTypeError(`Content-Type ${type} is not supported: send the Flight Recorder JSON dump as application/json`);
    }
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    const rankParam = query.get('rank');
    if (rankParam !== null && !/^\d+$/.test(rankParam)) throw new PayloadError(`"${rankParam}" is not a rank`, 'rank');
    const body = await readBody(req, this.maxBodyBytes);
    let dump: unknown;
    try {
      dump = JSON.parse(body.toString('utf8'));
    } catch (e) {
      throw new PayloadError(`not valid JSON: ${(e as Error).message}`, 'body');
    }
    const result = await this.flightRecorder.ingest(
      dump,
      { rank: rankParam === null ? undefined : Number(rankParam), host: query.get('host') ?? undefined, source: 'body' },
      'flight_recorder_http',
    );
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
  }

  private methodNotAllowed(res: ServerResponse): void {
    res.writeHead(405, { allow: 'POST', 'content-type': 'application/json' }).end(JSON.stringify({ code: 12, message: 'use POST' }));
  }

  /** Every failure becomes an HTTP answer; nothing a client sends can take the process down. */
  private fail(res: ServerResponse, e: unknown): void {
    const err: FabricscopeError = asFabricscopeError(e);
    const status = err.httpStatus;
    const url = res.req?.url ?? '';
    const route = url.startsWith('/v1/nccl') ? 'nccl' : url.startsWith('/v1/flight-recorder') ? 'flight_recorder' : 'metrics';
    const malformed = status >= 400 && status < 500;
    if (route === 'flight_recorder') {
      // Counted by the Flight Recorder collector.
    } else if (route === 'nccl') {
      this.ncclCounters.failed_requests++;
      // Bodies with no usable line were counted line by line already.
      if (malformed && !(e instanceof PayloadError)) this.telemetry?.rejected('nccl', 'http', 1);
    } else this.ingest.failed(PROTOBUF_TYPES.has(mediaType(res.req)) ? 'protobuf' : 'json', malformed);
    if (status >= 500 && !(e instanceof BackpressureError)) this.log.error('OTLP receiver request failed', { route, error: err.message });
    else this.log.warn('OTLP receiver request refused', { route, status, error: err.message });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers: Record<string, string> = {};
    if (e instanceof BackpressureError) headers['retry-after'] = String(e.retryAfterS);
    // The request body may be partly unread (413, 415): do not reuse the connection.
    if (!res.req.complete) headers.connection = 'close';
    const wantsProtobuf = route === 'metrics' && PROTOBUF_TYPES.has(mediaType(res.req));
    if (wantsProtobuf) {
      res.writeHead(status, { ...headers, 'content-type': 'application/x-protobuf' }).end(encodeStatus(RPC_CODE[status] ?? 2, err.message));
    } else if (route !== 'metrics') {
      res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(err.toJSON()));
    } else {
      res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify({ code: RPC_CODE[status] ?? 2, message: err.message }));
    }
  }
}
