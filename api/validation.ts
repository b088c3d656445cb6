/**
 * Request schemas (zod). The same schemas validate requests and generate the OpenAPI
 * parameters (openapi.ts), so the document cannot drift from what the server accepts.
 */
import { z } from 'zod';
import { InvalidArgumentError } from '../core/errors.js';
import { FAULT_KINDS } from '../core/names.js';
import { parseTimestamp } from '../core/time.js';
import { MAX_CURSOR_LENGTH, decodeCursor } from './cursor.js';
import { API_EVENT_TYPES } from './events.js';

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;
/** Names (jobs, ports, ids) are short; anything longer is a mistake or an attack. */
const MAX_NAME_LENGTH = 256;

/** DateTime64's range ends in 2299; a later value cannot match anything and may not convert. */
const MAX_TIMESTAMP_MS = Date.parse('2299-12-31T23:59:59.999Z');

const timestamp = (what: string) =>
  z
    .string()
    .max(64)
    .transform((v, ctx) => {
      const ms = parseTimestamp(v);
      if (ms === undefined || !Number.isSafeInteger(ms)) {
        ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 time or epoch milliseconds' });
        return z.NEVER;
      }
      if (ms < 0 || ms > MAX_TIMESTAMP_MS) {
        ctx.addIssue({ code: 'custom', message: 'must be between 1970 and 2299' });
        return z.NEVER;
      }
      return ms;
    })
    .meta({ description: `${what}: ISO-8601 (e.g. 2026-01-01T00:00:00Z) or epoch milliseconds`, examples: ['2026-01-01T00:00:00Z', '1767225600000'] });

/** A decimal integer in [min, max] given as a query string. */
const integer = (min: number, max: number, description: string) =>
  z
    .string()
    .regex(/^\d{1,16}$/, 'must be a non-negative integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .meta({ description });

const name = (description: string) => z.string().min(1).max(MAX_NAME_LENGTH).meta({ description });

export const ROOT_CAUSE_KINDS = [...FAULT_KINDS, 'unknown'] as const;

export const stallQuerySchema = z.strictObject({
  from: timestamp('stalls that overlap the window from this time').optional(),
  to: timestamp('stalls that overlap the window up to this time').optional(),
  job: name('job (NCCL communicator name), e.g. train-a').optional(),
  kind: z.enum(ROOT_CAUSE_KINDS).meta({ description: 'root-cause kind' }).optional(),
  location: name('root-cause location, a port, NIC, GPU or nvsw port name, e.g. leaf-3/p5').optional(),
  min_duration_us: integer(0, Number.MAX_SAFE_INTEGER, 'only stalls that lasted at least this many microseconds').optional(),
  limit: integer(1, MAX_LIMIT, `maximum stalls returned, newest first (default ${DEFAULT_LIMIT}, max ${MAX_LIMIT})`).optional(),
  cursor: z
    .string()
    .max(MAX_CURSOR_LENGTH)
    .transform((v, ctx) => {
      const position = decodeCursor(v);
      if (!position) {
        ctx.addIssue({ code: 'custom', message: 'not a cursor from a previous answer (use next_cursor as given)' });
        return z.NEVER;
      }
      return position;
    })
    .meta({
      description:
        'opaque: the `next_cursor` of the previous page. Repeat the same filters with it; the next page starts after that page\'s last stall.',
    })
    .optional(),
});

export const stallPathSchema = z.strictObject({
  id: name('stall id'),
});

export const alertQuerySchema = z.strictObject({
  state: z.enum(['pending', 'firing', 'resolved']).meta({ description: 'alert state' }).optional(),
  limit: integer(1, MAX_LIMIT, `maximum alerts returned, newest first (default ${DEFAULT_LIMIT}, max ${MAX_LIMIT})`).optional(),
});

export const emptyQuerySchema = z.strictObject({});

export const MAX_ROOT_CAUSES = 100;
export const DEFAULT_ROOT_CAUSES = 10;

export const rootCauseQuerySchema = z.strictObject({
  from: timestamp('stalls that overlap the window from this time (default: unbounded)').optional(),
  to: timestamp('stalls that overlap the window up to this time (default: unbounded)').optional(),
  job: name('only stalls of this job').optional(),
  limit: integer(1, MAX_ROOT_CAUSES, `culprits per ranking (default ${DEFAULT_ROOT_CAUSES}, max ${MAX_ROOT_CAUSES})`).optional(),
});

/** A series answers at most this many points: enough for any chart, bounded for the store. */
export const MAX_SERIES_POINTS = 2000;
/** Steps are passed to ClickHouse as UInt32 milliseconds; 30 days is far below that. */
export const MAX_STEP_MS = 30 * 24 * 3600 * 1000;

const seriesWindow = {
  from: timestamp('window start, inclusive (default: one hour before `to`)').optional(),
  to: timestamp('window end, exclusive (default: now)').optional(),
  step: integer(
    1,
    MAX_STEP_MS,
    `bucket width in milliseconds; buckets are epoch-aligned. At most ${MAX_SERIES_POINTS} buckets per window (default: a round step giving ≤ 1000). Multiples of 1000 or 60000 read the 1 s or 1 min rollups.`,
  ).optional(),
};

export const seriesQuerySchema = z.strictObject(seriesWindow);

/** DCGM field names (`DCGM_FI_DEV_SM_CLOCK`): a bounded comma-separated list. */
const dcgmFields = z
  .string()
  .max(2048)
  .transform((v) => v.split(',').map((f) => f.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'must be DCGM field names (letters, digits, _)')).min(1).max(32))
  .meta({ description: 'comma-separated DCGM fields to return (default: every field)', examples: ['DCGM_FI_DEV_SM_CLOCK,DCGM_FI_DEV_GPU_UTIL'] });

