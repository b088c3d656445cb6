/** Event-time helpers shared by every part. */

/** Parses ISO-8601 or epoch milliseconds; undefined when it is neither. */
export function parseTimestamp(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export const isoOf = (ms: number): string => new Date(ms).toISOString();

/** OTLP/HrTime nanoseconds (string or number) → epoch ms. */
export function nanosToMs(nanos: string | number | bigint): number {
  return Number(BigInt(nanos) / 1_000_000n);
}
