/** A real in-process bus with one subscriber that keeps what it receives. */
import { MemoryBus, type MemoryBusOptions } from '../../pipeline/memory-bus.js';
import type { Topic, TopicRecords } from '../../core/records.js';

export function captureBus<T extends Topic>(topic: T, options: MemoryBusOptions = {}): { bus: MemoryBus; records: TopicRecords[T][] } {
  const bus = new MemoryBus(options);
  const records: TopicRecords[T][] = [];
  bus.subscribe(topic, 'test', async (batch) => {
    records.push(...batch);
  });
  return { bus, records };
}
