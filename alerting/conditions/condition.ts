/**
 * What every rule kind implements: given the inputs as of event time T, the series (one label
 * set each) that violate the condition and their values, as a PromQL alert expression returns
 * only the series above its threshold.
 */
import type { AlertInputs } from '../alert-inputs.js';

export interface Series {
  labels: Record<string, string>;
  value: number;
}

export interface Condition {
  /** How far back the condition looks (root causes are searched over it too). */
  readonly windowMs: number;
  /**
   * Violating series at event time `t`. Called once per evaluation, with increasing `t`, so a
   * condition that learns (a baseline) learns in event-time order, the same on every replay.
   */
  evaluate(t: number, inputs: AlertInputs): Series[];
}

/** p-quantile of sorted values (nearest rank), 0 ≤ p ≤ 1. */
export function quantileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}
