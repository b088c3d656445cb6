/**
 * The admin side: creating the topics on a real cluster, and reading the offsets that drain
 * and lag are computed from. Brokers that auto-create topics (or that refuse CreateTopics,
 * like librdkafka's mock cluster) are tolerated: the first publish or subscribe creates them
 * with the broker's default partition count.
 */
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../../core/log.js';

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
}

export class TopicAdmin {
  private admin?: Admin;
  private connecting?: Promise<Admin>;
  private timestampLookups?: boolean;

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: Logger,
  ) {}

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const admin = await this.connected();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !existing.has(s.topic));
      if (missing.length === 0) return;
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({ topic: s.topic, numPartitions: s.partitions, replicationFactor: s.replicationFactor })),
      });
      this.logger.info('created topics', { topics: missing.map((s) => s.topic), partitions: specs[0]?.partitions });
    } catch (e) {
      this.logger.warn('could not create topics; relying on broker auto-creation', { error: (e as Error).message });
    }
  }

  /** Next offset to be written, per partition. */
  async endOffsets(topic: string): Promise<Map<number, bigint>> {
    return new Map([...(await this.retainedRanges(topic))].map(([p, r]) => [p, r.high]));
  }

  /** First retained and next to be written offset, per partition. */
  async retainedRanges(topic: string): Promise<Map<number, { low: bigint; high: bigint }>> {
    const admin = await this.connected();
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]));
  }

  /** Offset a new reader should start from to see the last `windowMs` of wall time. */
  async offsetsSince(topic: string, sinceMs: number): Promise<Map<number, bigint>> {
    const admin = await this.connected();
    const retained = await admin.fetchTopicOffsets(topic);
    const low = new Map(retained.map((o) => [o.partition, BigInt(o.low)]));
    try {
      if (!(await this.honoursTimestamps(topic, retained))) return low;
      const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, sinceMs);
      const result = new Map(offsets.map((o) => [o.partition, BigInt(o.offset)]));
      if ([...result.values()].every((o) => o >= 0n)) return result;
    } catch {
      // brokers without timestamp lookups: fall through to the beginning of retention
    }
    return low;
  }

  /**
   * Whether the brokers answer timestamp lookups (librdkafka's mock cluster answers every one
   * with the partition's end, which would make a replay read nothing). Asking for time 0 must
   * give the first retained offset of a non-empty partition. Decided once, on the first
   * topic that has data.
   */
  private async honoursTimestamps(topic: string, retained: Array<{ partition: number; low: string; high: string }>): Promise<boolean> {
    if (this.timestampLookups !== undefined) return this.timestampLookups;
    const filled = retained.find((o) => BigInt(o.high) > BigInt(o.low));
    if (!filled) return true;
    const atZero = await this.admin!.fetchTopicOffsetsByTimestamp(topic, 0);
    this.timestampLookups = atZero.find((o) => o.partition === filled.partition)?.offset === filled.low;
    if (!this.timestampLookups) this.logger.warn('brokers ignore timestamps in offset lookups: replays start at the beginning of retention', { topic });
    return this.timestampLookups;
  }

  async partitionCount(topic: string): Promise<number> {
    const admin = await this.connected();
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions.length ?? 0;
  }

  /** The group's committed offset and metadata, per partition (-1 when none). */
  async committed(groupId: string, topic: string): Promise<Map<number, { offset: bigint; metadata: string | null }>> {
    const admin = await this.connected();
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((entry?.partitions ?? []).map((p) => [p.partition, { offset: BigInt(p.offset), metadata: p.metadata }]));
  }

  async close(): Promise<void> {
    const admin = this.admin ?? (await this.connecting?.catch(() => undefined));
    await admin?.disconnect();
  }

  private connected(): Promise<Admin> {
    if (this.admin) return Promise.resolve(this.admin);
    this.connecting ??= (async () => {
      const admin = this.kafka.admin({ retry: { retries: 3 } });
      await admin.connect();
      this.admin = admin;
      return admin;
    })().catch((e: unknown) => {
      this.connecting = undefined;
      throw e;
    });
    return this.connecting;
  }
}
