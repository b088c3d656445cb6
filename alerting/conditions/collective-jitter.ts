/**
 * Collective jitter of a job: over a window, the spread of its call durations — p99/p50 and
 * the coefficient of variation (stdev/mean). A deterministic fabric gives the same collective
 * the same time every iteration, so a spread that grows means something varies under the job.
 * Series: one per (job, collective). Value: p99/p50.
 */
import { z } from 'zod';
import type { AlertInputs } from '../alert-inputs.js';
import { durationField } from '../duration.js';
import { quantileSorted, type Condition, type Series } from './condition.js';

export const collectiveJitterSchema = z
  .object({
    kind: z.literal('collective_jitter'),
    window: durationField.default(10_000),
    /** Fires when p99/p50 of durations exceeds this. */
    p99_over_p50: z.number().gt(1).optional(),
    /** Fires when stdev/mean of durations exceeds this. */
    cv: z.number().gt(0).optional(),
    /** Calls the window must hold before the spread means anything. */
    min_calls: z.number().int().min(2).default(20),
  })
  .strict()
  .refine((c) => c.p99_over_p50 !== undefined || c.cv !== undefined, { message: 'give p99_over_p50, cv or both', path: ['p99_over_p50'] });

export type CollectiveJitterSpec = z.infer<typeof collectiveJitterSchema>;

export class CollectiveJitter implements Condition {
  readonly windowMs: number;

  constructor(private readonly spec: CollectiveJitterSpec) {
    this.windowMs = spec.window;
  }

  evaluate(t: number, inputs: AlertInputs): Series[] {
    const out: Series[] = [];
    for (const job of inputs.calls.jobs()) {
      const byCollective = new Map<string, number[]>();
      for (const c of inputs.calls.window(job, t - this.windowMs, t)) {
        let list = byCollective.get(c.collective);
        if (!list) byCollective.set(c.collective, (list = []));
        list.push(c.duration_us);
      }
      for (const [collective, durations] of [...byCollective].sort(([a], [b]) => a.localeCompare(b))) {
        if (durations.length < this.spec.min_calls) continue;
        const sorted = durations.sort((a, b) => a - b);
        const p50 = quantileSorted(sorted, 0.5);
        const ratio = p50 > 0 ? quantileSorted(sorted, 0.99) / p50 : 1;
        const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
        const sd = Math.sqrt(sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / sorted.length);
        const cv = mean > 0 ? sd / mean : 0;
        const { p99_over_p50: maxRatio, cv: maxCv } = this.spec;
        if ((maxRatio !== undefined && ratio > maxRatio) || (maxCv !== undefined && cv > maxCv)) {
          out.push({ labels: { job, collective }, value: ratio });
        }
      }
    }
    return out;
  }
}
