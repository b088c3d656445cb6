/**
 * The express application: middleware order and route mounting, nothing else. Handlers
 * live in routes/, validation in validation.ts, the error body in error-handler.ts.
 */
import express, { type Express } from 'express';
import type { Logger } from '../core/log.js';
import type { Store } from '../core/store.js';
import { errorHandler, notFound } from './error-handler.js';
import type { LiveState } from './live.js';
import { API_V1 } from './paths.js';
import { buildOpenApiDocument } from './openapi.js';
import { alertsRouter } from './routes/alerts.js';
import { gpusRouter } from './routes/gpus.js';
import { healthRouter } from './routes/health.js';
import { metricsRouter } from './routes/metrics.js';
import { stallsRouter } from './routes/stalls.js';
import { securityHeaders } from './security-headers.js';
import type { ApiTelemetry } from './telemetry.js';

export interface AppDeps {
  store: Store;
  logger: Logger;
  telemetry: ApiTelemetry;
  live?: LiveState;
  version: string;
}

export function buildApp({ store, logger, telemetry, live, version }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Query values stay plain strings (or arrays when repeated): no nested-object parsing.
  app.set('query parser', 'simple');
  app.set('etag', false);

  app.use(securityHeaders());
  app.use(telemetry.countRequests());

  app.use(healthRouter(store, live));
  app.use(metricsRouter(telemetry, logger, live));
  const openapi = buildOpenApiDocument(version);
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });

  // Data changes continuously: never let an intermediary cache it.
  app.use(API_V1, (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use(stallsRouter(store));
  app.use(alertsRouter(store));
  app.use(gpusRouter(store));

  app.use(notFound());
  app.use(errorHandler(logger, telemetry));
  return app;
}
