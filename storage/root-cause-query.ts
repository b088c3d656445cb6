/**
 * Top culprits over a window: stalls grouped by root cause (kind and location), ranked by
 * how many stalls it caused or by the GPU time it cost. User values are bound parameters;
 * the ranking picks between two fixed ORDER BY texts.
 */
import type { RootCauseFilter } from '../core/store.js';
import { stallWindowConditions, type BoundQuery } from './stall-query.js';

export type RootCauseRanking = 'stalls' | 'gpu_seconds_lost';

const ORDER: Record<RootCauseRanking, string> = {
  stalls: 'stalls DESC, gpu_seconds_lost DESC, kind, location',
  gpu_seconds_lost: 'gpu_seconds_lost DESC, stalls DESC, kind, location',
};

/** Bounds the per-culprit job list: a culprit shared by hundreds of jobs needs no full list. */
const MAX_JOBS_PER_CULPRIT = 16;

export interface RootCauseRow {
  kind: string;
  location: string;
  stalls: number | string;
  gpu_seconds_lost: number;
  jobs: string[];
  first_ms: number | string;
  last_ms: number | string;
}

export function topRootCausesQuery(filter: RootCauseFilter, ranking: RootCauseRanking): BoundQuery {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: filter.limit };
  // Same window semantics as the stall listing: a stall overlapping the window counts.
  stallWindowConditions(filter, where, params);
  const query = [
    `SELECT rc_kind AS kind, rc_location AS location, count() AS stalls,
       -- excess over the baseline, for every rank that waited; never negative
       sum(greatest(toInt64(duration_us) - toInt64(expected_us), 0) * n_ranks) / 1e6 AS gpu_seconds_lost,
       groupUniqArray(${MAX_JOBS_PER_CULPRIT})(job) AS jobs,
       toUnixTimestamp64Milli(min(start)) AS first_ms,
       toUnixTimestamp64Milli(max(start)) AS last_ms`,
    'FROM stalls FINAL',
    where.length ? `WHERE ${where.join(' AND ')}` : '',
    'GROUP BY kind, location',
    `ORDER BY ${ORDER[ranking]}`,
    'LIMIT {limit:UInt32}',
  ]
    .filter(Boolean)
    .join('\n');
  return { query, query_params: params };
}
