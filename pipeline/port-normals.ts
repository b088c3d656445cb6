/**
 * What is normal for one port: its own recent history, learned from the samples before a stall.
 * Busy uplinks mark a few ECN packets every interval and carry background traffic; a port is only
 * a suspect when it deviates from that level, not from a fixed bar that fits every port (the
 * first cut blamed benign background congestion at 30% load this way).
 *
 * The level is the median and MAD of each signal over the look-back (robust to the odd burst and
 * to a fault shorter than half of it). A port with too little history has no normal yet; its
 * signals are then judged against the fixed bars of congestion-signals.ts alone.
 */
import type { PortSample } from '../core/records.js';
import { medianInPlace } from './baseline.js';

/** History a normal level is learned from: 20 s before the stall (200 samples at 100 ms). */
export const NORMAL_LOOKBACK_MS = 20_000;
/** Samples needed before a port has a learned normal. */
export const NORMAL_MIN_SAMPLES = 10;
/** A signal deviates when above normal by this many robust deviations (MAD × 1.4826 ≈ σ)... */
export const NORMAL_DEVIATION_K = 6;
/** ...and by this factor of its normal median, so a port that is always busy needs a real jump. */
export const NORMAL_RATIO = 3;

export interface SignalNormal {
  median: number;
  mad: number;
}

export interface PortNormal {
  samples: number;
  ecn_per_s: SignalNormal;
  /** Share of the interval the port sat paused by its peer. */
  rx_paused_share: SignalNormal;
  pfc_tx_per_s: SignalNormal;
  queue_bytes: SignalNormal;
  tx_bytes_per_s: SignalNormal;
}

/** Normal levels from a port's samples (any order); undefined with too little history. */
export function learnPortNormal(samples: readonly PortSample[]): PortNormal | undefined {
  let n = 0;
  for (const s of samples) if (s.interval_ms > 0) n++;
  if (n < NORMAL_MIN_SAMPLES) return undefined;
  // One pass into flat arrays, medians by selection: this runs per port on every stall's paths.
  const ecn = new Float64Array(n);
  const paused = new Float64Array(n);
  const pfcTx = new Float64Array(n);
  const queue = new Float64Array(n);
  const tx = new Float64Array(n);
  let i = 0;
  for (const s of samples) {
    if (!(s.interval_ms > 0)) continue;
    ecn[i] = (s.ecn_marked_pkts * 1000) / s.interval_ms;
    paused[i] = s.pfc_rx_pause_us / (s.interval_ms * 1000);
    pfcTx[i] = (s.pfc_tx_pause_frames * 1000) / s.interval_ms;
    queue[i] = s.queue_bytes;
    tx[i] = (s.tx_bytes * 1000) / s.interval_ms;
    i++;
  }
  const scratch = new Float64Array(n);
  const level = (values: Float64Array): SignalNormal => {
    const m = medianInPlace(values, n);
    for (let j = 0; j < n; j++) scratch[j] = Math.abs(values[j]! - m);
    return { median: m, mad: medianInPlace(scratch, n) };
  };
  return {
    samples: n,
    ecn_per_s: level(ecn),
    rx_paused_share: level(paused),
    pfc_tx_per_s: level(pfcTx),
    queue_bytes: level(queue),
    tx_bytes_per_s: level(tx),
  };
}

/** The level above which a value deviates from its normal (Infinity-free: 0 normal → floor only). */
export function deviationBar(normal: SignalNormal | undefined, floor: number): number {
  if (!normal) return floor;
  return Math.max(floor, normal.median + NORMAL_DEVIATION_K * 1.4826 * normal.mad, NORMAL_RATIO * normal.median);
}
