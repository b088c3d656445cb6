/**
 * Time windows of requests: [from, to) with defaults relative to `to` (itself defaulting to
 * now), and a series' step, bounded so one answer has at most MAX_SERIES_POINTS points.
 */
import { InvalidArgumentError } from '../core/errors.js';
import { MAX_SERIES_POINTS, MAX_STEP_MS } from './validation.js';

/** Port state looks back this far for each port's latest sample (a few telemetry intervals). */
export const DEFAULT_STATE_LOOKBACK_MS = 5 * 60_000;
const DEFAULT_JOBS_WINDOW_MS = 3600_000;
const DEFAULT_SERIES_WINDOW_MS = 3600_000;
const DEFAULT_SERIES_POINTS = 1000;

/** A [from, to) window with defaults relative to `to` (itself defaulting to now). */
export function timeWindowOf(q: { from?: number; to?: number }, nowMs: number, defaultSpanMs: number): { from_ms: number; to_ms: number } {
  const to_ms = q.to ?? Math.max(nowMs, (q.from ?? 0) + 1);
  const from_ms = q.from ?? Math.max(0, to_ms - defaultSpanMs);
  if (to_ms <= from_ms) throw new InvalidArgumentError('must be later than from', 'query.to');
  return { from_ms, to_ms };
}

export const jobsWindowOf = (q: { from?: number; to?: number }, nowMs: number) => timeWindowOf(q, nowMs, DEFAULT_JOBS_WINDOW_MS);

/** Round steps, so buckets fall on readable times and whole-second steps use the rollups. */
const NICE_STEPS_MS = [100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000];

/** Resolves a series request's window and step, or names the parameter that is wrong. */
export function seriesWindowOf(q: { from?: number; to?: number; step?: number }, nowMs: number): { from_ms: number; to_ms: number; step_ms: number } {
  const { from_ms, to_ms } = timeWindowOf(q, nowMs, DEFAULT_SERIES_WINDOW_MS);
  const span = to_ms - from_ms;
  if (q.step === undefined) {
    const step_ms = NICE_STEPS_MS.find((s) => span / s <= DEFAULT_SERIES_POINTS) ?? Math.ceil(span / DEFAULT_SERIES_POINTS);
    return { from_ms, to_ms, step_ms: Math.min(step_ms, MAX_STEP_MS) };
  }
  if (Math.ceil(span / q.step) > MAX_SERIES_POINTS) {
    const minimum = Math.ceil(span / MAX_SERIES_POINTS);
    throw new InvalidArgumentError(`too small for this window: at most ${MAX_SERIES_POINTS} points, so at least ${minimum} ms`, 'query.step');
  }
  return { from_ms, to_ms, step_ms: q.step };
}
