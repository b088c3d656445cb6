/**
 * Event-time watermarks. Each source (a switch, a GPU, a rank's NCCL file) advances on its own;
 * a stream's watermark is the minimum over its sources of the latest timestamp each has shown,
 * so once it passes t every live source has sent everything up to t (sources are in order).
 *
 * Idle sources: a source whose latest timestamp trails the newest one seen on the stream by
 * more than `idleTimeoutMs` (event time, never wall time) is left out of the minimum, so a dead
 * switch or a finished rank does not hold the whole stream back. It rejoins when it speaks again.
 * A source is taken for idle only when the stream's subscription has nothing waiting
 * (`idleAllowed`): a partition being replayed or lagging behind the others is waited for, so
 * the decisions do not depend on how fast each partition was read.
 *
 * Expected sources: sources named up front (the topology's switches and GPUs) hold the watermark
 * back before they first speak, so a source whose partition is read after the others' is not
 * judged late for being read late; one that never speaks is left out like an idle one.
 *
 * Late-data policy: a record older than the current watermark is "late". Late records are still
 * counted and stored (the sink sees every record), but analysis decisions already taken at that
 * watermark (closed episodes, decided calls, published stalls) are never revised.
 */

export interface WatermarkOptions {
  /** Event-time lag after which a silent source stops holding the watermark back. */
  idleTimeoutMs: number;
  /** Whether silence may be taken for idleness now (nothing of the stream waits to be read); always, when absent. */
  idleAllowed?: () => boolean;
}

export class Watermark {
  private readonly latest = new Map<string, number>();
  private newest = Number.NEGATIVE_INFINITY;
  /** Never moves backwards, even when an idle source rejoins behind it. */
  private floor = Number.NEGATIVE_INFINITY;
  private lateCount = 0;

  constructor(private readonly options: WatermarkOptions) {}

  /** Names sources known to exist before any of them speaks (see the class comment). */
  expect(sources: Iterable<string>): void {
    for (const source of sources) if (!this.latest.has(source)) this.latest.set(source, Number.NEGATIVE_INFINITY);
  }

  /**
   * Records that `source` produced a record at `ts`. Returns true when the record is late,
   * i.e. older than the watermark before it arrived.
   */
  observe(source: string, ts: number): boolean {
    const late = ts < this.floor;
    if (late) this.lateCount++;
    const prev = this.latest.get(source);
    if (prev === undefined || ts > prev) this.latest.set(source, ts);
    if (ts > this.newest) this.newest = ts;
    return late;
  }

  /** The stream's watermark; -Infinity until some source has spoken. */
  current(): number {
    const cutoff = this.newest - this.options.idleTimeoutMs;
    let min = Number.POSITIVE_INFINITY;
    let minLive = Number.POSITIVE_INFINITY;
    for (const ts of this.latest.values()) {
      if (ts < min) min = ts;
      if (ts >= cutoff && ts < minLive) minLive = ts;
    }
    // Idle sources are left out only when the bus has nothing of the stream waiting (asked
    // only then: most of the time nobody is that far behind).
    if (min < cutoff && this.idleAllowed()) min = minLive;
    if (min !== Number.POSITIVE_INFINITY && min > this.floor) this.floor = min;
    return this.floor;
  }

  /** The newest timestamp any source has shown; -Infinity before the first record. */
  get newestSeen(): number {
    return this.newest;
  }

  /** Whether any source has ever been seen on this stream (expected sources do not count). */
  get seen(): boolean {
    return this.newest !== Number.NEGATIVE_INFINITY;
  }

  get late(): number {
    return this.lateCount;
  }

  get sources(): number {
    return this.latest.size;
  }

  /** Sources currently left out of the minimum because they went quiet. */
  idleSources(): string[] {
    const cutoff = this.newest - this.options.idleTimeoutMs;
    if (!this.idleAllowed()) return [];
    return [...this.latest].filter(([, ts]) => ts < cutoff).map(([s]) => s);
  }

  private idleAllowed(): boolean {
    return this.options.idleAllowed?.() ?? true;
  }
}
