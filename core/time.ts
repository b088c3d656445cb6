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

const DAY_MS = 86_400_000;
/** toISOString's six-digit years (±YYYYYY) start here; the fast path stays below. */
const YEAR_10000_MS = Date.UTC(10000, 0, 1);
/** The day last formatted and its `YYYY-MM-DDT`: a series' hundreds of points share a few days. */
let lastDay = -1;
let lastDayPrefix = '';
const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

/**
 * Epoch ms → ISO-8601 UTC, exactly as `new Date(ms).toISOString()` (which it falls back to
 * outside whole ms of years 1970–9999). The time of day is formatted here and the date taken
 * from the last day formatted: a series of hundreds of points spent more in toISOString than
 * in serialising the rest of its answer.
 */
export function isoOf(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms >= YEAR_10000_MS) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  if (day !== lastDay) {
    lastDayPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    lastDay = day;
  }
  let rest = ms - day * DAY_MS;
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const seconds = rest % 60;
  rest = (rest - seconds) / 60;
  const minutes = rest % 60;
  const hours = (rest - minutes) / 60;
  return `${lastDayPrefix}${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/** OTLP/HrTime nanoseconds (string or number) → epoch ms. */
export function nanosToMs(nanos: string | number | bigint): number {
  return Number(BigInt(nanos) / 1_000_000n);
}
