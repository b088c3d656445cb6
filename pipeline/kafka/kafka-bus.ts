/**
 * The Kafka bus: the same Bus contract as the in-process one, over a Kafka cluster, so each
 * pipeline stage is a consumer group that more processes can join. This class only composes:
 * topics.ts maps records to topics and keys, record-producer.ts publishes durably,
 * group-consumer.ts runs one subscription, stage-placement.ts says how each stage is spread
 * and recovered, topic-admin.ts creates topics and reads offsets.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { BatchHandler, Bus, BusStats, Subscription } from '../../core/bus.js';
import { BackpressureError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { TOPICS, type Topic, type TopicRecords } from '../../core/records.js';
import { GroupConsumer, type GroupConsumerStats } from './group-consumer.js';
import { RecordProducer, type ProducerStats } from './record-producer.js';
import { singleOwnerAssigner } from './single-owner-assigner.js';
import { placementOf } from './stage-placement.js';
import { TopicAdmin } from './topic-admin.js';
import { DEFAULT_TOPIC_PREFIX, topicName } from './topics.js';

export interface KafkaBusOptions {
  brokers: string[];
  clientId?: string;
  topicPrefix?: string;
  /** Partitions per topic when this bus creates the topics (real clusters). */
  partitions?: number;
  replicationFactor?: number;
  /** Records one delivery hands to a handler at most. */
  maxBatch?: number;
  maxInFlightRecords?: number;
  sendTimeoutMs?: number;
  /** A send unanswered this long means the brokers are away: publishes are refused until one gets through. */
  stalledAfterMs?: number;
  idempotent?: boolean;
  /** Wall-time window that stages rebuilding their state replay (stage-placement.ts). */
  replayMs?: number;
  /** How soon a dead process's partitions move to the others. */
  sessionTimeoutMs?: number;
  /** Longest a drain waits for the groups to catch up. */
  drainTimeoutMs?: number;
  logger: Logger;
}

export interface KafkaBusStats extends BusStats {
  producer: ProducerStats;
  /** Per `topic/group`: rebalances this process has seen. */
  rebalances: Record<string, number>;
  /** Per `topic/group`: event-time watermark over this process's partitions (epoch ms). */
  watermarks_ms: Record<string, number>;
  late: Record<string, number>;
  handler_failures: Record<string, number>;
}

export class KafkaBus implements Bus {
  private readonly kafka: Kafka;
  private readonly producer: RecordProducer;
  private readonly admin: TopicAdmin;
  private readonly consumers = new Map<string, GroupConsumer>();
  private readonly published = Object.fromEntries(TOPICS.map((t) => [t, 0])) as Record<Topic, number>;
  /** Distinguishes this process's per-process groups from every other process's. */
  readonly instanceId = randomUUID().slice(0, 8);
  /** When this process started, for single-process stages: the longest-running process owns them. */
  private readonly startedMs = Date.now();
  private readonly opts: Required<Omit<KafkaBusOptions, 'logger'>>;
  private readonly logger: Logger;
  private closed = false;
  /** The last group a drain found behind (for the log when a drain gives up). */
  private behind = '';

  constructor(options: KafkaBusOptions) {
    this.logger = options.logger;
    this.opts = {
      clientId: 'fabricscope',
      topicPrefix: DEFAULT_TOPIC_PREFIX,
      partitions: 12,
      replicationFactor: 3,
      maxBatch: 5_000,
      maxInFlightRecords: 200_000,
      sendTimeoutMs: 10_000,
      stalledAfterMs: 3_000,
      idempotent: true,
      replayMs: 5 * 60_000,
      sessionTimeoutMs: 10_000,
      drainTimeoutMs: 30_000,
      ...stripUndefined(options),
    } as Required<Omit<KafkaBusOptions, 'logger'>>;
    this.kafka = new Kafka({
      clientId: this.opts.clientId,
      brokers: this.opts.brokers,
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => this.logKafka(entry),
      // kafkajs' 1 s default gives up on healthy brokers when the host is busy.
      connectionTimeout: 3_000,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    });
    this.admin = new TopicAdmin(this.kafka, this.logger);
    this.producer = new RecordProducer(
      this.kafka,
      {
        topicPrefix: this.opts.topicPrefix,
        maxInFlightRecords: this.opts.maxInFlightRecords,
        sendTimeoutMs: this.opts.sendTimeoutMs,
        stalledAfterMs: this.opts.stalledAfterMs,
        idempotent: this.opts.idempotent,
      },
      this.logger,
    );
  }

  /** Creates the topics where the cluster lets us (auto-created ones are tolerated). */
  async start(): Promise<void> {
    await this.admin.ensureTopics(
      TOPICS.map((t) => ({ topic: this.kafkaTopic(t), partitions: this.opts.partitions, replicationFactor: this.opts.replicationFactor })),
    );
  }

  kafkaTopic(topic: Topic): string {
    return topicName(this.opts.topicPrefix, topic);
  }

  async publish<T extends Topic>(topic: T, records: TopicRecords[T][]): Promise<void> {
    if (this.closed) throw new BackpressureError('bus is closed');
    await this.producer.publish(topic, records);
    this.published[topic] += records.length;
  }

