/**
 * A bounded outbox in front of one receiver. Entries are keyed (one per alert), so a newer
 * version of an alert replaces the one still waiting: while a receiver is down the outbox holds
 * the latest state of each alert rather than every attempt, and its size follows the number of
 * alerts, not the length of the outage. Delivery is retried with exponential back-off; success
 * removes exactly the versions that were sent. Only when more distinct alerts than `capacity`
 * wait does the least recently updated one go (counted as dropped and logged).
 */
import type { Logger } from '../../core/log.js';

export interface OutboxOptions<T> {
  /** Delivers a batch; rejects with a PermanentDeliveryError to drop it, any other error to retry. */
  send: (items: T[]) => Promise<void>;
  logger: Logger;
  capacity?: number;
  maxBatch?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface OutboxStats {
  pending: number;
  delivered: number;
  retries: number;
  rejected: number;
  dropped: number;
  last_error?: string;
}

/** The receiver refused the content (4xx): sending it again cannot succeed. */
export class PermanentDeliveryError extends Error {}

interface Entry<T> {
  item: T;
  version: number;
}

export class Outbox<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly opts: Required<Omit<OutboxOptions<T>, 'send' | 'logger'>>;
  private version = 0;
  private sending?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private backoffMs: number;
  private closed = false;
  private readonly counters = { delivered: 0, retries: 0, rejected: 0, dropped: 0 };
  private lastError?: string;
  private emptied: Array<() => void> = [];

  constructor(private readonly options: OutboxOptions<T>) {
    this.opts = { capacity: 10_000, maxBatch: 500, initialBackoffMs: 250, maxBackoffMs: 30_000, ...options };
    this.backoffMs = this.opts.initialBackoffMs;
  }

  /** Queues `item` under `key`, replacing a waiting version; delivery starts at once. */
  put(key: string, item: T): void {
    if (this.closed) return;
    this.entries.delete(key); // re-inserted last: the map's order is recency
    this.entries.set(key, { item, version: ++this.version });
    while (this.entries.size > this.opts.capacity) {
      const oldest = this.entries.keys().next().value!;
      this.entries.delete(oldest);
      this.counters.dropped++;
      this.options.logger.error('outbox full: dropped the least recently updated alert', { key: oldest, capacity: this.opts.capacity });
    }
    this.kick();
  }

  get pending(): number {
    return this.entries.size;
  }

  stats(): OutboxStats {
    return { pending: this.entries.size, ...this.counters, ...(this.lastError ? { last_error: this.lastError } : {}) };
  }

  /** Resolves once empty, or after `timeoutMs` (what is left stays queued). True when empty. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.entries.size === 0) return true;
    if (this.retryTimer) {
      // Waiting out a back-off: try now rather than at the end of it.
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.kick();
    }
    let timer: NodeJS.Timeout | undefined;
    const empty = new Promise<boolean>((resolve) => this.emptied.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const done = await Promise.race([empty, timeout]);
    clearTimeout(timer);
    return done;
  }

  /** Stops retrying; what is still queued is reported by stats().pending. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private kick(): void {
    if (this.sending || this.retryTimer || this.closed) return;
    this.sending = this.sendAll().finally(() => (this.sending = undefined));
  }

  private async sendAll(): Promise<void> {
    while (this.entries.size > 0 && !this.closed) {
      const batch = [...this.entries].slice(0, this.opts.maxBatch);
      try {
        await this.options.send(batch.map(([, e]) => e.item));
        this.settle(batch);
        this.counters.delivered += batch.length;
        this.backoffMs = this.opts.initialBackoffMs;
      } catch (e) {
        this.lastError = (e as Error).message;
        if (e instanceof PermanentDeliveryError) {
          this.settle(batch);
          this.counters.rejected += batch.length;
          this.options.logger.error('receiver rejected alerts; dropped', { alerts: batch.length, error: this.lastError });
          continue;
        }
        this.counters.retries++;
        this.options.logger.warn('alert delivery failed; retrying', { alerts: batch.length, retry_in_ms: this.backoffMs, error: this.lastError });
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.kick();
        }, this.backoffMs);
        this.retryTimer.unref();
        this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs);
        return;
      }
    }
    if (this.entries.size === 0) {
      const waiters = this.emptied;
      this.emptied = [];
      for (const w of waiters) w();
    }
  }

  /** Removes the sent entries unless a newer version arrived meanwhile. */
  private settle(batch: Array<[string, Entry<T>]>): void {
    for (const [key, sent] of batch) {
      if (this.entries.get(key)?.version === sent.version) this.entries.delete(key);
    }
  }
}
