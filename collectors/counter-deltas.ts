/**
 * Turns cumulative counters into per-interval deltas, one state per series. Devices report
 * counters cumulatively (OTLP cumulative sums, Cumulus gauges that hold counters, DCGM
 * totals), while the canonical records carry "what happened during this interval".
 *
 * Rules, per series:
 * - first sample: delta 0, interval 0 (nothing to compare with);
 * - value dropped, or the series' start time moved forward: the counter was reset or the
 *   device restarted, so everything counted since then is the new value itself;
 * - a sample not newer than the last one (a retry, a duplicate export, out of order) is
 *   stale: it yields no delta and leaves the state alone.
 *
 * Updates go through a transaction so a caller can compute a whole payload's deltas and
 * keep them only once the payload is safely published (a rejected payload that the sender
 * retries must not find its own values already consumed).
 */

export interface CounterPoint {
  value: number;
  ts_ms: number;
  /** When the counter started counting (OTLP startTimeUnixNano), if the source tells. */
  start_ms?: number;
}

export interface CounterDelta {
  delta: number;
  interval_ms: number;
  /** Why the delta is the raw value rather than a difference. */
  reset: boolean;
}

/**
 * One series' state. Callers on a hot path (the port normaliser) keep a reference to it and
 * observe through it, sparing the map lookup per point; `removed` tells them it was evicted.
 */
export interface SeriesState {
  readonly key: string;
  last?: CounterPoint;
  removed: boolean;
  /** The transaction observing it right now, and its newest point (valid while that transaction observes). */
  tx?: CounterTransaction;
  pending?: CounterPoint;
}

export class CounterDeltas {
  private readonly series = new Map<string, SeriesState>();

  /** Number of series with state. */
  get size(): number {
    return this.series.size;
  }

  /** The state of a series, created empty if new. */
  state(key: string): SeriesState {
    let st = this.series.get(key);
    if (st === undefined) {
      st = { key, removed: false };
      this.series.set(key, st);
    }
    return st;
  }

  /** Forgets every series whose last sample is older than `beforeMs` (bounded memory). */
  evictOlderThan(beforeMs: number): number {
    return this.evictWhere((_key, st) => st.last !== undefined && st.last.ts_ms < beforeMs);
  }

  /** Forgets every series whose key matches (e.g. all series of a port that went away). */
  evictWhere(match: (key: string, state: SeriesState) => boolean): number {
    let n = 0;
    for (const [key, st] of this.series) {
      if (match(key, st)) {
        this.series.delete(key);
        st.removed = true;
        n++;
      }
    }
    return n;
  }

  /** Puts an evicted series' state back (a transaction committed to it after the eviction). */
  restore(st: SeriesState): void {
    if (!st.removed) return;
    const cur = this.series.get(st.key);
    if (cur === undefined) {
      st.removed = false;
      this.series.set(st.key, st);
    } else if (st.last !== undefined && (cur.last === undefined || cur.last.ts_ms < st.last.ts_ms)) cur.last = st.last;
  }

  transaction(): CounterTransaction {
    return new CounterTransaction(this);
  }

  /** One-shot convenience: observe and commit at once. */
  observe(key: string, point: CounterPoint): CounterDelta | undefined {
    const tx = this.transaction();
    const d = tx.observe(key, point);
    tx.commit();
    return d;
  }
}

export class CounterTransaction {
  /** Series observed and their points, in order; kept only on commit. */
  private readonly touched: SeriesState[] = [];
  private readonly points: CounterPoint[] = [];

  constructor(private readonly deltas: CounterDeltas) {}

  /** The delta since the series' previous sample, or undefined when the sample is stale. */
  observe(key: string, point: CounterPoint): CounterDelta | undefined {
    return this.observeState(this.deltas.state(key), point);
  }

  /**
   * As observe, through a state reference. A transaction observes synchronously (one
   * payload), so a state's `tx`/`pending` are this transaction's while it does; other open
   * transactions keep their points in their own lists.
   */
  observeState(st: SeriesState, point: CounterPoint): CounterDelta | undefined {
    const delta = this.observeDelta(st, point);
    return Number.isNaN(delta) ? undefined : { delta, interval_ms: this.interval_ms, reset: this.reset };
  }

  /** Interval and reset of the last observeDelta. */
  interval_ms = 0;
  reset = false;

  /** As observeState without an object per point (hot path): the delta, NaN when stale. */
  observeDelta(st: SeriesState, point: CounterPoint): number {
    if (st.tx !== this) {
      // This transaction's view starts from the committed state.
      st.tx = this;
      st.pending = st.last;
    }
    const prev = st.pending;
    st.pending = point;
    if (prev === undefined) {
      this.touch(st, point);
      this.interval_ms = 0;
      this.reset = false;
      return 0;
    }
    if (point.ts_ms <= prev.ts_ms) {
      st.pending = prev;
      return NaN;
    }
    this.touch(st, point);
    this.interval_ms = point.ts_ms - prev.ts_ms;
    const restarted = point.start_ms !== undefined && prev.start_ms !== undefined && point.start_ms > prev.start_ms;
    this.reset = restarted || point.value < prev.value;
    return this.reset ? point.value : point.value - prev.value;
  }

  private touch(st: SeriesState, point: CounterPoint): void {
    this.touched.push(st);
    this.points.push(point);
  }

  /** Keeps the observed points. A concurrent newer commit for a series wins. */
  commit(): void {
    for (let i = 0; i < this.touched.length; i++) {
      const st = this.touched[i]!;
      const p = this.points[i]!;
      if (st.last === undefined || st.last.ts_ms < p.ts_ms) st.last = p;
      if (st.tx === this) {
        st.tx = undefined;
        st.pending = undefined;
      }
      if (st.removed) this.deltas.restore(st);
    }
    this.touched.length = 0;
    this.points.length = 0;
  }
}
