/**
 * The producing side of the Kafka bus. `publish` resolves only when every in-sync replica has
 * the records (acks -1), after kafkajs' own retries; a send that still fails, or more records
 * in flight than `maxInFlightRecords`, rejects with BackpressureError so collectors answer
 * 503 and their clients retry: accepted data is in Kafka, refused data was never accepted.
 * While the brokers do not answer, publishes are refused at once (broker-health.ts), so an
 * outage costs neither memory nor held-open requests.
 *
 * Idempotence (no duplicates from the producer's own retries) needs the broker's
 * InitProducerId; where the broker cannot give one (librdkafka's mock cluster does not name
 * a controller kafkajs can find) the producer falls back to plain acks -1 and says so once.
 * Duplicates that retry may then cause are still harmless downstream: stored records of
 * the same delivery range dedupe by token, and analysis outputs carry deterministic ids.
 */
import { CompressionTypes, type Kafka, type Message, type Producer } from 'kafkajs';
import { BackpressureError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { Topic, TopicRecords } from '../../core/records.js';
import { BrokerHealth, type BrokerHealthStats } from './broker-health.js';
import { ProducedOffsets } from './produced-offsets.js';
import { encodeRecord, partitionKey, topicName } from './topics.js';

export interface RecordProducerOptions {
  topicPrefix: string;
  maxInFlightRecords: number;
  /** How long one publish may take (retries included) before it is refused. */
  sendTimeoutMs: number;
  idempotent: boolean;
  /** A send unanswered this long means the brokers are away: refuse new publishes at once. */
  stalledAfterMs: number;
}

export interface ProducerStats {
  in_flight: number;
  refused: number;
  send_errors: number;
  idempotent: boolean;
  brokers: BrokerHealthStats;
}

export class RecordProducer {
  private producer?: Producer;
  private connecting?: Promise<Producer>;
  private inFlight = 0;
  private refused = 0;
  private sendErrors = 0;
  private idempotent: boolean;
  private readonly health: BrokerHealth;
  /** Offsets of what this producer wrote, for the bus's local drain. */
  readonly produced = new ProducedOffsets();

  constructor(
    private readonly kafka: Kafka,
    private readonly options: RecordProducerOptions,
    private readonly logger: Logger,
  ) {
    this.idempotent = options.idempotent;
    this.health = new BrokerHealth({ stalledAfterMs: options.stalledAfterMs, probeIntervalMs: Math.max(500, options.stalledAfterMs) });
  }

  async publish<T extends Topic>(topic: T, records: TopicRecords[T][]): Promise<void> {
    if (records.length === 0) return;
    if (this.inFlight + records.length > this.options.maxInFlightRecords && this.inFlight > 0) {
      this.refused += records.length;
      throw new BackpressureError(`Kafka producer has ${this.inFlight} records in flight`);
    }
    let send: number;
    try {
      send = this.health.admit();
    } catch (e) {
      this.refused += records.length;
      throw e;
    }
    this.inFlight += records.length;
    try {
      const messages: Message[] = records.map((r) => ({ key: partitionKey(topic, r), value: encodeRecord(r) }));
      const kafkaTopic = topicName(this.options.topicPrefix, topic);
      // Connecting counts against the timeout too: no publish may stay unanswered for ever.
      const metadata = await withTimeout(
        this.connected().then((producer) => producer.send({ topic: kafkaTopic, messages, acks: -1, compression: CompressionTypes.None })),
        this.options.sendTimeoutMs,
      );
      this.produced.record(kafkaTopic, messages, metadata);
      this.health.succeeded(send);
    } catch (e) {
      this.health.failed(send);
      this.sendErrors++;
      this.refused += records.length;
      if (e instanceof BackpressureError) throw e;
      throw new BackpressureError(`Kafka did not accept ${records.length} ${topic} records: ${(e as Error).message}`);
    } finally {
      this.inFlight -= records.length;
    }
  }

  stats(): ProducerStats {
    return { in_flight: this.inFlight, refused: this.refused, send_errors: this.sendErrors, idempotent: this.idempotent, brokers: this.health.stats() };
  }

  async close(): Promise<void> {
    const producer = this.producer ?? (await this.connecting?.catch(() => undefined));
    await producer?.disconnect();
  }

  private connected(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= this.connect().then(
      (p) => (this.producer = p),
      (e: unknown) => {
        this.connecting = undefined; // try again on the next publish
        throw e;
      },
    );
    return this.connecting;
  }

  private async connect(): Promise<Producer> {
    const retry = { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 };
    if (this.idempotent) {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry, createPartitioner: this.produced.partitioner });
      try {
        await producer.connect();
        return producer;
      } catch (e) {
        await producer.disconnect().catch(() => undefined);
        this.idempotent = false;
        this.logger.warn('broker refused an idempotent producer; using acks=-1 with retries', { error: (e as Error).message });
      }
    }
    const producer = this.kafka.producer({ retry, allowAutoTopicCreation: true, createPartitioner: this.produced.partitioner });
    await producer.connect();
    return producer;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BackpressureError(`Kafka did not acknowledge within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
