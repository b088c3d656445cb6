/**
 * The Kafka side of the pipeline, as the CLI wires it: a started bus from the validated
 * config, and the roles a process may run on it.
 */
import type { Config } from '../../core/config.js';
import type { Logger } from '../../core/log.js';
import { KafkaBus } from './kafka-bus.js';

export { ExactlyOnceSink } from './exactly-once-sink.js';
export { KafkaBus } from './kafka-bus.js';
export { NO_STORE } from './no-store.js';
export { StageFilterBus } from './stage-filter-bus.js';

export const ROLES = ['collect', 'correlate', 'sink', 'api'] as const;
export type Role = (typeof ROLES)[number];

/** The roles this process runs: all of them unless `--role` (or a role command) says otherwise. */
export function rolesOf(config: Pick<Config, 'kafka' | 'role'>): Set<Role> {
  if (!config.kafka || !config.role || config.role.length === 0) return new Set(ROLES);
  return new Set(config.role);
}

export async function createKafkaBus(config: Config, logger: Logger): Promise<KafkaBus> {
  const bus = new KafkaBus({
    brokers: config.kafka ?? [],
    clientId: config.kafka_client_id,
    topicPrefix: config.kafka_topic_prefix,
    partitions: config.kafka_partitions,
    replicationFactor: config.kafka_replication_factor,
    replayMs: config.kafka_replay_s * 1000,
    sessionTimeoutMs: config.kafka_session_timeout_s * 1000,
    stalledAfterMs: config.kafka_stalled_after_ms,
    maxInFlightRecords: config.bus_capacity,
    logger,
  });
  await bus.start();
  return bus;
}
