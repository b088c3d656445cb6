/**
 * The in-process event source the live stream (GET /api/v1/stream) subscribes to. The
 * platform feeds it from the bus (new stalls, alert state changes); the API only listens.
 */
import type { Alert, Stall } from '../core/records.js';

export const API_EVENT_TYPES = ['stall', 'alert'] as const;
export type ApiEventType = (typeof API_EVENT_TYPES)[number];
export type ApiEvent = { type: 'stall'; data: Stall } | { type: 'alert'; data: Alert };

export interface ApiEventSource {
  /**
   * Calls `listener` for every event from now on; returns the function that stops it. The
   * listener is called synchronously by the source and never throws.
   */
  subscribe(listener: (event: ApiEvent) => void): () => void;
}
