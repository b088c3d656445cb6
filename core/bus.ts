/**
 * The bus seam. Collectors publish canonical records; pipeline stages subscribe as consumer
 * groups. Two implementations sit behind this interface: the in-process bus (embedded
 * default, pipeline/memory-bus.ts) and Kafka (scale-out). Parts depend on this file only.
 */
import type { Topic, TopicRecords } from './records.js';

/**
 * What a bus says about one delivery. `id` is deterministic: a re-delivery of the same records
 * (after a crash or a rebalance, on Kafka) has the same id, so a sink can use it as a storage
 * deduplication token. Buses that never re-deliver (the in-process one) give none.
 */
export interface Delivery {
  id: string;
}

export type BatchHandler<T extends Topic> = (batch: TopicRecords[T][], delivery?: Delivery) => Promise<void>;

export interface SubscribeOptions {
  /**
   * Gather records for up to this long before handing a batch over (unless a full batch is
   * waiting, or drain() is called). A storage writer uses it to make fewer, larger inserts.
   */
  lingerMs?: number;
}

export interface Subscription {
  /** Stops delivery to this subscriber; records it already accepted are still handled. */
  close(): Promise<void>;
  /**
   * Whether records for this subscriber may still be waiting beyond the batch in hand: queued,
   * not yet fetched, being replayed, or on partitions whose end it has not learned yet.
   * Event-time watermarks ask it before taking a silent source for idle: a source is idle
   * only when nothing of it can be waiting, so a lagging or replayed partition is waited for
   * instead of skipped, and a replay decides as the live run did.
   */
  hasBacklog(): boolean;
}

export interface BusStats {
  published: Record<Topic, number>;
  /** Records waiting for delivery, per topic and group. */
  lag: Record<string, number>;
}

export interface Bus {
  /**
   * Publishes records. Resolves once the bus has accepted them (durably, for Kafka).
   * Rejects with BackpressureError when the bus is full, so a collector can answer 429/503.
   */
  publish<T extends Topic>(topic: T, records: TopicRecords[T][]): Promise<void>;

  /**
   * Subscribes a consumer group. Within a group a record is handled once; batches are
   * delivered in publish order per topic, one at a time per group.
   */
  subscribe<T extends Topic>(topic: T, group: string, handler: BatchHandler<T>, options?: SubscribeOptions): Subscription;

  /** Resolves when every record published so far has been handled by every group. */
  drain(): Promise<void>;

  stats(): BusStats;

  close(): Promise<void>;
}
