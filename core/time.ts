/** Event-time helpers shared by every part. */

/** Parses ISO-8601 or epoch milliseconds; undefined when it is neither. */
export function parseTimestamp(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  // ISO-8601 without a zone is read as UTC, never as this server's local time.
  const zoned = /T.*(Z|[+-]\d{2}:?\d{2})$/i.test(value) || !value.includes('T') ? value : `${value}Z`;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(zoned) ? `${zoned}T00:00:00Z` : zoned);
  return Number.isNaN(ms) ? undefined : ms;
}

export const isoOf = (ms: number): string => new Date(ms).toISOString();

/** OTLP/HrTime nanoseconds (string or number) → epoch ms. */
export function nanosToMs(nanos: string | number | bigint): number {
  return Number(BigInt(nanos) / 1_000_000n);
}
