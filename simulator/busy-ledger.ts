/**
 * The stretches each GPU was busy that no GPU sample has fully counted yet, in time order. Kept
 * in flat typed arrays, two numbers a stretch: every collective adds two stretches per GPU that
 * live until the next sample (a second at 1,024 GPUs is ~70,000 of them), and as objects they
 * would survive scavenges and cost the garbage collector more than the simulation.
 */
export class BusyLedger {
  private readonly fromUs: Float64Array[];
  private readonly toUs: Float64Array[];
  private readonly count: Int32Array;

  constructor(gpus: number) {
    this.fromUs = Array.from({ length: gpus }, () => new Float64Array(8));
    this.toUs = Array.from({ length: gpus }, () => new Float64Array(8));
    this.count = new Int32Array(gpus);
  }

  /**
   * GPU i was busy during [fromUs, toUs); toUs is Infinity while a collective is in progress.
   * A stretch closes the open one (always the last: stretches come in time order) or is added.
   */
  mark(i: number, fromUs: number, toUs: number): void {
    if (!(toUs > fromUs)) return;
    const n = this.count[i]!;
    const to = this.toUs[i]!;
    if (n > 0 && to[n - 1] === Infinity) {
      to[n - 1] = toUs;
      return;
    }
    if (n === to.length) this.grow(i);
    this.fromUs[i]![n] = fromUs;
    this.toUs[i]![n] = toUs;
    this.count[i] = n + 1;
  }

  /** Busy µs of GPU i inside [from, to); forgets stretches that ended by `to`. */
  take(i: number, from: number, to: number): number {
    const starts = this.fromUs[i]!;
    const ends = this.toUs[i]!;
    const n = this.count[i]!;
    let total = 0;
    let kept = 0;
    for (let k = 0; k < n; k++) {
      const a = starts[k]!;
      const b = ends[k]!;
      total += Math.max(0, Math.min(b, to) - Math.max(a, from));
      if (b > to) {
        starts[kept] = Math.max(a, to);
        ends[kept] = b;
        kept++;
      }
    }
    this.count[i] = kept;
    return total;
  }

  private grow(i: number): void {
    const size = this.toUs[i]!.length * 2;
    const from = new Float64Array(size);
    from.set(this.fromUs[i]!);
    const to = new Float64Array(size);
    to.set(this.toUs[i]!);
    this.fromUs[i] = from;
    this.toUs[i] = to;
  }
}
