/**
 * The OpenAPI 3.1 document served at /openapi.json. Parameters are generated from the zod
 * schemas that validate requests (validation.ts); response bodies from the zod schemas
 * below, which mirror views.ts and DESIGN.md's contracts.
 */
import { z } from 'zod';
import { ROOT_CAUSE_KINDS, alertQuerySchema, stallPathSchema, stallQuerySchema } from './validation.js';

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

const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), where: z.string().optional() }),
});

type JsonSchema = Record<string, unknown>;

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
  '500': json(errorBody, 'the server or the store failed'),
};

export function buildOpenApiDocument(version: string): JsonSchema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'fabricscope API',
      version,
      description: 'Collective stalls with their root causes, alerts and GPU state of an AI-cluster fabric.',
    },
    paths: {
      '/api/v1/stalls': {
        get: {
          operationId: 'listStalls',
          summary: 'Stalled collectives with their root cause, newest first',
          parameters: parametersOf(stallQuerySchema, 'query'),
          responses: { '200': json(z.object({ stalls: z.array(stallSummary) }), 'matching stalls'), ...errorResponses },
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
      '/healthz': { get: { operationId: 'healthz', summary: 'The process is alive', responses: { '200': { description: 'alive' } } } },
      '/readyz': {
        get: {
          operationId: 'readyz',
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
