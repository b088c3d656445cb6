/**
 * One bus subscription on Kafka: a kafkajs consumer in one group on one topic, handing
 * batches to the stage's handler one at a time, in partition order.
 *
 * Delivery is at-least-once with the commit after the handler: an offset is committed only
 * once the handler (the stage's downstream write or publish) has resolved. A handler that
 * throws leaves the offset where it was; the consumer seeks back and retries after a pause,
 * so a failing store holds the partition (lag grows) instead of losing records. Groups
 * placed as exactly-once add the intent protocol of delivery-intent.ts; groups that rebuild
 * state replay a partition they are newly given (stage-placement.ts).
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { BatchHandler } from '../../core/bus.js';
import type { Logger } from '../../core/log.js';
import type { Topic, TopicRecords } from '../../core/records.js';
import { cutRanges, decodeIntent, deliveryId, encodeIntent } from './delivery-intent.js';
import { PartitionWatermarks, type PartitionWatermarkStats } from './partition-watermarks.js';
import type { StagePlacement } from './stage-placement.js';
import type { TopicAdmin } from './topic-admin.js';
import { decodeRecord, eventTimeMs } from './topics.js';

export interface GroupConsumerOptions {
  topic: Topic;
  kafkaTopic: string;
  /** The bus-level group name (a pipeline stage). */
  group: string;
  /** The Kafka group id (prefixed; per process for per-process stages). */
  groupId: string;
  placement: StagePlacement;
  handler: BatchHandler<Topic>;
  maxBatch: number;
  /** Wall-time window replayed by stages that rebuild their state. */
  replayMs: number;
  sessionTimeoutMs: number;
  retryBackoffMs: number;
}

export interface GroupConsumerStats extends PartitionWatermarkStats {
  delivered: number;
  handler_failures: number;
  rebalances: number;
  lag: number;
  partitions: number[];
}

export class GroupConsumer {
  private readonly consumer: Consumer;
  private readonly watermarks = new PartitionWatermarks();
  /** Next offset to hand over, per partition, after what this process has handled. */
  private readonly positions = new Map<number, bigint>();
  private readonly lagByPartition = new Map<number, number>();
  private assigned: number[] = [];
  private readonly everOwned = new Set<number>();
  /** Partitions whose first batch must first be checked for a replay or an intent. */
  private readonly unchecked = new Set<number>();
  private delivered = 0;
  private failures = 0;
  private rebalances = 0;
  private started?: Promise<void>;
  private stopped = false;
  private running = 0;
  private idle: Array<() => void> = [];

