/**
 * DCQCN at the sender (reaction point): the Mellanox state machine of fabric-modeling.md §1.1
 * (HPCC's `rdma-hw.cc`, which follows ConnectX-4+) with the §1.3 NVIDIA firmware defaults,
 * advanced in closed form over one control interval instead of per packet: the fabric integrates
 * each port's marking probability exactly (queues are linear between events), and this turns the
 * interval's average into expected CNPs, α updates, rate cuts and timer increases.
 *
 * Rate increases come from the 300 µs timer only. The §1.1 model has no byte counter, and the
 * firmware's rpg_byte_reset 32767 is the 15-bit field's maximum: at 400G a 32 KB counter would
 * refill in 0.65 µs and return a sender to its target between two 4 µs decrease checks, so no
 * incast would ever be controlled (a per-packet replay of that variant lets the queue grow
 * without bound), which is not what ConnectX NICs do.
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
  /** rpg_threshold (F): timer stages of fast recovery before additive increase. */
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
  /** Timer increases since the last cut (the stage: fast recovery, additive, hyper increase). */
  timerStage: number;
  /** µs since the last cut or timer increase. */
  timerAccUs: number;
  /** True from the first CNP until the rate is back at line rate. */
  active: boolean;
}

export function newDcqcnState(lineRate: number): DcqcnState {
  return { rate: lineRate, target: lineRate, alpha: 0, timerStage: 0, timerAccUs: 0, active: false };
}

/**
 * (1 − g)^(dt / period) for the last few interval lengths: updates come on a handful of fixed
 * intervals, and the power is the costliest step of an update. One update advances every sender
 * over the same interval, so the last one is checked before the map.
 */
const decayCache = new Map<number, number>();
let lastDecayDtUs = NaN;
let lastDecay = 1;
function alphaDecay(dtUs: number, p: DcqcnParams): number {
  if (p !== DCQCN_NVIDIA_DEFAULTS) return Math.pow(1 - p.alphaGain, dtUs / p.alphaPeriodUs);
  if (dtUs === lastDecayDtUs) return lastDecay;
  let k = decayCache.get(dtUs);
  if (k === undefined) {
    k = Math.pow(1 - p.alphaGain, dtUs / p.alphaPeriodUs);
    if (decayCache.size > 64) decayCache.clear();
    decayCache.set(dtUs, k);
  }
  lastDecayDtUs = dtUs;
  lastDecay = k;
  return k;
}

/**
 * Math.pow remembering its last arguments, one per call site: senders that share a path and a
 * history (an incast's senders, a tree level's flows) come in a row with the same inputs, and the
 * powers are most of an update's cost. The result is Math.pow's own, bit for bit.
 */
class LastPow {
  private base = NaN;
  private exponent = NaN;
  private result = NaN;
  of(base: number, exponent: number): number {
    if (base !== this.base || exponent !== this.exponent) {
      this.base = base;
      this.exponent = exponent;
      this.result = Math.pow(base, exponent);
    }
    return this.result;
  }
}
const cnpPow = new LastPow();
const cutPow = new LastPow();
const noCutPow = new LastPow();

/** Timer increases due in the time accrued; the stage is read before it advances (rdma-hw.cc). */
function timerIncreases(s: DcqcnState, lineRate: number, p: DcqcnParams): void {
  while (s.timerAccUs >= p.increaseTimerUs) {
    s.timerAccUs -= p.increaseTimerUs;
    if (s.timerStage > p.fastRecoveryEvents) s.target += p.haiBytesPerUs;
    else if (s.timerStage === p.fastRecoveryEvents) s.target += p.aiBytesPerUs;
    // below F: fast recovery, the rate only halves its gap to the target
    s.target = Math.min(lineRate, s.target);
    s.rate = (s.rate + s.target) / 2;
    s.timerStage++;
  }
}

/**
 * Advances one sender over `dtUs` during which its path marked with average probability `markProb`
 * while it sent `sentBytes`. Returns true while congestion control still limits the sender.
 */
export function advanceDcqcn(s: DcqcnState, lineRate: number, markProb: number, sentBytes: number, dtUs: number, p: DcqcnParams = DCQCN_NVIDIA_DEFAULTS): boolean {
  if (markProb > 0 && sentBytes > 0) {
    // Packets per CNP window; the receiver NIC answers a marked window with one CNP.
    const pkts = Math.max(1, (sentBytes / dtUs) * p.cnpSpacingUs / p.mtuBytes);
    const cnpPerWindow = 1 - cnpPow.of(1 - Math.min(1, markProb), pkts);
    if (!s.active) {
      s.active = true;
      s.alpha = p.initialAlpha;
      s.target = s.rate;
      s.timerStage = 0;
      s.timerAccUs = 0;
    }
    // α: EWMA over 1 µs periods, a CNP lands in a period with probability cnpPerWindow / 4.
    const keep = alphaDecay(dtUs, p);
    const cnpShare = (cnpPerWindow * p.alphaPeriodUs) / p.cnpSpacingUs;
    const alpha0 = s.alpha;
    s.alpha = alpha0 * keep + cnpShare * (1 - keep);
    const meanAlpha = (alpha0 + s.alpha) / 2;
    // Expected cuts: one per decrease period that saw a CNP.
    const windows = dtUs / p.decreasePeriodUs;
    const cuts = windows * cnpPerWindow;
    // The target is clamped to the current rate only when a timer increase came since the last
    // cut (NVIDIA clamp_tgt_rate 0 / clamp_tgt_rate_after_time_inc 1): a run of cuts keeps the
    // rate from before the episode as the target, and recovery returns towards it.
    if (s.timerStage > 0) s.target = s.rate;
    const factor = Math.max(p.minDecreaseFactor, 1 - meanAlpha / 2);
    s.rate = Math.max(p.minRateBytesPerUs, s.rate * cutPow.of(factor, cuts));
    // The timer restarts at every cut: it runs on only if no window of the interval cut, and
    // otherwise holds the time since the last cut (about one gap between cuts, at most dt/2).
    const noCut = noCutPow.of(1 - cnpPerWindow, windows);
    const sinceCut = Math.min(dtUs / 2, p.decreasePeriodUs / cnpPerWindow);
    s.timerAccUs = noCut * (s.timerAccUs + dtUs) + (1 - noCut) * sinceCut;
    if (noCut < 0.5) s.timerStage = 0;
    timerIncreases(s, lineRate, p);
    return true;
  }
  if (!s.active) return false;
  s.alpha *= alphaDecay(dtUs, p);
  s.timerAccUs += dtUs;
  timerIncreases(s, lineRate, p);
  if (s.rate >= lineRate * 0.999 && s.alpha < 0.01) {
    s.rate = lineRate;
    s.target = lineRate;
    s.active = false;
  }
  return s.active;
}