export const gpuSeriesQuerySchema = z.strictObject({ ...seriesWindow, fields: dcgmFields.optional() });

export const portPathSchema = z.strictObject({ port: name('port name, e.g. leaf-3/p5 (its / may be sent as is or as %2F)') });
export const gpuPathSchema = z.strictObject({ gpu: name('GPU name, e.g. node-0/gpu-1 (its / may be sent as is or as %2F)') });
export const jobPathSchema = z.strictObject({ job: name('job (NCCL communicator name), e.g. train-a') });


export const topologyQuerySchema = z.strictObject({
  from: timestamp(`oldest sample that counts as a port's state (default: 5 minutes before \`to\`)`).optional(),
  to: timestamp('the time the state is wanted at (default: now)').optional(),
});

export const jobsQuerySchema = z.strictObject({
  from: timestamp('jobs with collectives starting from this time (default: one hour before `to`)').optional(),
  to: timestamp('… up to this time, exclusive (default: now)').optional(),
});

export const streamQuerySchema = z.strictObject({
  types: z
    .string()
    .max(64)
    .transform((v) => v.split(',').map((t) => t.trim()).filter(Boolean))
    .pipe(z.array(z.enum(API_EVENT_TYPES)).min(1))
    .meta({ description: 'comma-separated event types to receive: stall, alert (default both)' })
    .optional(),
  // Checked by bearerAuth before this route runs; declared so the stream accepts it.
  access_token: z
    .string()
    .max(MAX_NAME_LENGTH)
    .meta({ description: 'the API token, for EventSource clients that cannot send `Authorization: Bearer` (this route only)' })
    .optional(),
});

/**
 * Validates one part of a request. The first problem becomes an InvalidArgumentError whose
 * `where` names the parameter (`query.from`), which the error handler turns into a 400.
 */
export function parseRequestPart<S extends z.ZodType>(schema: S, value: unknown, part: 'query' | 'params'): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    throw new InvalidArgumentError(`unknown parameter "${truncate(key)}"`, `${part}.${truncate(key)}`);
  }
  const where = [part, ...issue.path.map((p) => truncate(String(p)))].join('.');
  const message = issue.code === 'invalid_type' && issue.expected === 'string' ? 'must be given once, as a string' : issue.message;
  throw new InvalidArgumentError(message, where);
}

/** Echoing a 10 kB parameter name back would turn a 400 into an amplifier. */
const truncate = (s: string): string => (s.length > 64 ? `${s.slice(0, 64)}…` : s);
