/**
 * The time range every view shows. "Last N" is relative to the *head*, the newest telemetry
 * the server has, not to the browser's clock: a replayed scenario's data lies in the past
 * (or the future), and a live one follows the simulator's clock. An absolute range comes
 * from the range inputs or from dragging across a chart.
 */
export type TimeRange = { kind: 'last'; span_ms: number } | { kind: 'absolute'; from_ms: number; to_ms: number };

export const PRESETS: Array<{ label: string; span_ms: number }> = [
  { label: 'Last 1 min', span_ms: 60_000 },
  { label: 'Last 5 min', span_ms: 5 * 60_000 },
  { label: 'Last 15 min', span_ms: 15 * 60_000 },
  { label: 'Last 1 h', span_ms: 3600_000 },
  { label: 'Last 6 h', span_ms: 6 * 3600_000 },
  { label: 'Last 24 h', span_ms: 86_400_000 },
];

export const DEFAULT_RANGE: TimeRange = { kind: 'last', span_ms: 5 * 60_000 };

export function resolveRange(range: TimeRange, head_ms: number): { from_ms: number; to_ms: number } {
  if (range.kind === 'absolute') return { from_ms: range.from_ms, to_ms: range.to_ms };
  // A little past the head, so the newest bucket is whole and shown.
  const to_ms = head_ms + 1000;
  return { from_ms: to_ms - range.span_ms, to_ms };
}

export function rangeToParams(range: TimeRange): URLSearchParams {
  const p = new URLSearchParams();
  if (range.kind === 'last') p.set('last', String(Math.round(range.span_ms / 1000)));
  else {
    p.set('from', String(range.from_ms));
    p.set('to', String(range.to_ms));
  }
  return p;
}

export function rangeFromParams(p: URLSearchParams): TimeRange {
  const from = Number(p.get('from'));
  const to = Number(p.get('to'));
  if (p.has('from') && p.has('to') && Number.isFinite(from) && Number.isFinite(to) && to > from) return { kind: 'absolute', from_ms: from, to_ms: to };
  const last = Number(p.get('last'));
  if (Number.isFinite(last) && last > 0) return { kind: 'last', span_ms: last * 1000 };
  return DEFAULT_RANGE;
}

/** A step giving about `points` buckets, rounded to one the rollups answer (whole seconds). */
export function stepFor(range: { from_ms: number; to_ms: number }, points = 120): number {
  const steps = [100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000];
  const span = range.to_ms - range.from_ms;
  return steps.find((s) => span / s <= points) ?? Math.ceil(span / points / 3_600_000) * 3_600_000;
}
