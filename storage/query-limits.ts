/**
 * Limits every read query runs under. They travel in the query's own SETTINGS clause rather
 * than as client settings: chDB applies client settings as session-wide `SET`s, so a
 * `readonly` set that way would also block the sink's later inserts. A SETTINGS clause scopes
 * them to the one query on both backends.
 */
export interface QueryLimits {
  /** Seconds a query may run before ClickHouse cancels it (TIMEOUT_EXCEEDED). */
  max_execution_time_s: number;
  /** Rows a query may return before ClickHouse fails it (TOO_MANY_ROWS_OR_BYTES). */
  max_result_rows: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  max_execution_time_s: 10,
  // Above any bounded API answer (1000 stalls, ~2000 points × GPU fields), far below a table scan.
  max_result_rows: 200_000,
};

/**
 * `readonly = 2`: no writes and no DDL, while still letting the query's own SETTINGS apply
 * (with `readonly = 1` a server rejects any setting after it, depending on the version).
 * Values are numbers validated here, never user input.
 */
export function readOnlySettingsClause(limits: QueryLimits): string {
  const seconds = positiveInteger(limits.max_execution_time_s, 'max_execution_time_s');
  const rows = positiveInteger(limits.max_result_rows, 'max_result_rows');
  return [
    'SETTINGS readonly = 2',
    `max_execution_time = ${seconds}`,
    "timeout_overflow_mode = 'throw'",
    `max_result_rows = ${rows}`,
    "result_overflow_mode = 'throw'",
  ].join(', ');
}

function positiveInteger(v: number, name: string): number {
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

/** ClickHouse error codes of the limits above, as clickhouse-js and chDB report them. */
export const LIMIT_ERROR_TYPES = { timeout: 'TIMEOUT_EXCEEDED', tooManyRows: 'TOO_MANY_ROWS_OR_BYTES' } as const;