  constructor(
    kafka: Kafka,
    private readonly admin: TopicAdmin,
    private readonly options: GroupConsumerOptions,
    private readonly logger: Logger,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 5)),
      rebalanceTimeout: options.sessionTimeoutMs * 2,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: true,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      this.rebalances++;
      const now = payload.memberAssignment[options.kafkaTopic] ?? [];
      const previous = new Set(this.assigned);
      this.assigned = [...now].sort((a, b) => a - b);
      for (const p of this.assigned) {
        // Exactly-once groups re-read intents on every partition after any rebalance: another
        // process may have left one while this one did not own the partition.
        if (options.placement.exactlyOnce || !previous.has(p)) this.unchecked.add(p);
      }
      this.watermarks.retain(this.assigned);
      for (const p of [...this.lagByPartition.keys()]) if (!this.assigned.includes(p)) this.lagByPartition.delete(p);
      this.logger.debug('group joined', { group: options.groupId, partitions: this.assigned });
    });
  }

  get groupName(): string {
    return this.options.groupId;
  }

  get topicName(): string {
    return this.options.kafkaTopic;
  }

  start(): Promise<void> {
    this.started ??= (async () => {
      await this.consumer.connect();
      await this.consumer.subscribe({ topic: this.options.kafkaTopic, fromBeginning: this.options.placement.start !== 'latest' });
      await this.consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => this.onBatch(payload),
      });
    })();
    return this.started;
  }

  /** Whether this process has handled everything below `ends` (for drain). */
  async caughtUp(ends: Map<number, bigint>): Promise<boolean> {
    if (this.running > 0) return false;
    const { placement } = this.options;
    if (placement.shared) {
      // Other processes may hold some partitions: the group's commits speak for all of them.
      const committed = await this.admin.committed(this.options.groupId, this.options.kafkaTopic);
      for (const [p, end] of ends) {
        if (end === 0n) continue;
        const c = committed.get(p)?.offset ?? -1n;
        if (c < end) return false;
      }
      return true;
    }
    for (const [p, end] of ends) {
      const at = this.positions.get(p);
      if (at === undefined) {
        if (placement.start === 'latest' || end === 0n) continue;
        return false;
      }
      if (at < end) return false;
    }
    return true;
  }

  stats(): GroupConsumerStats {
    let lag = 0;
    for (const l of this.lagByPartition.values()) lag += l;
    return {
      delivered: this.delivered,
      handler_failures: this.failures,
      rebalances: this.rebalances,
      lag,
      partitions: [...this.assigned],
      ...this.watermarks.stats(),
    };
  }

  /** Stops fetching; the batch in hand is finished (and committed) first. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.running > 0) await new Promise<void>((r) => this.idle.push(r));
    await this.started?.catch(() => undefined);
    await this.consumer.disconnect();
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (this.stopped || batch.isEmpty()) return;
    this.running++;
    try {
      await this.handleBatch(payload);
    } finally {
      this.running--;
      if (this.running === 0) for (const r of this.idle.splice(0)) r();
    }
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { partition } = batch;
    const { placement, kafkaTopic, groupId } = this.options;
    let intentThrough: bigint | undefined;
    if (this.unchecked.has(partition)) {
      this.unchecked.delete(partition);
      const first = BigInt(batch.firstOffset() ?? batch.messages[0]!.offset);
      const rebuild = placement.start === 'replay' || (placement.rebuildOnAssign && !this.everOwned.has(partition));
      this.everOwned.add(partition);
      if (rebuild) {
        const from = (await this.admin.offsetsSince(kafkaTopic, Date.now() - this.options.replayMs)).get(partition) ?? 0n;
        if (from < first) {
          this.logger.info('replaying partition to rebuild state', { group: groupId, partition, from: String(from), to: String(first) });
          this.consumer.seek({ topic: kafkaTopic, partition, offset: String(from) });
          return;
        }
      }
      if (placement.exactlyOnce) {
        const committed = (await this.admin.committed(groupId, kafkaTopic)).get(partition);
        if (committed && committed.offset === first) intentThrough = decodeIntent(committed.metadata) !== undefined ? BigInt(decodeIntent(committed.metadata)!) : undefined;
      }
    }

    const messages = batch.messages;
    const offsets = messages.map((m) => BigInt(m.offset));
    const spans = cutRanges(offsets, this.options.maxBatch, intentThrough);
    if (spans.length === 0) {
      // The previous owner's intended range is not all here yet: fetch it again from its start.
      this.unchecked.add(partition);
      this.consumer.seek({ topic: kafkaTopic, partition, offset: String(offsets[0]) });
      return;
    }
    for (const [from, to] of spans) {
      if (!isRunning() || isStale() || this.stopped) return;
      const slice = messages.slice(from, to);
      const first = slice[0]!.offset;
      const last = slice[slice.length - 1]!.offset;
      const next = String(BigInt(last) + 1n);
      const records = this.decode(slice, partition);
      const delivery = placement.exactlyOnce ? { id: deliveryId(kafkaTopic, { partition, first, last }) } : undefined;
      if (placement.exactlyOnce) {
        await this.consumer.commitOffsets([{ topic: kafkaTopic, partition, offset: first, metadata: encodeIntent(last) }]);
      }
      try {
        await this.options.handler(records, delivery);
      } catch (e) {
        this.failures++;
        this.logger.warn('stage failed on a batch; it will be delivered again', { group: groupId, partition, first, error: (e as Error).message });
        this.consumer.seek({ topic: kafkaTopic, partition, offset: first });
        await new Promise((r) => setTimeout(r, this.options.retryBackoffMs));
        return;
      }
      this.delivered += records.length;
      resolveOffset(last);
      this.positions.set(partition, BigInt(next));
      if (placement.shared) await this.consumer.commitOffsets([{ topic: kafkaTopic, partition, offset: next }]);
      await heartbeat();
    }
    this.lagByPartition.set(partition, Number(batch.offsetLag()));
  }

  private decode(messages: KafkaMessage[], partition: number): TopicRecords[Topic][] {
    const records: TopicRecords[Topic][] = [];
    for (const m of messages) {
      let record: TopicRecords[Topic] | undefined;
      try {
        record = decodeRecord(m.value);
      } catch {
        this.logger.warn('skipping a message that is not a JSON record', { group: this.options.groupId, partition, offset: m.offset });
      }
      if (!record) continue;
      this.watermarks.observe(partition, eventTimeMs(this.options.topic, record));
      records.push(record);
    }
    return records;
  }
}
