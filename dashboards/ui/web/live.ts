/**
 * The live stream (GET /api/v1/stream, Server-Sent Events): new stalls and alert changes as
 * the pipeline decides them. Only opened when the server has one (`fabricscope up`); a
 * server over stored data (`serve`) says so in /ui/config.json.
 */
import type { Alert, Stall } from './api.js';
import { streamUrl } from './api-token.js';

export type LiveEvent = { type: 'stall'; data: Stall } | { type: 'alert'; data: Alert };
export type LiveStatus = 'live' | 'connecting' | 'offline';

export class LiveStream {
  private source?: EventSource;
  private readonly listeners = new Set<(e: LiveEvent) => void>();
  private readonly statusListeners = new Set<(s: LiveStatus) => void>();

  start(): void {
    this.setStatus('connecting');
    const source = new EventSource(streamUrl('/api/v1/stream'));
    this.source = source;
    source.onopen = () => this.setStatus('live');
    // The browser reconnects by itself (the server sends `retry:`); show it meanwhile.
    source.onerror = () => this.setStatus(source.readyState === EventSource.CLOSED ? 'offline' : 'connecting');
    for (const type of ['stall', 'alert'] as const) {
      source.addEventListener(type, (e) => {
        try {
          const data = JSON.parse((e as MessageEvent<string>).data) as never;
          for (const l of this.listeners) l({ type, data } as LiveEvent);
        } catch {
          // a malformed event is skipped, the stream goes on
        }
      });
    }
  }

  onEvent(listener: (e: LiveEvent) => void): void {
    this.listeners.add(listener);
  }

  onStatus(listener: (s: LiveStatus) => void): void {
    this.statusListeners.add(listener);
  }

  private setStatus(s: LiveStatus): void {
    for (const l of this.statusListeners) l(s);
  }
}
