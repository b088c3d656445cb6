/**
 * The express application: middleware order and route mounting, nothing else. Handlers
 * live in routes/, validation in validation.ts, the error body in error-handler.ts.
 */
import express, { type Express } from 'express';
import type { Logger } from '../core/log.js';
import { NotFoundError } from '../core/errors.js';
import { isQueryStore, type QueryStore, type Store } from '../core/store.js';
import { bearerAuth, type TokenSet } from './auth.js';
import { bodyLimit } from './body-limit.js';
import { cors } from './cors.js';
import { errorHandler, notFound } from './error-handler.js';
import type { LiveState } from './live.js';
import { API_V1 } from './paths.js';
import { buildOpenApiDocument } from './openapi.js';
import { alertsRouter } from './routes/alerts.js';
import { gpusRouter } from './routes/gpus.js';
import { healthRouter } from './routes/health.js';
import { metricsRouter } from './routes/metrics.js';
import { rootCausesRouter } from './routes/root-causes.js';
import { seriesRouter } from './routes/series.js';
import { streamRouter } from './routes/stream.js';
import { topologyRouter } from './routes/topology.js';
import { uiRouter } from './routes/ui.js';
import type { Topology } from '../core/topology.js';
import type { StreamHub } from './stream-hub.js';
import { stallsRouter } from './routes/stalls.js';
import { rateLimit, type TokenBuckets } from './rate-limit.js';
import { securityHeaders } from './security-headers.js';
import type { ApiTelemetry } from './telemetry.js';

export interface AppDeps {
  store: Store;
  logger: Logger;
  telemetry: ApiTelemetry;
  live?: LiveState;
  version: string;
  tokens: TokenSet;
  /** Undefined: no rate limit. */
  buckets?: TokenBuckets;
  maxBodyBytes: number;
  corsOrigins: readonly string[];
  /** Undefined when the server has no live event source (serving stored data only). */
  streams?: StreamHub;
  topology?: Topology;
}

export function buildApp(deps: AppDeps): Express {
  const { store, logger, telemetry, live, version } = deps;
  const app = express();
  app.disable('x-powered-by');
  // Query values stay plain strings (or arrays when repeated): no nested-object parsing.
  app.set('query parser', 'simple');
  app.set('etag', false);

  app.use(securityHeaders());
  app.use(telemetry.countRequests());
  // Before auth: a browser's preflight carries no Authorization header.
  app.use(cors(deps.corsOrigins));

  // Probes stay open and unthrottled: an orchestrator must always be able to ask.
  app.use(healthRouter(store, live));

  // Throttle before auth, so guessing tokens is throttled too.
  if (deps.buckets) app.use(rateLimit(deps.buckets, () => telemetry.rateLimited.inc({})));
  app.use(bodyLimit(deps.maxBodyBytes));
  // The UI's own files carry no data: open like the probes; the data it reads needs the token.
  app.use(uiRouter({ live: deps.streams !== undefined, auth: deps.tokens.size > 0, version }));
  // The stream also takes `?access_token=`: the UI's EventSource cannot send a header (auth.ts).
  app.use(bearerAuth(deps.tokens, [`${API_V1}/stream`]));
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
  // Stores that only serve the pipeline (in-memory test stores) have no analytical queries.
  const queries = (): QueryStore => {
    if (isQueryStore(store)) return store;
    throw new NotFoundError('this store does not answer root-cause or time-series queries');
  };
  app.use(rootCausesRouter(queries));
  app.use(seriesRouter(queries));
  app.use(topologyRouter(queries, deps.topology));
  app.use(streamRouter(deps.streams));

  app.use(notFound());
  app.use(errorHandler(logger, telemetry));
  return app;
}
