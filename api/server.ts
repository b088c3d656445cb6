/**
 * The API server factory: builds the app over a store and listens. Callers own the store's
 * lifetime; `close()` here only stops the HTTP listener.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Logger } from '../core/log.js';
import type { Store } from '../core/store.js';
import { buildApp } from './app.js';
import { instrumentStore } from './instrumented-store.js';
import type { LiveState } from './live.js';
import { ApiTelemetry } from './telemetry.js';

export interface ApiServerOptions {
  store: Store;
  logger: Logger;
  live?: LiveState;
  /** Shown in the OpenAPI document. */
  version?: string;
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
  listen(host: string, port: number): Promise<ListeningServer>;
}

export function createApiServer(options: ApiServerOptions): ApiServer {
  const logger = options.logger.child('api');
  const telemetry = new ApiTelemetry();
  const store = instrumentStore(options.store, telemetry);
  const app = buildApp({ store, logger, telemetry, live: options.live, version: options.version ?? '0.1.0' });

  const listen = (host: string, port: number): Promise<ListeningServer> =>
    new Promise((resolve, reject) => {
      const server: Server = app.listen(port, host);
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
              server.closeIdleConnections();
            }),
        });
      });
    });

  return { app, telemetry, listen };
}
