/**
 * The OpenAPI 3.1 document served at /openapi.json. Parameters are generated from the zod
 * schemas that validate requests (validation.ts); response bodies from the zod schemas
 * below, which mirror views.ts and DESIGN.md's contracts.
 */
import { z } from 'zod';
import {
  ROOT_CAUSE_KINDS,
  alertQuerySchema,
  gpuPathSchema,
  gpuSeriesQuerySchema,
  jobsQuerySchema,
  topologyQuerySchema,
  jobPathSchema,
  portPathSchema,
  rootCauseQuerySchema,
  seriesQuerySchema,
  stallPathSchema,
  stallQuerySchema,
  streamQuerySchema,
} from './validation.js';

const iso = z.string().meta({ format: 'date-time' });

const evidence = z.object({
  signal: z.string(),
  location: z.string(),
  value: z.number(),
  reference: z.number().optional(),
  unit: z.string().optional(),
  note: z.string().optional(),
});

const stallSummary = z.object({
  id: z.string(),
  job: z.string(),
  collective: z.string(),
  seq: z.int(),
  start: iso,
  end: iso,
  duration_us: z.int(),
  expected_us: z.int(),
  slowest_rank: z.int(),
  root_cause: z.object({
    kind: z.enum(ROOT_CAUSE_KINDS),
    location: z.string(),
    confidence: z.number().min(0).max(1),
    evidence: z.array(evidence),
  }),
});

const stallDetail = stallSummary.extend({
  ranks: z.array(
    z.object({ rank: z.int(), host: z.string(), gpu: z.string(), start: iso, end: iso, start_us: z.int(), end_us: z.int(), exec_time_us: z.int() }),
  ),
});

const alert = z.object({
  id: z.string(),
  rule: z.string(),
  state: z.enum(['pending', 'firing', 'resolved']),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  startsAt: iso,
  endsAt: iso.nullable(),
  value: z.number(),
});

const gpu = z.object({
  id: z.string(),
  node: z.string(),
  uuid: z.string(),
  model: z.string(),
  last_seen: iso,
  metrics: z.record(z.string(), z.number()),
});

const culprit = z.object({
  kind: z.enum(ROOT_CAUSE_KINDS),
  location: z.string(),
  stalls: z.int(),
  gpu_seconds_lost: z.number().meta({ description: 'Σ (duration_us − expected_us) × ranks / 1e6 over its stalls' }),
  jobs: z.array(z.string()).meta({ description: 'jobs that stalled on it (at most 16)' }),
  first: iso,
  last: iso,
});

const rootCauses = z.object({
  from: iso.nullable(),
  to: iso.nullable(),
  by_stalls: z.array(culprit),
  by_gpu_seconds_lost: z.array(culprit),
});

const seriesWindow = { from: iso, to: iso, step_ms: z.int() };
const bucket = { t: iso.meta({ description: 'bucket start' }), t_ms: z.int().meta({ description: 'bucket start, epoch ms' }) };

const portSeries = z.object({
  port: z.string(),
  ...seriesWindow,
  resolution: z.enum(['raw', '1s', '10s', '1m', '5m']).meta({
    description: 'the table that answered: raw samples or a rollup (1 s, 10 s, 1 min, or 5 min: the coarsest whose rows fit whole in every step)',
  }),
  points: z.array(
    z.object({
      ...bucket,
      samples: z.int(),
      queue_bytes_max: z.number(),
      queue_bytes_avg: z.number(),
      tx_gbps: z.number(),
      ecn_marked_pkts_per_s: z.number(),
      pfc_pause_fraction: z.number().min(0).max(1).meta({ description: 'paused µs / interval µs' }),
      pfc_tx_pause_frames: z.int(),
      credit_stall_fraction: z.number().min(0).max(1).meta({ description: 'credit-stalled µs / interval µs (scale-up ports)' }),
      link_errors: z.int(),
      down_samples: z.int(),
    }),
  ),
});

const gpuSeries = z.object({
  gpu: z.string(),
  ...seriesWindow,
  points: z.array(z.object({ ...bucket, samples: z.int(), metrics: z.record(z.string(), z.number()).meta({ description: 'mean of each DCGM field' }) })),
});

const jobSeries = z.object({
  job: z.string(),
  ...seriesWindow,
  points: z.array(
    z.object({
      ...bucket,
      calls: z.int(),
      duration_p50_us: z.int(),
      duration_p99_us: z.int(),
      duration_max_us: z.int(),
      busbw_avg_gbs: z.number(),
      busbw_min_gbs: z.number(),
    }),
  ),
});

