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
import { median } from './baseline.js';

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
  const rated = samples.filter((s) => s.interval_ms > 0);
  if (rated.length < NORMAL_MIN_SAMPLES) return undefined;
  const level = (values: number[]): SignalNormal => {
    const m = median(values) ?? 0;
    return { median: m, mad: median(values.map((v) => Math.abs(v - m))) ?? 0 };
  };
  return {
    samples: rated.length,
    ecn_per_s: level(rated.map((s) => (s.ecn_marked_pkts * 1000) / s.interval_ms)),
    rx_paused_share: level(rated.map((s) => s.pfc_rx_pause_us / (s.interval_ms * 1000))),
    pfc_tx_per_s: level(rated.map((s) => (s.pfc_tx_pause_frames * 1000) / s.interval_ms)),
    queue_bytes: level(rated.map((s) => s.queue_bytes)),
    tx_bytes_per_s: level(rated.map((s) => (s.tx_bytes * 1000) / s.interval_ms)),
  };
}

/** The level above which a value deviates from its normal (Infinity-free: 0 normal → floor only). */
export function deviationBar(normal: SignalNormal | undefined, floor: number): number {
  if (!normal) return floor;
  return Math.max(floor, normal.median + NORMAL_DEVIATION_K * 1.4826 * normal.mad, NORMAL_RATIO * normal.median);
}
