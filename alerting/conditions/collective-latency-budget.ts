/**
 * Collective latency budget: a job's calls against its own learned baseline (the rolling median
 * of its healthy calls, per collective and message size). Each call is judged once, in event
 * order, against the baseline as it stood; the series value is the median ratio over the window,
 * so one slow call does not page but a sustained slowdown does. Calls over budget do not teach
 * the baseline, so a long fault cannot become the new normal.
 * Series: one per (job, collective). Value: median duration ÷ baseline over the window.
 */
import { z } from 'zod';
import { RollingMedian, median } from '../../pipeline/baseline.js';
import type { AlertInputs } from '../alert-inputs.js';
import { durationField } from '../duration.js';
import type { Condition, Series } from './condition.js';

export const collectiveLatencyBudgetSchema = z
  .object({
    kind: z.literal('collective_latency_budget'),
    window: durationField.default(5_000),
    /** Fires when the window's median duration ÷ baseline exceeds this. */
    ratio_to_baseline: z.number().gt(1),
    /** Calls that only teach the baseline before any is judged (NCCL warm-up). */
    baseline_calls: z.number().int().min(1).default(20),
    /** Judged calls the window must hold. */
    min_calls: z.number().int().min(1).default(3),
  })
  .strict();

export type CollectiveLatencyBudgetSpec = z.infer<typeof collectiveLatencyBudgetSchema>;

interface JudgedCall {
  end_ms: number;
  collective: string;
  ratio: number;
}

export class CollectiveLatencyBudget implements Condition {
  readonly windowMs: number;
  private readonly baselines = new Map<string, RollingMedian>();
  private readonly judged = new Map<string, JudgedCall[]>();
  private judgedUpTo = Number.NEGATIVE_INFINITY;

  constructor(private readonly spec: CollectiveLatencyBudgetSpec) {
    this.windowMs = spec.window;
  }

  evaluate(t: number, inputs: AlertInputs): Series[] {
    this.judgeNewCalls(t, inputs);
    const out: Series[] = [];
    for (const job of [...this.judged.keys()].sort()) {
      const list = this.judged.get(job)!;
      while (list.length > 0 && list[0]!.end_ms <= t - this.windowMs) list.shift();
      const byCollective = new Map<string, number[]>();
      for (const c of list) {
        let ratios = byCollective.get(c.collective);
        if (!ratios) byCollective.set(c.collective, (ratios = []));
        ratios.push(c.ratio);
      }
      for (const [collective, ratios] of [...byCollective].sort(([a], [b]) => a.localeCompare(b))) {
        if (ratios.length < this.spec.min_calls) continue;
        const m = median(ratios)!;
        if (m > this.spec.ratio_to_baseline) out.push({ labels: { job, collective }, value: m });
      }
    }
    return out;
  }

  /** Calls that ended since the last evaluation, judged in (end, seq) order. */
  private judgeNewCalls(t: number, inputs: AlertInputs): void {
    for (const job of inputs.calls.jobs()) {
      for (const c of inputs.calls.window(job, this.judgedUpTo, t)) {
        const key = `${c.job}|${c.collective}|${c.msg_bytes}`;
        let baseline = this.baselines.get(key);
        if (!baseline) this.baselines.set(key, (baseline = new RollingMedian()));
        const expected = baseline.median();
        if (baseline.count < this.spec.baseline_calls || expected === undefined || expected <= 0) {
          baseline.add(c.duration_us);
          continue;
        }
        const ratio = c.duration_us / expected;
        if (ratio <= this.spec.ratio_to_baseline) baseline.add(c.duration_us);
        let list = this.judged.get(job);
        if (!list) this.judged.set(job, (list = []));
        list.push({ end_ms: c.end_ms, collective: c.collective, ratio });
      }
    }
    this.judgedUpTo = t;
  }
}