const portState = z.object({
  last_seen: iso,
  oper_up: z.boolean(),
  queue_bytes: z.number(),
  tx_gbps: z.number(),
  ecn_marked_pkts_per_s: z.number(),
  pfc_pause_fraction: z.number(),
  credit_stall_fraction: z.number(),
  link_errors: z.int(),
});

const topologyBody = z.object({
  at: iso,
  topology: z
    .object({ nodes: z.int(), gpus_per_node: z.int(), leaves: z.int(), spines: z.int(), link_gbps: z.number() })
    .nullable()
    .meta({ description: 'null when the server was started without a topology' }),
  ports: z.array(
    z.object({
      name: z.string(),
      device: z.string(),
      role: z.enum(['leaf_downlink', 'leaf_uplink', 'spine_downlink', 'nvsw_gpu']).nullable(),
      peer: z.string().nullable().meta({ description: 'the far end: a NIC, a GPU or a switch port' }),
      capacity_gbps: z.number().nullable(),
      state: portState.nullable().meta({ description: 'latest sample in the window; null when the port was silent' }),
    }),
  ),
});

const jobsBody = z.object({
  from: iso,
  to: iso,
  jobs: z.array(
    z.object({
      job: z.string(),
      n_ranks: z.int(),
      placement: z.array(z.object({ rank: z.int(), host: z.string() })),
      collectives: z.array(z.string()),
      calls: z.int(),
      first: iso,
      last: iso,
      busbw_avg_gbs: z.number(),
    }),
  ),
});

const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), where: z.string().optional() }),
});

type JsonSchema = Record<string, unknown>;

const NAME_WITH_SLASH =
  'The name contains a `/`. Send it URL-encoded as one path segment (`leaf-3%2Fp5`) or as is (`leaf-3/p5`): the route takes the rest of the path.';

function jsonSchema(schema: z.ZodType): JsonSchema {
  // io: 'input' describes what clients send (the string before the transform to ms).
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as JsonSchema;
  return rest;
}

