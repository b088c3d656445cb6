/**
 * A straggler GPU: one GPU that the pipeline keeps blaming for its job's stalls (its rank
 * enters collectives late because its compute slowed — thermal or power throttling). Repeated
 * attribution over a window, not one stall, so a single hiccup does not page.
 * Series: one per (job, gpu). Value: stalls attributed to the GPU in the window.
 */
import { z } from 'zod';
import type { AlertInputs } from '../alert-inputs.js';
import { durationField } from '../duration.js';
import type { Condition, Series } from './condition.js';

export const stragglerGpuSchema = z
  .object({
    kind: z.literal('straggler_gpu'),
    window: durationField.default(10_000),
    /** Fires when at least this many stalls in the window are attributed to one GPU. */
    min_stalls: z.number().int().min(1).default(3),
  })
  .strict();

export type StragglerGpuSpec = z.infer<typeof stragglerGpuSchema>;

export class StragglerGpu implements Condition {
  readonly windowMs: number;

  constructor(private readonly spec: StragglerGpuSpec) {
    this.windowMs = spec.window;
  }

  evaluate(t: number, inputs: AlertInputs): Series[] {
    const counts = new Map<string, { job: string; gpu: string; n: number }>();
    for (const s of inputs.stalls(t - this.windowMs, t)) {
      if (s.root_cause.kind !== 'straggler_gpu' || !s.root_cause.location) continue;
      const key = `${s.job}\u0000${s.root_cause.location}`;
      const c = counts.get(key) ?? { job: s.job, gpu: s.root_cause.location, n: 0 };
      c.n++;
      counts.set(key, c);
    }
    return [...counts.values()]
      .filter((c) => c.n >= this.spec.min_stalls)
      .sort((a, b) => a.job.localeCompare(b.job) || a.gpu.localeCompare(b.gpu))
      .map((c) => ({ labels: { job: c.job, gpu: c.gpu }, value: c.n }));
  }
}
