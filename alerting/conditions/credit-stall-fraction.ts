/**
 * Scale-up credit-stall fraction: share of the window a credit-based (NVLink-switch) port had
 * data but no credits to send it. Healthy links return credits as fast as they are spent;
 * a port starving for credits slows every intra-node collective step through it.
 * Series: one per port. Value: the stalled fraction, 0..1.
 */
import { z } from 'zod';
import type { AlertInputs } from '../alert-inputs.js';
import { durationField } from '../duration.js';
import type { Condition, Series } from './condition.js';
import { coveredFraction, portWindows } from './port-window.js';

export const creditStallFractionSchema = z
  .object({
    kind: z.literal('credit_stall_fraction'),
    window: durationField.default(1_000),
    /** Fires when the credit-stalled share of the window exceeds this (0..1). */
    fraction: z.number().gt(0).max(1),
  })
  .strict();

export type CreditStallFractionSpec = z.infer<typeof creditStallFractionSchema>;

export class CreditStallFraction implements Condition {
  readonly windowMs: number;

  constructor(private readonly spec: CreditStallFractionSpec) {
    this.windowMs = spec.window;
  }

  evaluate(t: number, inputs: AlertInputs): Series[] {
    const out: Series[] = [];
    for (const w of portWindows(inputs, t, this.windowMs)) {
      const stalled = coveredFraction(w.samples, (s) => s.credit_stall_us);
      if (stalled !== undefined && stalled > this.spec.fraction) out.push({ labels: { port: w.port, device: w.device }, value: stalled });
    }
    return out;
  }
}
