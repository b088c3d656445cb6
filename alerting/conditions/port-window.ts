/** Shared arithmetic of the per-port rules: a port's samples over a window. */
import type { PortSample } from '../../core/records.js';
import type { AlertInputs } from '../alert-inputs.js';

export interface PortWindow {
  port: string;
  device: string;
  samples: PortSample[];
}

/** Every port with samples in (t − window, t], in name order. */
export function portWindows(inputs: AlertInputs, t: number, windowMs: number): PortWindow[] {
  const out: PortWindow[] = [];
  for (const port of inputs.portNames()) {
    const samples = inputs.ports.window(port, t - windowMs, t);
    if (samples.length > 0) out.push({ port, device: samples[0]!.device, samples });
  }
  return out;
}

/**
 * Share of the covered time a per-interval µs counter accounts for (paused µs, credit-stalled
 * µs ÷ interval µs), clamped to 0..1. Undefined when no sample covers an interval.
 */
export function coveredFraction(samples: readonly PortSample[], us: (s: PortSample) => number): number | undefined {
  let covered = 0;
  let counted = 0;
  for (const s of samples) {
    if (s.interval_ms <= 0) continue;
    covered += s.interval_ms * 1000;
    counted += us(s);
  }
  return covered > 0 ? Math.min(1, counted / covered) : undefined;
}
