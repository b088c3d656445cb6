/**
 * DCQCN at the sender (reaction point), as NVIDIA ConnectX NICs run it (fabric-modeling.md §1.1
 * state machine with the §1.3 firmware defaults), advanced in closed form over one control
 * interval instead of per packet: the fabric integrates each port's marking probability exactly
 * (queues are linear between events), and this turns the interval's average into expected CNPs,
 * α updates, rate cuts and rate-increase events (timer and byte counter).
 */

/** NVIDIA NIC defaults (DOCA "DCQCN CC Parameters" and mlxconfig RPG_* values). */
export const DCQCN_NVIDIA_DEFAULTS = {
  /** α EWMA gain per α period: dce_tcp_g = 1019/1024 keeps 1019/1024 of α. */
  alphaGain: 5 / 1024,
  /** dce_tcp_rtt: α update period, µs. */
  alphaPeriodUs: 1,
  /** initial_alpha_value 1023/1024. */
  initialAlpha: 1023 / 1024,
  /** rate_reduce_monitor_period: at most one cut per this many µs, µs. */
  decreasePeriodUs: 4,
  /** min_time_between_cnps at the notification point, µs. */
  cnpSpacingUs: 4,
  /** rpg_min_dec_fac: one cut keeps at least this fraction of the rate. */
  minDecreaseFactor: 0.5,
  /** rpg_time_reset: rate-increase timer, µs. */
  increaseTimerUs: 300,
  /** rpg_byte_reset: rate-increase byte counter, bytes. */
  increaseBytes: 32767,
  /** rpg_threshold (F): increase events of fast recovery before additive increase. */
  fastRecoveryEvents: 1,
  /** rpg_ai_rate / rpg_hai_rate / rpg_min_rate in bytes per µs (5 Mb/s, 50 Mb/s, 1 Mb/s). */
  aiBytesPerUs: 5e6 / 8 / 1e6,
  haiBytesPerUs: 50e6 / 8 / 1e6,
  minRateBytesPerUs: 1e6 / 8 / 1e6,
  mtuBytes: 4096,
} as const;

export type DcqcnParams = typeof DCQCN_NVIDIA_DEFAULTS;

export interface DcqcnState {
  /** Current and target rate, bytes/µs. */
  rate: number;
  target: number;
  alpha: number;
  /** Rate-increase events since the last cut, by timer and by byte counter. */
  timerStage: number;
  byteStage: number;
  timerAccUs: number;
  byteAcc: number;
  /** True from the first CNP until the rate is back at line rate. */
  active: boolean;
}

export function newDcqcnState(lineRate: number): DcqcnState {
  return { rate: lineRate, target: lineRate, alpha: 0, timerStage: 0, byteStage: 0, timerAccUs: 0, byteAcc: 0, active: false };
}

/** Rate cuts applied per control interval at most (see advanceDcqcn). */
const CUTS_PER_INTERVAL = 2;

/** At most this many increase events are replayed per interval (each halves the gap to target). */
const MAX_INCREASE_EVENTS = 64;

/**
 * Advances one sender over `dtUs` during which its path marked with average probability `markProb`
 * while it sent `sentBytes`. Returns true while congestion control still limits the sender.
 */
export function advanceDcqcn(s: DcqcnState, lineRate: number, markProb: number, sentBytes: number, dtUs: number, p: DcqcnParams = DCQCN_NVIDIA_DEFAULTS): boolean {
  if (markProb > 0 && sentBytes > 0) {
    // Packets per CNP window; the receiver NIC answers a marked window with one CNP.
    const pkts = Math.max(1, (sentBytes / dtUs) * p.cnpSpacingUs / p.mtuBytes);
    const cnpPerWindow = 1 - Math.pow(1 - Math.min(1, markProb), pkts);
    if (!s.active) {
      s.active = true;
      s.alpha = p.initialAlpha;
      s.target = s.rate;
    }
    // α: EWMA over 1 µs periods, a CNP lands in a period with probability cnpPerWindow / 4.
    const periods = dtUs / p.alphaPeriodUs;
    const keep = Math.pow(1 - p.alphaGain, periods);
    const cnpShare = (cnpPerWindow * p.alphaPeriodUs) / p.cnpSpacingUs;
    const alpha0 = s.alpha;
    s.alpha = alpha0 * keep + cnpShare * (1 - keep);
    const meanAlpha = (alpha0 + s.alpha) / 2;
    // The marks were measured over the whole interval, but the queue answers a cut within about
    // one feedback delay: counting a cut for every 4 µs window would punish the sender again for
    // marks its first cuts already removed, so at most CUTS_PER_INTERVAL cuts apply per interval.
    const cuts = Math.min(CUTS_PER_INTERVAL, (dtUs / p.decreasePeriodUs) * cnpPerWindow);
    if (cuts > 0) {
      s.target = s.rate;
      const factor = Math.max(p.minDecreaseFactor, 1 - meanAlpha / 2);
      s.rate = Math.max(p.minRateBytesPerUs, s.rate * Math.pow(factor, cuts));
      s.timerStage = 0;
      s.byteStage = 0;
      s.timerAccUs = 0;
      s.byteAcc = 0;
    }
    return true;
  }
  if (!s.active) return false;
  s.alpha *= Math.pow(1 - p.alphaGain, dtUs / p.alphaPeriodUs);
  s.timerAccUs += dtUs;
  s.byteAcc += sentBytes;
  let events = 0;
  while (events < MAX_INCREASE_EVENTS && (s.timerAccUs >= p.increaseTimerUs || s.byteAcc >= p.increaseBytes)) {
    if (s.timerAccUs >= p.increaseTimerUs) {
      s.timerAccUs -= p.increaseTimerUs;
      s.timerStage++;
    } else {
      s.byteAcc -= p.increaseBytes;
      s.byteStage++;
    }
    events++;
    const F = p.fastRecoveryEvents;
    if (Math.max(s.timerStage, s.byteStage) < F) {
      // fast recovery: only halve the gap to the target
    } else if (Math.min(s.timerStage, s.byteStage) > F) s.target += p.haiBytesPerUs;
    else s.target += p.aiBytesPerUs;
    s.target = Math.min(lineRate, s.target);
    s.rate = (s.rate + s.target) / 2;
  }
  // Leftover byte-counter events are dropped rather than queued: they would all be AI steps.
  if (events === MAX_INCREASE_EVENTS) s.byteAcc = Math.min(s.byteAcc, p.increaseBytes);
  if (s.rate >= lineRate * 0.999 && s.alpha < 0.01) {
    s.rate = lineRate;
    s.target = lineRate;
    s.active = false;
  }
  return s.active;
}
