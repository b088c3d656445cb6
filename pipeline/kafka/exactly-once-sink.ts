/**
 * The sink stage on Kafka: every topic, shared consumer group `sink`, one store insert per
 * delivery with the delivery's id as the insert deduplication token. Unlike the embedded
 * sink it never gives up on a batch: a write that fails is thrown back to the bus, which
 * does not commit, seeks back and delivers the same range again (same token) after a pause.
 * So a crash anywhere — before the insert, after ClickHouse committed it but before the
 * offset commit, during a rebalance — ends with each row stored once. Several sink processes
 * may share one ClickHouse server: tokens depend on the Kafka range only, not on the process.
 */
import type { Bus, Delivery, Subscription } from '../../core/bus.js';
import type { Logger } from '../../core/log.js';
import { TOPICS, storedOf, type Topic, type TopicRecords } from '../../core/records.js';
import type { Store } from '../../core/store.js';
import { SINK_GROUP, type SinkStats } from '../sink.js';

export class ExactlyOnceSink {
  private readonly subs: Subscription[] = [];
  private readonly written = zeroes();
  /** Stays zero: this sink never gives up on a batch. */
  private readonly failed = zeroes();
  private retries = 0;

  constructor(
    private readonly bus: Bus,
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  start(): void {
    for (const topic of TOPICS) {
      this.subs.push(this.bus.subscribe(topic, SINK_GROUP, (rows, delivery) => this.write(topic, rows, delivery)));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.subs.splice(0).map((s) => s.close()));
  }

  stats(): SinkStats {
    return { written: { ...this.written }, failed: { ...this.failed }, retries: this.retries };
  }

  private async write<T extends Topic>(topic: T, records: TopicRecords[T][], delivery?: Delivery): Promise<void> {
    const rows = storedOf(topic, records);
    if (rows.length === 0) return; // progress markers only: nothing to store, the range is done
    try {
      await this.store.insert(topic, rows, { dedup_token: delivery?.id });
      this.written[topic] += rows.length;
    } catch (e) {
      this.retries++;
      this.logger.warn('sink write failed; the bus will deliver it again', { topic, rows: rows.length, delivery: delivery?.id, error: (e as Error).message });
      throw e;
    }
  }
}

function zeroes(): Record<Topic, number> {
  return Object.fromEntries(TOPICS.map((t) => [t, 0])) as Record<Topic, number>;
}
