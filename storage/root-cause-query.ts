/**
 * Top culprits over a window: stalls grouped by root cause (kind and location), ranked by
 * how many stalls it caused or by the GPU time it cost. User values are bound parameters;
 * the ranking picks between two fixed ORDER BY texts.
 */
import type { RootCauseFilter } from '../core/store.js';
import { stallWindowConditions, type BoundQuery } from './stall-query.js';

export type RootCauseRanking = 'stalls' | 'gpu_seconds_lost';

/** Each ranking's order; ties broken by the other figure, then by name, so pages are stable. */
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
  /** 1-based place in each ranking; a row is returned when it makes either top `limit`. */
  by_stalls: number | string;
  by_gpu_seconds_lost: number | string;
}

/**
 * Both rankings from one pass: the stalls are read and grouped once, and two window functions
 * place each culprit in both orders, so the answer costs one query instead of two.
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
       groupUniqArray(${MAX_JOBS_PER_CULPRIT})(job) AS jobs,
       toUnixTimestamp64Milli(min(start)) AS first_ms,
       toUnixTimestamp64Milli(max(start)) AS last_ms`,
    'FROM stalls FINAL',
    where.length ? `WHERE ${where.join(' AND ')}` : '',
    'GROUP BY kind, location',
  ]
    .filter(Boolean)
    .join('\n');
  const query = `SELECT * FROM
(
  SELECT *,
         row_number() OVER (ORDER BY ${ORDER.stalls}) AS by_stalls,
         row_number() OVER (ORDER BY ${ORDER.gpu_seconds_lost}) AS by_gpu_seconds_lost
  FROM (${culprits})
)
WHERE by_stalls <= {limit:UInt32} OR by_gpu_seconds_lost <= {limit:UInt32}`;
  return { query, query_params: params };
}

/** The rows of one ranking, in its order. */
export function rankingOf(rows: RootCauseRow[], ranking: RootCauseRanking, limit: number): RootCauseRow[] {
  const place = (r: RootCauseRow) => Number(r[ranking === 'stalls' ? 'by_stalls' : 'by_gpu_seconds_lost']);
  return rows.filter((r) => place(r) <= limit).sort((a, b) => place(a) - place(b));
}
