/**
 * The counters every collector keeps, so the API can render them as Prometheus metrics
 * (`fabricscope_collector_received_total{collector="otlp"}` and so on).
 */
export interface CollectorCounters {
  /** Items that arrived: OTLP data points, Prometheus samples, NCCL lines. */
  received: number;
  /** Items refused as malformed or unattributable (each one also logged). */
  rejected: number;
  /** Canonical records accepted by the bus. */
  published: number;
  /** Canonical records the bus refused (backpressure); the sender is asked to retry when it can. */
  dropped: number;
}

export const emptyCounters = (): CollectorCounters => ({ received: 0, rejected: 0, published: 0, dropped: 0 });
