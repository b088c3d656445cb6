/**
 * How canonical records map onto Kafka: one topic per record kind (under a configurable
 * prefix), the partition key of each kind, the event time each carries, and the JSON codec.
 *
 * Keys — what must be processed together lands in one partition, in order:
 *  - port_samples by switch (`device`): a switch's ports share one clock and one watermark
 *    source in the pipeline, and a port's episodes need its samples in order. Ports cannot be
 *    keyed by job: one spine port carries every job's traffic.
 *  - gpu_samples by node: one dcgm-exporter scrape is one node, in order.
 *  - collective_events by job (the communicator name): every rank's record of one call must
 *    meet in one stall detector, and a job's calls in order build its baseline. This is the
 *    stream the correlators divide among themselves (stage-placement.ts).
 *  - congestion_episodes by port, stalls by job, alerts by rule: per-entity order for the
 *    consumers downstream (the sink, the live stream), which need nothing across keys. A job's
 *    stall progress markers share its stalls' key, so they follow the stalls they vouch for.
 * Because the correlator of a job may need any port's history (a spine port is on every
 * job's path), every correlator reads all port and GPU partitions; see stage-placement.ts.
 */
import { isStallProgress, type Topic, type TopicRecords } from '../../core/records.js';

export const DEFAULT_TOPIC_PREFIX = 'fabricscope.';

export function topicName(prefix: string, topic: Topic): string {
  return `${prefix}${topic}`;
}

type KeyOf<T extends Topic> = (record: TopicRecords[T]) => string;

const PARTITION_KEYS: { [T in Topic]: KeyOf<T> } = {
  port_samples: (r) => r.device,
  gpu_samples: (r) => r.node,
  collective_events: (r) => r.job,
  congestion_episodes: (r) => r.port,
  stalls: (r) => r.job,
  alerts: (r) => r.rule,
};

export function partitionKey<T extends Topic>(topic: T, record: TopicRecords[T]): string {
  return (PARTITION_KEYS[topic] as KeyOf<T>)(record);
}

type TimeOf<T extends Topic> = (record: TopicRecords[T]) => number;

/** Event time (epoch ms) of a record: what the per-partition watermarks advance on. */
const EVENT_TIMES: { [T in Topic]: TimeOf<T> } = {
  port_samples: (r) => r.ts_ms,
  gpu_samples: (r) => r.ts_ms,
  collective_events: (r) => r.end_us / 1000,
  congestion_episodes: (r) => r.end_ms,
  stalls: (r) => (isStallProgress(r) ? r.through_ms : r.end_ms),
  alerts: (r) => r.updated_ms,
};

export function eventTimeMs<T extends Topic>(topic: T, record: TopicRecords[T]): number {
  return (EVENT_TIMES[topic] as TimeOf<T>)(record);
}

export function encodeRecord(record: unknown): Buffer {
  return Buffer.from(JSON.stringify(record));
}

export function decodeRecord<T extends Topic>(value: Buffer | null): TopicRecords[T] | undefined {
  if (value === null) return undefined;
  return JSON.parse(value.toString('utf8')) as TopicRecords[T];
}
