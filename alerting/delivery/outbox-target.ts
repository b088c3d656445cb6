/**
 * What every delivery target shares: alerts wait in the target's own bounded outbox (keyed by
 * fingerprint, so only an alert's latest version is kept) until `send` gets them through.
 * A target says only how a batch is sent.
 */
import type { Logger } from '../../core/log.js';
import type { DeliveryTarget, NotifiedAlert } from './notified-alert.js';
import { Outbox, type OutboxStats } from './outbox.js';

export abstract class OutboxTarget implements DeliveryTarget {
  abstract readonly name: string;
  abstract readonly resends: boolean;
  private readonly outbox: Outbox<NotifiedAlert>;

  constructor(logger: Logger) {
    this.outbox = new Outbox({ logger, send: (alerts) => this.send(alerts) });
  }

  /** Sends one batch; a rejection makes the outbox retry it with back-off. */
  protected abstract send(alerts: NotifiedAlert[]): Promise<void>;

  enqueue(alerts: readonly NotifiedAlert[]): void {
    for (const a of alerts) this.outbox.put(a.fingerprint, a);
  }

  drain(timeoutMs: number): Promise<boolean> {
    return this.outbox.drain(timeoutMs);
  }

  stats(): OutboxStats {
    return this.outbox.stats();
  }

  close(): void {
    this.outbox.close();
  }
}
