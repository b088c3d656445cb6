/**
 * The API server factory: builds the app over a store and listens. Callers own the store's
 * lifetime; `close()` here only stops the HTTP listener.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Logger } from '../core/log.js';
import type { Store } from '../core/store.js';
import type { Topology } from '../core/topology.js';
import { buildApp } from './app.js';
import { TokenSet, assertAuthFitsHost } from './auth.js';
import { DEFAULT_MAX_BODY_BYTES } from './body-limit.js';
import { DEFAULT_RATE_LIMIT, TokenBuckets, type RateLimitOptions } from './rate-limit.js';
import type { ApiEventSource } from './events.js';
import { StreamHub, type StreamOptions } from './stream-hub.js';
import { instrumentStore } from './instrumented-store.js';
import type { LiveState } from './live.js';
import { ApiTelemetry } from './telemetry.js';

export interface ApiServerOptions {
  store: Store;
  logger: Logger;
  live?: LiveState;
  /** Shown in the OpenAPI document. */
  version?: string;
  /**
   * The host the server will listen on (default 127.0.0.1). Without `apiTokens` the API is
   * open, which is only allowed on a loopback host: createApiServer and listen() throw a
   * ConfigError otherwise.
   */
  host?: string;
  /** Bearer tokens accepted (config `api_tokens`); every route but /healthz and /readyz needs one. */
  apiTokens?: readonly string[];
  /** Per-client-IP token bucket (default DEFAULT_RATE_LIMIT); `false` turns it off (benchmarks). */
  rateLimit?: RateLimitOptions | false;
  /** Largest request body accepted (default 64 KiB); larger is a 413. */
  maxBodyBytes?: number;
  /** Origins allowed by CORS (exact `scheme://host[:port]`, or `*`); default none: CORS closed. */
  corsOrigins?: readonly string[];
  /** New stalls and alert changes for GET /api/v1/stream; without it the stream is a 404. */
  events?: ApiEventSource;
  /** Heartbeat interval, client cap and slow-client buffer of the stream. */
  stream?: StreamOptions;
  /** The cluster's topology, so /api/v1/topology lists every port with its role and peer. */
  topology?: Topology;
}

export interface ListeningServer {
  /** e.g. `http://127.0.0.1:8080` (the actual port when 0 was asked for). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ApiServer {
  app: Express;
  telemetry: ApiTelemetry;
  /** Live-stream clients; undefined without `events`. */
  streams?: StreamHub;
  listen(host: string, port: number): Promise<ListeningServer>;
}

export function createApiServer(options: ApiServerOptions): ApiServer {
  const logger = options.logger.child('api');
  const apiTokens = options.apiTokens ?? [];
  assertAuthFitsHost(options.host ?? '127.0.0.1', apiTokens);
  const telemetry = new ApiTelemetry();
  const store = instrumentStore(options.store, telemetry);
  const streams = options.events ? new StreamHub(options.events, telemetry, logger.child('stream'), options.stream) : undefined;
  const app = buildApp({
    store,
    logger,
    telemetry,
    live: options.live,
    version: options.version ?? '0.1.0',
    tokens: new TokenSet(apiTokens),
    buckets: options.rateLimit === false ? undefined : new TokenBuckets(options.rateLimit ?? DEFAULT_RATE_LIMIT),
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    corsOrigins: options.corsOrigins ?? [],
    streams,
    topology: options.topology,
  });

  const listen = (host: string, port: number): Promise<ListeningServer> =>
    new Promise((resolve, reject) => {
      // The host given here is the one that counts, whatever `options.host` said.
      assertAuthFitsHost(host, apiTokens);
      const server: Server = app.listen(port, host);
      // A client that sends headers or a body slowly must not hold a connection for minutes
      // (Node's defaults are 60 s and 300 s). Responses, SSE included, are not affected.
      server.headersTimeout = 10_000;
      server.requestTimeout = 30_000;
      server.once('error', reject);
      server.once('listening', () => {
        server.off('error', reject);
        // Later listener errors are logged, never fatal. Malformed HTTP (bad request line,
        // oversized headers) is answered by Node itself with 400/431 and the socket closed.
        server.on('error', (e) => logger.error('http server error', { error: e.message }));
        const { port: actual } = server.address() as AddressInfo;
        const shownHost = host.includes(':') ? `[${host}]` : host;
        const url = `http://${shownHost}:${actual}`;
        logger.info('api listening', { url });
        resolve({
          url,
          port: actual,
          close: () =>
            new Promise<void>((done, fail) => {
              server.close((e) => (e ? fail(e) : done()));
              // Open event streams are never idle: end them, or close() would wait forever.
              streams?.closeAll();
              server.closeIdleConnections();
            }),
        });
      });
    });

  return { app, telemetry, streams, listen };
}
