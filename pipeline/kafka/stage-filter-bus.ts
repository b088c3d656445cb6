/**
 * A view of a bus that runs only some stages: subscriptions of the groups a process is not
 * meant to run get an inert subscription, everything else passes through. It lets a
 * correlator process build the whole pipeline (pipeline/pipeline.ts) without its sink, and
 * a sink process run the exactly-once sink alone.
 */
import type { BatchHandler, Bus, BusStats, SubscribeOptions, Subscription } from '../../core/bus.js';
import type { Topic, TopicRecords } from '../../core/records.js';

export class StageFilterBus implements Bus {
  constructor(
    private readonly bus: Bus,
    private readonly skipGroups: ReadonlySet<string>,
  ) {}

  publish<T extends Topic>(topic: T, records: TopicRecords[T][]): Promise<void> {
    return this.bus.publish(topic, records);
  }

  subscribe<T extends Topic>(topic: T, group: string, handler: BatchHandler<T>, options?: SubscribeOptions): Subscription {
    if (this.skipGroups.has(group)) return { close: async () => undefined, hasBacklog: () => false };
    return this.bus.subscribe(topic, group, handler, options);
  }

  drain(): Promise<void> {
    return this.bus.drain();
  }

  stats(): BusStats {
    return this.bus.stats();
  }

  /** The underlying bus belongs to whoever made it. */
  async close(): Promise<void> {}
}
