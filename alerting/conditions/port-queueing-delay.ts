/**
 * Port queueing-delay budget: the time a packet arriving at an egress queue waits, estimated as
 * occupancy ÷ line rate, averaged over the window. A deterministic fabric keeps queues short;
 * a sustained standing queue (incast, ECMP collision) adds its delay to every collective step.
 * Occupancy is each interval's mean from the switch's egress-buffer histogram when it exports
 * one, else the occupancy gauge: a queue that fills and drains within every collective step
 * reads full or empty depending on where the poll lands, and a few such instants make a poor
 * mean (a 2 s window of 100 ms gauges read 1–10 µs through one steady incast).
 * Line rate comes from the topology, or from `line_rate_gbps` when the rule gives it.
 * Series: one per port. Value: mean queueing delay in µs.
 */
import { z } from 'zod';
import type { AlertInputs } from '../alert-inputs.js';
import { durationField } from '../duration.js';
import type { Condition, Series } from './condition.js';
import { portWindows } from './port-window.js';

export const portQueueingDelaySchema = z
  .object({
    kind: z.literal('port_queueing_delay'),
    window: durationField.default(1_000),
    /** Fires when the mean queueing delay exceeds this many microseconds. */
    us: z.number().positive(),
    /** Overrides the topology's line rate (required when no topology is known). */
    line_rate_gbps: z.number().positive().optional(),
  })
  .strict();

export type PortQueueingDelaySpec = z.infer<typeof portQueueingDelaySchema>;

export class PortQueueingDelay implements Condition {
  readonly windowMs: number;

  constructor(private readonly spec: PortQueueingDelaySpec) {
    this.windowMs = spec.window;
  }

  evaluate(t: number, inputs: AlertInputs): Series[] {
    const out: Series[] = [];
    for (const w of portWindows(inputs, t, this.windowMs)) {
      const bytesPerS = this.spec.line_rate_gbps !== undefined ? (this.spec.line_rate_gbps * 1e9) / 8 : inputs.topology?.ports.get(w.port)?.capacity_bps;
      if (!bytesPerS) continue; // unknown line rate: the delay cannot be told
      const meanQueue = w.samples.reduce((a, s) => a + (s.queue_mean_bytes ?? s.queue_bytes), 0) / w.samples.length;
      const delayUs = (meanQueue / bytesPerS) * 1e6;
      if (delayUs > this.spec.us) out.push({ labels: { port: w.port, device: w.device }, value: delayUs });
    }
    return out;
  }
}
