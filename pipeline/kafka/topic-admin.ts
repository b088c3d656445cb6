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
    const admin = await this.connected();
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  }

  /** Offset a new reader should start from to see the last `windowMs` of wall time. */
  async offsetsSince(topic: string, sinceMs: number): Promise<Map<number, bigint>> {
    const admin = await this.connected();
    try {
      const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, sinceMs);
      const result = new Map(offsets.map((o) => [o.partition, BigInt(o.offset)]));
      if ([...result.values()].every((o) => o >= 0n)) return result;
    } catch {
      // brokers without timestamp lookups: fall through to the beginning of retention
    }
    const low = await admin.fetchTopicOffsets(topic);
    return new Map(low.map((o) => [o.partition, BigInt(o.low)]));
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
