/**
 * PFC pause fraction — the PFC-watchdog condition: a port that spends most of its time paused
 * by its peer cannot drain, and the pause spreads upstream (head-of-line blocking). A switch
 * watchdog acts when a queue stays paused past its detection time; this rule pages on the same
 * symptom from the telemetry: paused µs ÷ covered µs over the window.
 * Series: one per port. Value: the paused fraction, 0..1.
 */
import { z } from 'zod';
import type { AlertInputs } from '../alert-inputs.js';
import { durationField } from '../duration.js';
import type { Condition, Series } from './condition.js';
import { coveredFraction, portWindows } from './port-window.js';

export const pfcPauseFractionSchema = z
  .object({
    kind: z.literal('pfc_pause_fraction'),
    window: durationField.default(1_000),
    /** Fires when the paused share of the window exceeds this (0..1). */
    fraction: z.number().gt(0).max(1),
  })
  .strict();

export type PfcPauseFractionSpec = z.infer<typeof pfcPauseFractionSchema>;

export class PfcPauseFraction implements Condition {
  readonly windowMs: number;

  constructor(private readonly spec: PfcPauseFractionSpec) {
    this.windowMs = spec.window;
  }

  evaluate(t: number, inputs: AlertInputs): Series[] {
    const out: Series[] = [];
    for (const w of portWindows(inputs, t, this.windowMs)) {
      const paused = coveredFraction(w.samples, (s) => s.pfc_rx_pause_us);
      if (paused !== undefined && paused > this.spec.fraction) out.push({ labels: { port: w.port, device: w.device }, value: paused });
    }
    return out;
  }
}
