/**
 * The sink: every topic, consumer group `sink`, written through the Store seam in batches.
 * A failed write is retried with exponential back-off a bounded number of times (the store's
 * inserts are idempotent for stalls, episodes and alerts, so a retry cannot duplicate them);
 * then the batch is counted as failed and logged, and the stream goes on.
 */
import type { Bus, Subscription } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import { TOPICS, storedOf, type StoredRecords, type Topic, type TopicRecords } from '../core/records.js';
import type { Store } from '../core/store.js';

export const SINK_GROUP = 'sink';

/** The high-volume topics, whose rows may wait briefly to be written in larger inserts. */
const TELEMETRY_TOPICS: ReadonlySet<Topic> = new Set(['port_samples', 'gpu_samples', 'collective_events']);

export interface SinkOptions {
  /** Attempts per batch, the first included. */
  maxAttempts?: number;
  /** First back-off; doubles per attempt up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Rows per insert call. */
  maxRows?: number;
  /**
   * How long telemetry rows gather before one insert. ClickHouse makes a part per insert (and
   * one per rollup view) and merges them later, so fewer, larger inserts cost far less CPU.
   * Stalls, episodes and alerts are written at once: people wait on them.
   */
  telemetryLingerMs?: number;
}

export interface SinkStats {
  written: Record<Topic, number>;
  failed: Record<Topic, number>;
  retries: number;
}

export class Sink {
  private readonly subs: Subscription[] = [];
  private readonly written = zeroes();
  private readonly failed = zeroes();
  private retries = 0;
  private readonly opts: Required<SinkOptions>;

  constructor(
    private readonly bus: Bus,
    private readonly store: Store,
    private readonly logger: Logger,
    options: SinkOptions = {},
  ) {
    this.opts = { maxAttempts: 5, backoffMs: 100, maxBackoffMs: 2_000, maxRows: 10_000, telemetryLingerMs: 0, ...options };
  }

  start(): void {
    for (const topic of TOPICS) {
      const lingerMs = TELEMETRY_TOPICS.has(topic) ? this.opts.telemetryLingerMs : 0;
      this.subs.push(this.bus.subscribe(topic, SINK_GROUP, (batch) => this.write(topic, batch), { lingerMs }));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.subs.splice(0).map((s) => s.close()));
  }

  stats(): SinkStats {
    return { written: { ...this.written }, failed: { ...this.failed }, retries: this.retries };
  }

  private async write<T extends Topic>(topic: T, records: TopicRecords[T][]): Promise<void> {
    const rows = storedOf(topic, records);
    for (let i = 0; i < rows.length; i += this.opts.maxRows) {
      const chunk = rows.slice(i, i + this.opts.maxRows);
      await this.writeChunk(topic, chunk);
    }
  }

  private async writeChunk<T extends Topic>(topic: T, rows: StoredRecords[T][]): Promise<void> {
    let delay = this.opts.backoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.insert(topic, rows);
        this.written[topic] += rows.length;
        return;
      } catch (e) {
        if (attempt >= this.opts.maxAttempts) {
          this.failed[topic] += rows.length;
          this.logger.error('sink gave up on a batch', { topic, rows: rows.length, attempts: attempt, error: (e as Error).message });
          return;
        }
        this.retries++;
        this.logger.warn('sink write failed; retrying', { topic, rows: rows.length, attempt, retry_in_ms: delay, error: (e as Error).message });
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, this.opts.maxBackoffMs);
      }
    }
  }
}

function zeroes(): Record<Topic, number> {
  return Object.fromEntries(TOPICS.map((t) => [t, 0])) as Record<Topic, number>;
}
