/**
 * The arithmetic every figure goes through: medians of repeated runs and ratios of two figures
 * measured in the same run. Pure, so test/bench can check it.
 */

/** Median of the finite values; undefined when there are none (a figure that was not measured). */
export function median(values: readonly number[]): number | undefined {
  const xs = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

/** a / b, or undefined when either is missing or b is not positive (no ratio is better than a fake one). */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return undefined;
  return a / b;
}

/** Cost normalised per million samples: the unit both Prometheus and fabricscope are compared in. */
export function perMillion(cost: number | undefined, samples: number | undefined): number | undefined {
  const r = ratio(cost, samples);
  return r === undefined ? undefined : r * 1e6;
}

/** Rounds to a few significant digits for the report (figures are noisy beyond that). */
export function roundSig(x: number | undefined, digits = 4): number | undefined {
  if (x === undefined || !Number.isFinite(x)) return undefined;
  if (x === 0) return 0;
  return Number(x.toPrecision(digits));
}
