/**
 * The scale-up (NVLink/NVSwitch) link as a lossless credit-based link (fabric-modeling.md §4
 * "Credit-based flow control"): the receiver advertises a pool of credits per virtual channel,
 * each worth a fixed unit; a sender spends one per unit and stalls at zero until credits come
 * back one credit-loop time later. Sustained throughput is therefore
 * min(link rate, credits × unit / credit-loop time). NVLink internals are not public, so the
 * numbers are generic and sized so a healthy link is bounded by its wire rate, not its credits.
 */

export const CREDIT_DEFAULTS = {
  /** Credits advertised per link and VC. */
  creditsPerVc: 1024,
  /** Bytes per credit (one flit buffer). */
  unitBytes: 256,
  /** Credit loop: wire round trip plus the receiver's pipeline, µs. */
  loopUs: 0.5,
  /** Link-level replay: how often a healthy link replays a flit (per byte sent). */
  baseReplayPerByte: 0,
};

export interface CreditLinkState {
  /** Credits the receiver still advertises (a leak removes some). */
  credits: number;
  /** Credit loop time, µs (slow credit return lengthens it). */
  loopUs: number;
}

export const healthyCreditLink = (): CreditLinkState => ({ credits: CREDIT_DEFAULTS.creditsPerVc, loopUs: CREDIT_DEFAULTS.loopUs });

/**
 * The credit state under credit starvation of severity s: credits return (1 + 9s)× slower and
 * s/2 of the pool leaks, so at s = 0.8 the link sustains about 1/15 of the credit bound.
 */
export function starvedCreditLink(severity: number): CreditLinkState {
  return {
    credits: Math.max(1, Math.round(CREDIT_DEFAULTS.creditsPerVc * (1 - severity / 2))),
    loopUs: CREDIT_DEFAULTS.loopUs * (1 + 9 * severity),
  };
}

/** Throughput the credits allow, bytes/µs. */
export const creditBoundBytesPerUs = (s: CreditLinkState): number => (s.credits * CREDIT_DEFAULTS.unitBytes) / s.loopUs;

/**
 * Link-level replays per byte sent while starving: credits that return late are re-synchronised
 * and the flits in flight replayed; grows with the severity.
 */
export const replaysPerByte = (severity: number): number => (severity > 0 ? (severity * 4) / (1 << 20) : CREDIT_DEFAULTS.baseReplayPerByte);
