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

export class CounterDeltas {
  private readonly last = new Map<string, CounterPoint>();

  /** Number of series with state. */
  get size(): number {
    return this.last.size;
  }

  /** Forgets every series whose last sample is older than `beforeMs` (bounded memory). */
  evictOlderThan(beforeMs: number): number {
    let n = 0;
    for (const [key, p] of this.last) {
      if (p.ts_ms < beforeMs) {
        this.last.delete(key);
        n++;
      }
    }
    return n;
  }

  /** Forgets every series whose key matches (e.g. all series of a port that went away). */
  evictWhere(match: (key: string) => boolean): number {
    let n = 0;
    for (const key of this.last.keys()) {
      if (match(key)) {
        this.last.delete(key);
        n++;
      }
    }
    return n;
  }

  transaction(): CounterTransaction {
    return new CounterTransaction(this.last);
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
  private readonly pending = new Map<string, CounterPoint>();

  constructor(private readonly base: Map<string, CounterPoint>) {}

  /** The delta since the series' previous sample, or undefined when the sample is stale. */
  observe(key: string, point: CounterPoint): CounterDelta | undefined {
    const prev = this.pending.get(key) ?? this.base.get(key);
    if (prev === undefined) {
      this.pending.set(key, point);
      return { delta: 0, interval_ms: 0, reset: false };
    }
    if (point.ts_ms <= prev.ts_ms) return undefined;
    this.pending.set(key, point);
    const interval_ms = point.ts_ms - prev.ts_ms;
    const restarted = point.start_ms !== undefined && prev.start_ms !== undefined && point.start_ms > prev.start_ms;
    if (restarted || point.value < prev.value) return { delta: point.value, interval_ms, reset: true };
    return { delta: point.value - prev.value, interval_ms, reset: false };
  }

  /** Keeps the observed points. A concurrent newer commit for a series wins. */
  commit(): void {
    for (const [key, p] of this.pending) {
      const cur = this.base.get(key);
      if (cur === undefined || cur.ts_ms < p.ts_ms) this.base.set(key, p);
    }
    this.pending.clear();
  }
}
