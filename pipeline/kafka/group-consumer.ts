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
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, PartitionAssigner } from 'kafkajs';
import type { BatchHandler } from '../../core/bus.js';
import type { Logger } from '../../core/log.js';
import type { Topic, TopicRecords } from '../../core/records.js';
import { cutRanges, decodeIntent, deliveryId, encodeIntent } from './delivery-intent.js';
import { FetchBacklog } from './fetch-backlog.js';
import { PartitionWatermarks, type PartitionWatermarkStats } from './partition-watermarks.js';
import type { StagePlacement } from './stage-placement.js';
import type { TopicAdmin } from './topic-admin.js';
import { decodeRecord, eventTimeMs } from './topics.js';

/** How often, at most, the brokers are asked for the ends of partitions that delivered nothing yet. */
const PROBE_EVERY_MS = 500;

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
  /** How the group divides partitions (kafkajs' round robin when absent). */
  assigner?: PartitionAssigner;
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
  /** Partition ends (high watermarks) seen in fetches: what others published, as far as known. */
  private readonly seenEnds = new Map<number, bigint>();
  /** Partitions of the topic, read once per rebalance: a shared group holding them all drains locally. */
  private partitionCount?: number;
  private readonly lagByPartition = new Map<number, number>();
  private assigned: number[] = [];
  /**
   * Partitions given to this process at the last rebalance that it did not hold just before.
   * Another process may have advanced them meanwhile, so a stage rebuilding state replays them
   * (not only the first time: state kept from an earlier tenure stops where that tenure did).
   */
  private readonly newlyAssigned = new Set<number>();
  /** Partitions whose first batch must first be checked for a replay or an intent. */
  private readonly unchecked = new Set<number>();
  private readonly backlog = new FetchBacklog();
  /** The range being handed to the handler: where its partition continues after it. */
  private handing?: { partition: number; next: bigint };
  /** Assigned partitions the brokers said hold nothing past where this group starts (probeEnds). */
  private readonly emptyPartitions = new Set<number>();
  private joinedOnce = false;
  private joinGeneration = 0;
  private probing = false;
  private lastProbeMs = 0;
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
      ...(options.assigner ? { partitionAssigners: [options.assigner] } : {}),
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      this.rebalances++;
      this.joinedOnce = true;
      this.joinGeneration++;
      this.emptyPartitions.clear();
      const now = payload.memberAssignment[options.kafkaTopic] ?? [];
      const previous = new Set(this.assigned);
      this.assigned = [...now].sort((a, b) => a - b);
      for (const p of this.assigned) {
        // Exactly-once groups re-read intents on every partition after any rebalance: another
        // process may have left one while this one did not own the partition.
        if (options.placement.exactlyOnce || !previous.has(p)) this.unchecked.add(p);
        if (!previous.has(p)) this.newlyAssigned.add(p);
      }
      for (const p of [...this.newlyAssigned]) if (!this.assigned.includes(p)) this.newlyAssigned.delete(p);
      this.watermarks.retain(this.assigned);
      // Buffered messages are uncommitted: after a rebalance fetching resumes from the commits.
      this.backlog.clear();
      if (options.placement.shared) {
        // Another process may have advanced a partition while we did not hold it.
        for (const p of [...this.positions.keys()]) if (!previous.has(p) || !this.assigned.includes(p)) this.positions.delete(p);
        this.partitionCount = undefined;
        this.admin.partitionCount(options.kafkaTopic).then(
          (n) => {
            this.partitionCount = n;
            if (!options.placement.singleProcess) return;
            if (this.assigned.length === n) this.logger.info('this process runs the single-process stage', { group: options.groupId });
            else if (this.assigned.length === 0) this.logger.info('standing by for the single-process stage', { group: options.groupId });
            else this.logger.warn('a single-process stage runs in more than one process: its state is split', { group: options.groupId, partitions: this.assigned, of: n });
          },
          (e: unknown) => this.logger.debug('could not read the partition count', { topic: options.kafkaTopic, error: (e as Error).message }),
        );
      }
      for (const p of [...this.lagByPartition.keys()]) if (!this.assigned.includes(p)) this.lagByPartition.delete(p);
      this.logger.debug('group joined', { group: options.groupId, partitions: this.assigned });
      this.probeEnds(true);
    });
    this.watchCrashes();
  }

  private watchCrashes(): void {
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.stopped) return;
      this.logger.error('consumer crashed; restarting it', { group: this.options.groupId, error: payload.error.message });
      this.started = undefined;
      // What was handled in memory may not match what was committed: a shared group takes its
      // partitions afresh at the next join (replays to rebuild state, intents read again).
      if (this.options.placement.shared) this.assigned = [];
      setTimeout(() => {
        if (!this.stopped) this.start().catch((e: unknown) => this.logger.error('consumer restart failed', { group: this.options.groupId, error: (e as Error).message }));
      }, this.options.retryBackoffMs);
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

  /**
   * Whether this process alone decides when this group has handled something: per-process
   * groups always; a shared group when it holds every partition (one process, or the others
   * gone). Then a drain needs no broker query (kafka-bus.ts).
   */
  get holdsEveryPartition(): boolean {
    if (!this.options.placement.shared) return true;
    return this.partitionCount !== undefined && this.assigned.length === this.partitionCount;
  }

  /** Partition ends this consumer has seen in its fetches. */
  get observedEnds(): ReadonlyMap<number, bigint> {
    return this.seenEnds;
  }

  /**
   * Whether every partition this process holds has been handled up to `ends` (known locally:
   * what this process produced and what its fetches reported), without asking the brokers.
   */
  caughtUpLocally(ends: ReadonlyMap<number, bigint>): boolean {
    if (this.running > 0) return false;
    const { placement } = this.options;
    for (const [p, end] of ends) {
      if (end === 0n) continue;
      if (placement.shared && !this.assigned.includes(p)) continue; // another process's, or nobody's yet: the broker decides
      const at = this.positions.get(p);
      if (at === undefined) {
        if (placement.start === 'latest') continue;
        return false;
      }
      if (at < end) return false;
    }
    return true;
  }

  /** Whether the group (whichever process holds a partition) has handled everything below `ends`, from the broker's commits. */
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

  /**
   * Whether records of this process's share may still be waiting beyond the batch in hand
   * (core/bus.ts): true before the first join, while a partition is behind the end its last
   * fetch reported (a replay included), while a partition's end is not known yet, and for a
   * single-process stage until this process holds every partition (a standby, or an owner
   * still being given the rest, cannot speak for the stream).
   */
  hasBacklog(): boolean {
    if (!this.joinedOnce) return true;
    const { placement } = this.options;
    if (placement.singleProcess && (this.partitionCount === undefined || this.assigned.length !== this.partitionCount)) return true;
    let unknown = false;
    for (const p of this.assigned) {
      const at = this.handing?.partition === p ? this.handing.next : this.positions.get(p);
      const end = this.seenEnds.get(p);
      if (at !== undefined && end !== undefined && !this.unchecked.has(p)) {
        if (at < end) return true;
      } else if (!this.emptyPartitions.has(p)) {
        unknown = true;
      }
    }
    if (unknown) this.probeEnds(false);
    return unknown;
  }

  /**
   * Learns, from the brokers, which assigned partitions that have not delivered a batch hold
   * nothing to read: their end is where this group starts (its commit, the retained start,
   * or the end itself for a group reading from the latest). kafkajs hands over no empty
   * batches, so without this a quiet partition would count as waiting for ever. A partition
   * fully read by a previous owner is not replayed for a rebuilding stage: nothing new came.
   */
  private probeEnds(force: boolean): void {
    if (this.probing || (!force && Date.now() - this.lastProbeMs < PROBE_EVERY_MS)) return;
    this.probing = true;
    this.lastProbeMs = Date.now();
    const generation = this.joinGeneration;
    const { kafkaTopic, groupId, placement } = this.options;
    void (async () => {
      const ranges = await this.admin.retainedRanges(kafkaTopic);
      const committed = placement.shared ? await this.admin.committed(groupId, kafkaTopic) : undefined;
      if (generation !== this.joinGeneration) return;
      for (const p of this.assigned) {
        const range = ranges.get(p);
        if (!range || (this.seenEnds.has(p) && !this.unchecked.has(p))) continue;
        const commit = committed?.get(p)?.offset ?? -1n;
        const start = this.positions.get(p) ?? (placement.start === 'latest' ? range.high : commit >= 0n ? commit : range.low);
        if (start >= range.high) this.emptyPartitions.add(p);
      }
    })()
      .catch((e: unknown) => this.logger.debug('could not read partition ends', { group: groupId, error: (e as Error).message }))
      .finally(() => {
        this.probing = false;
      });
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
    const high = BigInt(batch.highWatermark);
    this.emptyPartitions.delete(partition);
    if (high > (this.seenEnds.get(partition) ?? -1n)) this.seenEnds.set(partition, high);
    if (this.unchecked.has(partition)) {
      this.backlog.clear(partition);
      const first = BigInt(batch.firstOffset() ?? batch.messages[0]!.offset);
      const rebuild = placement.start === 'replay' || (placement.rebuildOnAssign && this.newlyAssigned.has(partition));
      let from: bigint | undefined;
      let committed: { offset: bigint; metadata: string | null } | undefined;
      try {
        if (rebuild) from = (await this.admin.offsetsSince(kafkaTopic, Date.now() - this.options.replayMs)).get(partition) ?? 0n;
        if (placement.exactlyOnce && !(from !== undefined && from < first)) committed = (await this.admin.committed(groupId, kafkaTopic)).get(partition);
      } catch (e) {
        // The brokers' offsets could not be read (kafkajs fails on metadata caught mid-change):
        // the check stays owed and the same batch comes again, instead of the consumer crashing
        // and resuming without the replay or the intent.
        this.logger.warn('could not read offsets for a partition just given; fetching it again', { group: groupId, partition, error: (e as Error).message });
        this.consumer.seek({ topic: kafkaTopic, partition, offset: String(first) });
        await new Promise((r) => setTimeout(r, this.options.retryBackoffMs));
        return;
      }
      this.unchecked.delete(partition);
      this.newlyAssigned.delete(partition);
      if (from !== undefined && from < first) {
        this.logger.info('replaying partition to rebuild state', { group: groupId, partition, from: String(from), to: String(first) });
        this.consumer.seek({ topic: kafkaTopic, partition, offset: String(from) });
        return;
      }
      if (placement.exactlyOnce) {
        const through = committed && committed.offset === first ? decodeIntent(committed.metadata) : undefined;
        this.backlog.setIntent(partition, through === undefined ? undefined : BigInt(through));
      }
    }

    // Fetch on while the partition holds more (fetch-backlog.ts); the fetch position moves, the commit does not.
    const messages = this.backlog.add(partition, batch.messages);
    resolveOffset(batch.lastOffset());
    const lag = BigInt(batch.offsetLag());
    this.lagByPartition.set(partition, Number(lag));
    if (!this.backlog.ready(partition, lag, this.options.maxBatch)) return;
    const offsets = messages.map((m) => BigInt(m.offset));
    const spans = cutRanges(offsets, this.options.maxBatch, this.backlog.intentOf(partition));
    // An intended range not all here yet: keep it and fetch the rest.
    if (spans.length === 0) return;
    let handedOver = 0;
    try {
      for (const [from, to] of spans) {
        if (!isRunning() || isStale() || this.stopped) return;
        const slice = messages.slice(from, to);
        const first = slice[0]!.offset;
        const last = slice[slice.length - 1]!.offset;
        const next = String(BigInt(last) + 1n);
        const records = this.decode(slice, partition);
        const delivery = placement.exactlyOnce ? { id: deliveryId(kafkaTopic, { partition, first, last }) } : undefined;
        if (placement.exactlyOnce && !(await this.commit(partition, first, encodeIntent(last)))) return; // not handled: fetched again from `first`
        try {
          this.handing = { partition, next: BigInt(next) };
          await this.options.handler(records, delivery);
        } catch (e) {
          this.failures++;
          this.logger.warn('stage failed on a batch; it will be delivered again', { group: groupId, partition, first, error: (e as Error).message });
          // Fetch again from the range's start; an exactly-once range is re-delivered with the
          // same boundaries (same id), since the failed write may have happened after all.
          this.backlog.clear(partition);
          if (placement.exactlyOnce) this.backlog.setIntent(partition, BigInt(last));
          this.consumer.seek({ topic: kafkaTopic, partition, offset: first });
          handedOver = 0;
          await new Promise((r) => setTimeout(r, this.options.retryBackoffMs));
          return;
        } finally {
          this.handing = undefined;
        }
        this.delivered += records.length;
        handedOver = to;
        this.positions.set(partition, BigInt(next));
        if (placement.shared && !(await this.commit(partition, next))) return;
        await heartbeat();
      }
    } finally {
      if (handedOver > 0) this.backlog.consume(partition, handedOver);
    }
    if (isStale() || this.stopped) this.backlog.clear(partition);
  }

  /**
   * Commits an offset (with an exactly-once intent as metadata). A commit refused because the
   * group is rebalancing must not crash the consumer (kafkajs does not restart it after a
   * non-retriable error): it gives up this batch, keeps nothing buffered and lets the rejoin
   * happen. What was handled but not committed is delivered again — with an intent on record,
   * as the same range under the same id.
   */
  private async commit(partition: number, offset: string, metadata?: string): Promise<boolean> {
    // Where to fetch on if this process keeps the partition: the range itself when its intent
    // was refused (not handled yet), after it when its completion was.
    const { kafkaTopic, groupId } = this.options;
    try {
      await this.consumer.commitOffsets([{ topic: kafkaTopic, partition, offset, ...(metadata === undefined ? {} : { metadata }) }]);
      return true;
    } catch (e) {
      this.logger.warn('offset commit refused; the range will be delivered again after the rebalance', { group: groupId, partition, offset, error: (e as Error).message });
      this.backlog.clear(partition);
      this.unchecked.add(partition);
      this.consumer.seek({ topic: kafkaTopic, partition, offset });
      return false;
    }
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
