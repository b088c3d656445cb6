/**
 * The OTLP/HTTP receiver: `POST /v1/metrics` (OTLP JSON or protobuf, optionally gzip) from
 * switches, and `POST /v1/nccl` (NCCL Inspector JSON lines, for ranks that post instead of
 * writing files). Answers follow the OTLP/HTTP spec: 200 with an ExportMetricsServiceResponse
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
import { parseInspectorLines } from '../nccl/inspector-record.js';
import { flattenOtlpMetrics } from './otlp-points.js';
import { decodeMetricsRequest, encodeMetricsResponse, encodeStatus } from './otlp-protobuf.js';
import { PortSampleNormaliser } from './port-samples.js';

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
}

export interface OtlpReceiverStats {
  /** `/v1/metrics`: received = data points, published = port samples. */
  metrics: CollectorCounters & { requests: number; failed_requests: number; skipped_points: number; stale_samples: number };
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
  private readonly normaliser: PortSampleNormaliser;
  private readonly server: Server;
  private readonly inFlight = new Set<Promise<void>>();
  private listening = false;
  private readonly counters: OtlpReceiverStats = {
    metrics: { ...emptyCounters(), requests: 0, failed_requests: 0, skipped_points: 0, stale_samples: 0 },
    nccl: { ...emptyCounters(), requests: 0, failed_requests: 0, p2p_skipped: 0 },
  };

  constructor(options: OtlpReceiverOptions) {
    this.bus = options.bus;
    this.host = options.host ?? '127.0.0.1';
    this.requestedPort = options.port ?? 4318;
    this.maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
    this.log = options.logger ?? createLogger('info', 'collectors.otlp');
    this.normaliser = options.normaliser ?? new PortSampleNormaliser();
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

  /** Stops accepting connections and waits for requests in progress to finish publishing. */
  async stop(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await Promise.allSettled([...this.inFlight]);
    this.server.closeAllConnections();
    await closed;
  }

  get port(): number {
    const addr = this.server.address() as AddressInfo | null;
    return addr ? addr.port : this.requestedPort;
  }

  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  stats(): OtlpReceiverStats {
    return { metrics: { ...this.counters.metrics }, nccl: { ...this.counters.nccl } };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/v1/metrics') return this.handleMetrics(req, res);
    if (path === '/v1/nccl') return this.handleNccl(req, res);
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 5, message: `no route for ${path}` }));
  }

  private async handleMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const c = this.counters.metrics;
    c.requests++;
    if (req.method !== 'POST') return this.methodNotAllowed(res);
    const type = mediaType(req);
    const isProtobuf = PROTOBUF_TYPES.has(type);
    if (!isProtobuf && !JSON_TYPES.has(type)) {
      throw new UnsupportedMediaTypeError(`Content-Type ${type || '(none)'} is not supported: use application/json or application/x-protobuf`);
    }
    const body = await readBody(req, this.maxBodyBytes);
    let request: unknown;
    if (isProtobuf) request = decodeMetricsRequest(body);
    else {
      try {
        request = JSON.parse(body.toString('utf8'));
      } catch (e) {
        throw new PayloadError(`not valid JSON: ${(e as Error).message}`, 'body');
      }
    }
    const flat = flattenOtlpMetrics(request);
    const result = this.normaliser.normalise(flat.points);
    c.received += flat.points.length + flat.skipped;
    c.skipped_points += flat.skipped;
    c.stale_samples += result.stale;
    try {
      await this.bus.publish('port_samples', result.samples);
    } catch (e) {
      c.dropped += result.samples.length;
      throw e;
    }
    result.commit();
    c.published += result.samples.length;
    c.rejected += result.rejected;
    if (result.rejected > 0) {
      this.log.warn('OTLP data points rejected', { rejected: result.rejected, reasons: result.reasons });
    }
    const partial =
      result.rejected > 0 ? { rejectedDataPoints: result.rejected, errorMessage: result.reasons.join('; ') } : undefined;
    if (isProtobuf) {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(encodeMetricsResponse(partial));
    } else {
      const json = partial ? { partialSuccess: { rejectedDataPoints: String(partial.rejectedDataPoints), errorMessage: partial.errorMessage } } : {};
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    }
  }

  private async handleNccl(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const c = this.counters.nccl;
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
      throw batch.errors[0]!;
    }
    try {
      await this.bus.publish('collective_events', batch.events);
    } catch (e) {
      c.dropped += batch.events.length;
      throw e;
    }
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

  private methodNotAllowed(res: ServerResponse): void {
    res.writeHead(405, { allow: 'POST', 'content-type': 'application/json' }).end(JSON.stringify({ code: 12, message: 'use POST' }));
  }

  /** Every failure becomes an HTTP answer; nothing a client sends can take the process down. */
  private fail(res: ServerResponse, e: unknown): void {
    const err: FabricscopeError = asFabricscopeError(e);
    const status = err.httpStatus;
    const route = res.req?.url?.startsWith('/v1/nccl') ? 'nccl' : 'metrics';
    this.counters[route].failed_requests++;
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
    } else if (route === 'nccl') {
      res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(err.toJSON()));
    } else {
      res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify({ code: RPC_CODE[status] ?? 2, message: err.message }));
    }
  }
}
