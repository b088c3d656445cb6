/**
 * What makes one port sample "congested", shared by the episode tracker (which opens and
 * closes episodes on it) and the root-cause engine (which scores ports with the same yardstick).
 */
import type { PortSample } from '../core/records.js';

/**
 * Queue depth that counts as congested: the RoCE ECN marking floor (Kmin) commonly set on
 * 400G switches. Below it, a queue is ordinary burst absorption.
 */
export const QUEUE_CONGESTED_BYTES = 800_000;
/**
 * ECN marks per second that count: ~0.4% of a 400G port's packet rate at 4 KB MTU. Busy uplinks
 * mark 20-30k/s from ordinary microbursts (queue back under Kmin by the next sample), so the bar
 * sits above that; a congested port marks hundreds of thousands per second.
 */
export const ECN_MARKS_PER_S = 50_000;
/** PFC pauses a port sent per second that count: ~10 per 100 ms interval is sustained pressure. */
export const PFC_TX_FRAMES_PER_S = 100;
/** Share of the interval the port sat paused by its peer that counts. */
export const PFC_RX_PAUSED_SHARE = 0.1;
/**
 * Share of the interval a scale-up port had no credits that counts: 1%. Healthy credit-based
 * links return credits faster than data arrives and show none; a starved port shows several %.
 */
export const CREDIT_STALL_SHARE = 0.01;
/** Any CRC/FEC error in an interval counts: healthy links show none. */
export const LINK_ERRORS_MIN = 1;

export type CongestionSignal = 'queue' | 'ecn' | 'pfc_tx' | 'pfc_rx' | 'credit' | 'errors' | 'down';

/** The signals one sample shows. Rates need an interval; a series' first sample has none. */
export function signalsOf(s: PortSample): CongestionSignal[] {
  const out: CongestionSignal[] = [];
  if (s.queue_bytes >= QUEUE_CONGESTED_BYTES) out.push('queue');
  if (s.interval_ms > 0) {
    const perS = 1000 / s.interval_ms;
    const intervalUs = s.interval_ms * 1000;
    if (s.ecn_marked_pkts * perS >= ECN_MARKS_PER_S) out.push('ecn');
    if (s.pfc_tx_pause_frames * perS >= PFC_TX_FRAMES_PER_S) out.push('pfc_tx');
    if (s.pfc_rx_pause_us >= PFC_RX_PAUSED_SHARE * intervalUs) out.push('pfc_rx');
    if (s.credit_stall_us >= CREDIT_STALL_SHARE * intervalUs) out.push('credit');
  }
  if (s.link_errors >= LINK_ERRORS_MIN) out.push('errors');
  if (!s.oper_up) out.push('down');
  return out;
}
