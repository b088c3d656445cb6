/**
 * Request schemas (zod). The same schemas validate requests and generate the OpenAPI
 * parameters (openapi.ts), so the document cannot drift from what the server accepts.
 */
import { z } from 'zod';
import { InvalidArgumentError } from '../core/errors.js';
import { FAULT_KINDS } from '../core/names.js';
import { parseTimestamp } from '../core/time.js';

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
});

export const stallPathSchema = z.strictObject({
  id: name('stall id'),
});

export const alertQuerySchema = z.strictObject({
  state: z.enum(['pending', 'firing', 'resolved']).meta({ description: 'alert state' }).optional(),
  limit: integer(1, MAX_LIMIT, `maximum alerts returned, newest first (default ${DEFAULT_LIMIT}, max ${MAX_LIMIT})`).optional(),
});

export const emptyQuerySchema = z.strictObject({});

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
