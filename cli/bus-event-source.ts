/**
 * Feeds the API's live stream from the bus: every stall and alert change published by the
 * pipeline reaches the SSE clients. A consumer group of its own, so it never takes records
 * away from the sink or other stages.
 */
import type { ApiEvent, ApiEventSource } from '../api/index.js';
import type { Bus, Subscription } from '../core/bus.js';
import { storedOf } from '../core/records.js';

export class BusEventSource implements ApiEventSource {
  private readonly listeners = new Set<(event: ApiEvent) => void>();
  private readonly subscriptions: Subscription[];

  constructor(bus: Bus, group = 'api-stream') {
    this.subscriptions = [
      bus.subscribe('stalls', group, async (batch) => {
        for (const data of storedOf('stalls', batch)) this.emit({ type: 'stall', data });
      }),
      bus.subscribe('alerts', group, async (batch) => {
        for (const data of batch) this.emit({ type: 'alert', data });
      }),
    ];
  }

  subscribe(listener: (event: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await Promise.all(this.subscriptions.map((s) => s.close()));
  }

  private emit(event: ApiEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
