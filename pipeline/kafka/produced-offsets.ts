/**
 * What this process has written to Kafka, per topic and partition: the offset after the last
 * record the brokers acknowledged. A drain compares it with what the local consumers have
 * handled, so a process that holds every partition of its groups (`run --kafka`, a lone
 * correlator) drains without asking the brokers anything (kafka-bus.ts).
 *
 * kafkajs' send() answers with the base offset of each partition's appended batch but not
 * how many of the messages went there; the partitioner wrapper below remembers the
 * partition it chose for each message, so the count, and the end offset, follow.
 */
import { Partitioners, type ICustomPartitioner, type Message, type RecordMetadata } from 'kafkajs';

export class ProducedOffsets {
  /** kafka topic → partition → next offset after our last acknowledged record. */
  private readonly ends = new Map<string, Map<number, bigint>>();
  private readonly chosen = new WeakMap<Message, number>();
  /** Bumped on every acknowledged send: a drain that saw it unchanged saw everything. */
  private acknowledged = 0;

  /** kafkajs' default partitioner, remembering each choice (retries overwrite it). */
  readonly partitioner: ICustomPartitioner = () => {
    const choose = Partitioners.DefaultPartitioner();
    return (args) => {
      const partition = choose(args);
      this.chosen.set(args.message, partition);
      return partition;
    };
  };

  /** Records a send the brokers acknowledged. */
  record(topic: string, messages: readonly Message[], metadata: readonly RecordMetadata[]): void {
    const counts = new Map<number, number>();
    for (const m of messages) {
      const p = this.chosen.get(m);
      if (p !== undefined) counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    let ends = this.ends.get(topic);
    if (!ends) this.ends.set(topic, (ends = new Map()));
    for (const meta of metadata) {
      if (meta.topicName !== topic || meta.baseOffset === undefined) continue;
      const end = BigInt(meta.baseOffset) + BigInt(counts.get(meta.partition) ?? 0);
      if (end > (ends.get(meta.partition) ?? -1n)) ends.set(meta.partition, end);
    }
    this.acknowledged++;
  }

  endsOf(topic: string): ReadonlyMap<number, bigint> {
    return this.ends.get(topic) ?? new Map();
  }

  get generation(): number {
    return this.acknowledged;
  }
}
