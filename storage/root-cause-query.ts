/**
 * Top culprits over a window: stalls grouped by root cause (kind and location), ranked by
 * how many stalls it caused or by the GPU time it cost. User values are bound parameters;
 * each ranking is a fixed sort key.
 */
import type { RootCauseFilter } from '../core/store.js';
import { stallWindowConditions, type BoundQuery } from './stall-query.js';

/**
 * Each ranking's order as an arraySort key over a culprit tuple `c`: descending by negation,
 * ties broken by the other figure, then by name, so pages are stable.
 */
const ORDER = {
  stalls: '(-c.stalls, -c.gpu_seconds_lost, c.kind, c.location)',
  gpu_seconds_lost: '(-c.gpu_seconds_lost, -c.stalls, c.kind, c.location)',
} as const;

/**
 * Bounds the per-culprit job list: a culprit shared by hundreds of jobs needs no full list.
 * The first ones in byte order are kept, not the first ones read, so the answer does not
 * depend on the order parts are read in (and the in-memory ranking can give the same one).
 */
export const MAX_JOBS_PER_CULPRIT = 16;

/** Float sums as the API gives them: to the microsecond, which hides summation noise. */
export const roundGpuSeconds = (seconds: number): number => Math.round(seconds * 1e6) / 1e6;

export interface RootCauseRow {
  kind: string;
  location: string;
  stalls: number | string;
  gpu_seconds_lost: number;
  jobs: string[];
  first_ms: number | string;
  last_ms: number | string;
}

/** The one row the query returns: both rankings, each already cut to the limit. */
export interface RootCauseRankingsRow {
  by_stalls: RootCauseRow[];
  by_gpu_seconds_lost: RootCauseRow[];
}

/** A culprit as a named tuple, signed so that its figures can be negated to sort descending. */
const CULPRIT = `CAST((kind, location, stalls, gpu_seconds_lost, jobs, first_ms, last_ms),
  'Tuple(kind String, location String, stalls Int64, gpu_seconds_lost Float64, jobs Array(String), first_ms Int64, last_ms Int64)')`;

/**
 * Both rankings from one pass: the stalls are read and grouped once, then the culprits are
 * gathered into one array and sorted twice (cheaper than two window functions over them).
 */
export function topRootCausesQuery(filter: RootCauseFilter): BoundQuery {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: filter.limit };
  // Same window semantics as the stall listing: a stall overlapping the window counts.
  stallWindowConditions(filter, where, params);
  const culprits = [
    `SELECT rc_kind AS kind, rc_location AS location, count() AS stalls,
       -- excess over the baseline, for every rank that waited; never negative
       sum(greatest(toInt64(duration_us) - toInt64(expected_us), 0) * n_ranks) / 1e6 AS gpu_seconds_lost,
       arraySlice(arraySort(groupUniqArray(job)), 1, ${MAX_JOBS_PER_CULPRIT}) AS jobs,
       toUnixTimestamp64Milli(min(start)) AS first_ms,
       toUnixTimestamp64Milli(max(start)) AS last_ms`,
    'FROM stalls FINAL',
    where.length ? `WHERE ${where.join(' AND ')}` : '',
    'GROUP BY kind, location',
  ]
    .filter(Boolean)
    .join('\n');
  const query = `SELECT arraySlice(arraySort(c -> ${ORDER.stalls}, culprits), 1, {limit:UInt32}) AS by_stalls,
       arraySlice(arraySort(c -> ${ORDER.gpu_seconds_lost}, culprits), 1, {limit:UInt32}) AS by_gpu_seconds_lost
FROM (SELECT groupArray(${CULPRIT}) AS culprits FROM (${culprits}))`;
  return { query, query_params: params };
}
