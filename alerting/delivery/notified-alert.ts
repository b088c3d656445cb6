/** What the delivery side knows of an alert: its identity and event times, not yet on anyone's clock. */
export interface NotifiedAlert {
  id: string;
  fingerprint: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Event time it started firing. */
  fired_ms: number;
  /** Event time it resolved (resolved alerts only). */
  resolved_ms?: number;
  value: number;
}

/** A receiver of alerts behind its own outbox. */
export interface DeliveryTarget {
  readonly name: string;
  /** Whether firing alerts are re-sent periodically (Alertmanager) or only on change (webhooks). */
  readonly resends: boolean;
  enqueue(alerts: readonly NotifiedAlert[]): void;
  drain(timeoutMs: number): Promise<boolean>;
  stats(): import('./outbox.js').OutboxStats;
  close(): void;
}