  subscribe<T extends Topic>(topic: T, group: string, handler: BatchHandler<T>): Subscription {
    const key = `${topic}/${group}`;
    if (this.consumers.has(key)) throw new Error(`group ${group} already subscribed to ${topic} in this process`);
    const placement = placementOf(group);
    // One Kafka group per (stage, topic): members of a Kafka group must subscribe alike, and
    // a stage's topics are independent streams in the Bus contract anyway.
    const prefixedGroup = `${this.opts.topicPrefix}${group}.${topic}`;
    const consumer = new GroupConsumer(
      this.kafka,
      this.admin,
      {
        topic,
        kafkaTopic: this.kafkaTopic(topic),
        group,
        groupId: placement.shared ? prefixedGroup : `${prefixedGroup}.${this.instanceId}`,
        placement,
        handler: handler as BatchHandler<Topic>,
        maxBatch: this.opts.maxBatch,
        replayMs: this.opts.replayMs,
        sessionTimeoutMs: this.opts.sessionTimeoutMs,
        retryBackoffMs: 500,
        assigner: placement.singleProcess ? singleOwnerAssigner({ instance: this.instanceId, started_ms: this.startedMs }) : undefined,
      },
      this.logger,
    );
    this.consumers.set(key, consumer);
    consumer.start().catch((e: unknown) => this.logger.error('consumer failed to start', { group, topic, error: (e as Error).message }));
    return {
      close: async () => {
        this.consumers.delete(key);
        await consumer.stop();
      },
      hasBacklog: () => consumer.hasBacklog(),
    };
  }

  /**
   * Resolves when this process's subscriptions have handled everything published so far.
   * Loops until a pass finds nothing new published, since handlers publish downstream.
   *
   * Cheap on purpose: at full replay speed the platform drains after every simulated GPU
   * interval. What this process produced (record-producer.ts) and what its fetches saw is
   * compared with what its consumers handled, locally; only a shared group whose partitions
   * are partly held by other processes needs the brokers (that group's commits and the
   * partition ends), and only once the local part is done.
   */
  async drain(): Promise<void> {
    // Other processes share the groups, and one may be gone: a drain here is bounded.
    const deadline = Date.now() + this.opts.drainTimeoutMs;
    for (;;) {
      if (Date.now() > deadline) {
        this.logger.warn('drain gave up waiting for consumer groups', { after_ms: this.opts.drainTimeoutMs, behind: this.behind, lag: this.stats().lag });
        return;
      }
      const generation = this.producer.produced.generation;
      if (this.producer.stats().in_flight === 0 && this.caughtUpLocally()) {
        const elsewhere = [...this.consumers.values()].filter((c) => !c.holdsEveryPartition);
        // A topic not yet created (or a broker away) answers with an error: not caught up yet.
        const atBrokers = elsewhere.length === 0 || (await this.caughtUpAtBrokers(elsewhere).catch(() => false));
        if (atBrokers) {
          if (generation === this.producer.produced.generation && this.producer.stats().in_flight === 0) return;
        }
      }
      await new Promise((r) => setTimeout(r, elsewhereDelay(this.consumers.values())));
    }
  }

  private caughtUpLocally(): boolean {
    const ends = new Map<string, Map<number, bigint>>();
    for (const c of this.consumers.values()) {
      let known = ends.get(c.topicName);
      if (!known) ends.set(c.topicName, (known = new Map(this.producer.produced.endsOf(c.topicName))));
      for (const [p, end] of c.observedEnds) if (end > (known.get(p) ?? -1n)) known.set(p, end);
    }
    for (const c of this.consumers.values()) {
      if (!c.caughtUpLocally(ends.get(c.topicName)!)) {
        this.behind = c.groupName;
        return false;
      }
    }
    return true;
  }

  /** For groups other processes share: the group's commits against the brokers' partition ends, twice alike. */
  private async caughtUpAtBrokers(consumers: GroupConsumer[]): Promise<boolean> {
    const topics = [...new Set(consumers.map((c) => c.topicName))];
    const ends = new Map<string, Map<number, bigint>>();
    for (const t of topics) ends.set(t, await this.admin.endOffsets(t));
    for (const c of consumers) {
      if (!(await c.caughtUp(ends.get(c.topicName)!))) {
        this.behind = c.groupName;
        return false;
      }
    }
    for (const t of topics) if (!sameOffsets(ends.get(t)!, await this.admin.endOffsets(t))) return false;
    return true;
  }

  stats(): KafkaBusStats {
    const lag: Record<string, number> = {};
    const rebalances: Record<string, number> = {};
    const watermarks: Record<string, number> = {};
    const late: Record<string, number> = {};
    const failures: Record<string, number> = {};
    for (const [key, c] of this.consumers) {
      const s: GroupConsumerStats = c.stats();
      lag[key] = s.lag;
      rebalances[key] = s.rebalances;
      if (s.watermark_ms !== null) watermarks[key] = s.watermark_ms;
      late[key] = s.late;
      failures[key] = s.handler_failures;
    }
    return {
      published: { ...this.published },
      lag,
      producer: this.producer.stats(),
      rebalances,
      watermarks_ms: watermarks,
      late,
      handler_failures: failures,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers.values()].map((c) => c.stop()));
    this.consumers.clear();
    await this.producer.close();
    await this.admin.close();
  }

  private logKafka(entry: LogEntry): void {
    const { message, ...fields } = entry.log;
    const level = entry.level <= logLevel.ERROR ? 'error' : entry.level === logLevel.WARN ? 'warn' : 'debug';
    this.logger[level](`kafka: ${message}`, { namespace: entry.namespace, error: fields.error });
  }
}

/** Local checks are cheap and poll fast; broker round trips are spaced out. */
function elsewhereDelay(consumers: Iterable<GroupConsumer>): number {
  for (const c of consumers) if (!c.holdsEveryPartition) return 20;
  return 5;
}

function sameOffsets(a: Map<number, bigint>, b: Map<number, bigint>): boolean {
  if (a.size !== b.size) return false;
  for (const [p, o] of a) if (b.get(p) !== o) return false;
  return true;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k !== 'logger')) as Partial<T>;
}
