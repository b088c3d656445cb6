/**
 * Builds the stall listing query from a filter. Every user-supplied value travels as a
 * bound query parameter ({name:Type}); only fixed SQL text is concatenated here.
 */
import type { StallFilter } from '../core/store.js';
import { STALL_COLUMNS, STALL_SUMMARY_COLUMNS } from './rows.js';

export interface BoundQuery {
  query: string;
  query_params: Record<string, unknown>;
  /** Fixed settings of this query (never user input), added to the read settings' SETTINGS clause. */
  settings?: string;
}

/**
 * The window and job conditions every stall query shares, as bound parameters. A stall is in
 * [from, to] when it overlaps the window, so one that began just before `from` and was still
 * stalling is not lost.
 */
export function stallWindowConditions(
  filter: { from_ms?: number; to_ms?: number; job?: string },
  where: string[],
  params: Record<string, unknown>,
): void {
  if (filter.from_ms !== undefined) {
    where.push(`end >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')`);
    params.from_ms = filter.from_ms;
  }
  if (filter.to_ms !== undefined) {
    where.push(`start <= fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')`);
    params.to_ms = filter.to_ms;
  }
  if (filter.job !== undefined) {
    where.push('job = {job:String}');
    params.job = filter.job;
  }
}

export function stallListQuery(filter: StallFilter): BoundQuery {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: filter.limit };
  stallWindowConditions(filter, where, params);
  if (filter.kind !== undefined) {
    where.push('rc_kind = {kind:String}');
    params.kind = filter.kind;
  }
  if (filter.location !== undefined) {
    where.push('rc_location = {location:String}');
    params.location = filter.location;
  }
  if (filter.min_duration_us !== undefined) {
    where.push('duration_us >= {min_duration_us:UInt64}');
    params.min_duration_us = filter.min_duration_us;
  }
  if (filter.after !== undefined) {
    // Keyset pagination in the listing order (start DESC, id ASC): strictly after the last
    // row of the previous page, so a page costs the same however deep it is.
    where.push(
      `(start < fromUnixTimestamp64Milli({after_start_ms:Int64}, 'UTC')
        OR (start = fromUnixTimestamp64Milli({after_start_ms:Int64}, 'UTC') AND id > {after_id:String}))`,
    );
    params.after_start_ms = filter.after.start_ms;
    params.after_id = filter.after.id;
  }
  const query = [
    `SELECT ${filter.include_ranks === false ? STALL_SUMMARY_COLUMNS : STALL_COLUMNS}`,
    // FINAL collapses re-inserted versions of one stall before filtering.
    'FROM stalls FINAL',
    where.length ? `WHERE ${where.join(' AND ')}` : '',
    'ORDER BY start DESC, id',
    'LIMIT {limit:UInt32}',
  ]
    .filter(Boolean)
    .join('\n');
  return { query, query_params: params };
}

/**
 * Every stall's newest version without ranks, with its rank count (what the root-cause
 * ranking weighs GPU time by) and its version: what the embedded stall index
 * loads (stall-index.ts). One row more than `max_stalls` tells that the table is too large to hold.
 */
export function stallIndexLoadQuery(max_stalls: number): BoundQuery {
  return {
    query: `SELECT ${STALL_SUMMARY_COLUMNS}, n_ranks, version FROM stalls FINAL LIMIT {limit:UInt32}`,
    query_params: { limit: max_stalls + 1 },
  };
}

/** The newest version of each of `ids` without ranks, from the lookup sorted by id (migration 0006). */
export function stallSummariesByIdQuery(ids: readonly string[]): BoundQuery {
  return {
    query: `SELECT ${STALL_SUMMARY_COLUMNS}, n_ranks, version FROM stalls_by_id WHERE id IN {ids:Array(String)} ORDER BY id, version DESC LIMIT 1 BY id`,
    query_params: { ids },
  };
}
