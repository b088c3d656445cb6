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

/**
 * (1 − g)^(dt / period) for the last few interval lengths: updates come on a handful of fixed
 * intervals, and the power is the costliest step of an update.
 */
const decayCache = new Map<number, number>();
function alphaDecay(dtUs: number, p: DcqcnParams): number {
  if (p !== DCQCN_NVIDIA_DEFAULTS) return Math.pow(1 - p.alphaGain, dtUs / p.alphaPeriodUs);
  let k = decayCache.get(dtUs);
  if (k === undefined) {
    k = Math.pow(1 - p.alphaGain, dtUs / p.alphaPeriodUs);
    if (decayCache.size > 64) decayCache.clear();
    decayCache.set(dtUs, k);
  }
  return k;
}

/**
 * Increase events replayed per µs at most (64 per 50 µs interval, the budget the per-interval
 * replay was tuned with), so longer update intervals recover as fast as shorter ones.
 */
const MAX_INCREASE_EVENTS_PER_US = 64 / 50;

/**
 * Applies `k` increase events that each raise the target by `delta` (capped at line rate) and
 * move the rate halfway to it, in closed form: with T_k = T_0 + kδ the recurrence
 * r_k = (r_{k−1} + T_k) / 2 solves to r_k = T_k − δ + (r_0 − T_0 + δ) / 2^k.
 */
/** 2^−k for whole k, from a table for the usual counts. */
const HALF_POWERS = Float64Array.from({ length: 257 }, (_, k) => Math.pow(2, -k));
const halfPow = (k: number): number => (k < HALF_POWERS.length ? HALF_POWERS[k]! : Math.pow(2, -k));

function applyIncreases(s: DcqcnState, k: number, delta: number, lineRate: number): void {
  if (k <= 0) return;
  const untilCap = delta > 0 ? Math.max(0, Math.floor((lineRate - s.target) / delta)) : k;
  const m = Math.min(k, untilCap);
  if (m > 0) {
    const c = s.rate - s.target + delta;
    s.target += m * delta;
    s.rate = s.target - delta + c * halfPow(m);
  }
  const rest = k - m;
  if (rest > 0) {
    // Target pinned at line rate: the gap halves with every further event.
    s.target = lineRate;
    s.rate = lineRate - (lineRate - s.rate) * halfPow(rest);
  }
}

/** One rate-increase event: fast recovery, additive or hyper increase by the stages reached. */
function increaseStep(s: DcqcnState, lineRate: number, p: DcqcnParams): void {
  const F = p.fastRecoveryEvents;
  if (Math.max(s.timerStage, s.byteStage) < F) {
    // fast recovery: only halve the gap to the target
  } else if (Math.min(s.timerStage, s.byteStage) > F) s.target += p.haiBytesPerUs;
  else s.target += p.aiBytesPerUs;
  s.target = Math.min(lineRate, s.target);
  s.rate = (s.rate + s.target) / 2;
}

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
    const keep = alphaDecay(dtUs, p);
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
  s.alpha *= alphaDecay(dtUs, p);
  s.timerAccUs += dtUs;
  s.byteAcc += sentBytes;
  const budget = Math.ceil(MAX_INCREASE_EVENTS_PER_US * dtUs);
  let events = 0;
  const F = p.fastRecoveryEvents;
  // Timer events first (rare), then byte-counter events; once the stage no longer changes the
  // kind of step (fast recovery, AI, hyper increase), the rest are applied in closed form.
  while (events < budget && s.timerAccUs >= p.increaseTimerUs) {
    s.timerAccUs -= p.increaseTimerUs;
    s.timerStage++;
    increaseStep(s, lineRate, p);
    events++;
  }
  let byteEvents = Math.min(budget - events, Math.floor(s.byteAcc / p.increaseBytes));
  s.byteAcc -= byteEvents * p.increaseBytes;
  while (byteEvents > 0 && s.byteStage <= F) {
    s.byteStage++;
    increaseStep(s, lineRate, p);
    events++;
    byteEvents--;
  }
  if (byteEvents > 0) {
    // Past fast recovery on the byte counter: hyper increase once the timer is too, else AI.
    s.byteStage += byteEvents;
    events += byteEvents;
    applyIncreases(s, byteEvents, s.timerStage > F ? p.haiBytesPerUs : p.aiBytesPerUs, lineRate);
  }
  // Leftover events beyond the budget are dropped rather than queued: they would all be AI steps.
  if (events >= budget) {
    s.byteAcc = Math.min(s.byteAcc, p.increaseBytes);
    s.timerAccUs = Math.min(s.timerAccUs, p.increaseTimerUs);
  }
  if (s.rate >= lineRate * 0.999 && s.alpha < 0.01) {
    s.rate = lineRate;
    s.target = lineRate;
    s.active = false;
  }
  return s.active;
}