/** One OpenAPI parameter per property of a request schema. */
function parametersOf(schema: z.ZodType, location: 'query' | 'path'): JsonSchema[] {
  const obj = jsonSchema(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(obj.properties ?? {}).map(([name, s]) => {
    const { description, ...rest } = s;
    return {
      name,
      in: location,
      required: location === 'path' || (obj.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema: jsonSchema(schema) } },
});
const errorResponses = {
  '400': json(errorBody, 'a parameter is invalid; `where` names it, e.g. query.from'),
  '401': json(errorBody, 'missing or invalid bearer token (when the server requires one)'),
  '429': json(errorBody, 'rate limited; retry after the Retry-After header'),
  '500': json(errorBody, 'the server or the store failed'),
};

export function buildOpenApiDocument(version: string): JsonSchema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'fabricscope API',
      version,
      description:
        'Collective stalls with their root causes, alerts and GPU state of an AI-cluster fabric. Every route but /healthz and /readyz needs `Authorization: Bearer <token>` when the server has tokens configured.',
    },
    // Applies when the server has tokens configured; /healthz and /readyz are always open.
    security: [{ bearer: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        // EventSource cannot send headers: the stream alone also takes the token as a parameter.
        accessTokenParameter: { type: 'apiKey', in: 'query', name: 'access_token' },
      },
    },
    paths: {
      '/api/v1/stalls': {
        get: {
          operationId: 'listStalls',
          summary: 'Stalled collectives with their root cause, newest first',
          parameters: parametersOf(stallQuerySchema, 'query'),
          responses: {
            '200': json(
              z.object({
                stalls: z.array(stallSummary),
                next_cursor: z.string().nullable().meta({ description: 'pass as `cursor` for the next page; null on the last page' }),
              }),
              'matching stalls, one page',
            ),
            ...errorResponses,
          },
        },
      },
      '/api/v1/stalls/{id}': {
        get: {
          operationId: 'getStall',
          summary: 'One stall in full, with every rank',
          parameters: parametersOf(stallPathSchema, 'path'),
          responses: {
            '200': json(z.object({ stall: stallDetail }), 'the stall'),
            '404': json(errorBody, 'no stall with this id'),
            ...errorResponses,
          },
        },
      },
      '/api/v1/alerts': {
        get: {
          operationId: 'listAlerts',
          summary: 'Alerts, newest first',
          parameters: parametersOf(alertQuerySchema, 'query'),
          responses: { '200': json(z.object({ alerts: z.array(alert) }), 'matching alerts'), ...errorResponses },
        },
      },
      '/api/v1/gpus': {
        get: {
          operationId: 'listGpus',
          summary: 'Every GPU seen, with its latest DCGM values',
          responses: { '200': json(z.object({ gpus: z.array(gpu) }), 'GPUs'), ...errorResponses },
        },
      },
      '/api/v1/root-causes': {
        get: {
          operationId: 'topRootCauses',
          summary: 'Top culprits over a window, by stall count and by GPU-seconds lost',
          parameters: parametersOf(rootCauseQuerySchema, 'query'),
          responses: { '200': json(rootCauses, 'both rankings'), ...errorResponses },
        },
      },
      '/api/v1/series/port/{port}': {
        get: {
          operationId: 'portSeries',
          summary: 'Queue depth, ECN-mark rate, PFC pause and credit-stall fractions and tx rate of one port, per step',
          description: NAME_WITH_SLASH,
          parameters: [...parametersOf(portPathSchema, 'path'), ...parametersOf(seriesQuerySchema, 'query')],
          responses: { '200': json(portSeries, 'the series'), ...errorResponses },
        },
      },
      '/api/v1/series/gpu/{gpu}': {
        get: {
          operationId: 'gpuSeries',
          summary: 'DCGM fields of one GPU, averaged per step',
          description: NAME_WITH_SLASH,
          parameters: [...parametersOf(gpuPathSchema, 'path'), ...parametersOf(gpuSeriesQuerySchema, 'query')],
          responses: { '200': json(gpuSeries, 'the series'), ...errorResponses },
        },
      },
      '/api/v1/series/job/{job}': {
        get: {
          operationId: 'jobSeries',
          summary: 'Collective duration percentiles and bus bandwidth of one job, per step of call start',
          parameters: [...parametersOf(jobPathSchema, 'path'), ...parametersOf(seriesQuerySchema, 'query')],
          responses: { '200': json(jobSeries, 'the series'), ...errorResponses },
        },
      },
      '/api/v1/topology': {
        get: {
          operationId: 'topology',
          summary: "Every port with its current state (latest sample), role and far end",
          parameters: parametersOf(topologyQuerySchema, 'query'),
          responses: { '200': json(topologyBody, 'ports and their state'), ...errorResponses },
        },
      },
      '/api/v1/jobs': {
        get: {
          operationId: 'listJobs',
          summary: 'Jobs seen in a window, with their placement (rank → host) and activity',
          parameters: parametersOf(jobsQuerySchema, 'query'),
          responses: { '200': json(jobsBody, 'jobs'), ...errorResponses },
        },
      },
      '/api/v1/stream': {
        get: {
          operationId: 'stream',
          summary: 'Server-Sent Events: new stalls and alert changes as they happen',
          security: [{ bearer: [] }, { accessTokenParameter: [] }],
          description:
            'Each event is `event: stall` (data: a stall as in /api/v1/stalls) or `event: alert` (data: an alert as in /api/v1/alerts), with an increasing `id`. A comment line is sent as heartbeat. Only events from the moment of connection are sent; fetch history from the list endpoints.',
          parameters: parametersOf(streamQuerySchema, 'query'),
          responses: {
            '200': {
              description: 'the event stream',
              content: {
                'text/event-stream': {
                  schema: { type: 'string' },
                  itemSchema: { oneOf: [jsonSchema(z.object({ event: z.literal('stall'), data: stallSummary })), jsonSchema(z.object({ event: z.literal('alert'), data: alert }))] },
                },
              },
            },
            '404': json(errorBody, 'this server has no live pipeline (serving stored data only)'),
            '503': json(errorBody, 'too many stream clients; retry after Retry-After'),
            ...errorResponses,
          },
        },
      },
      '/healthz': { get: { operationId: 'healthz', summary: 'The process is alive', security: [], responses: { '200': { description: 'alive' } } } },
      '/readyz': {
        get: {
          operationId: 'readyz',
          security: [],
          summary: 'The store answers and the live pipeline is ready',
          responses: { '200': { description: 'ready' }, '503': json(errorBody, 'not ready, with the reason') },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: "Prometheus text of the platform's own telemetry",
          responses: { '200': { description: 'metrics', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
    },
  };
}
