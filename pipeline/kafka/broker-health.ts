/**
 * Back-pressure when the brokers are away: a circuit breaker in front of the producer. While
 * a send has gone unanswered for longer than `stalledAfterMs`, or since a send failed, new
 * publishes are refused at once (BackpressureError → HTTP 503 + Retry-After, gRPC
 * RESOURCE_EXHAUSTED) instead of each waiting out the send timeout with its records held in
 * memory. One publish at a time is let through as a probe every `probeIntervalMs`; the first
 * send the brokers acknowledge closes the breaker again. Refused records were never sent, so
 * they cannot turn up in Kafka later: only sends already in flight when the brokers went
 * away are ambiguous (see record-producer.ts).
 */
import { BackpressureError } from '../../core/errors.js';

export interface BrokerHealthOptions {
  stalledAfterMs: number;
  probeIntervalMs: number;
}

export interface BrokerHealthStats {
  /** Whether publishes are being refused because the brokers do not answer. */
  open: boolean;
  /** Times the breaker opened. */
  opened: number;
  /** Publishes refused while it was open. */
  refused: number;
}

export class BrokerHealth {
  private failingSince?: number;
  private lastProbe = 0;
  private probing = false;
  private readonly sendsStarted = new Map<number, number>();
  private nextSend = 0;
  private opened = 0;
  private refused = 0;

  constructor(
    private readonly options: BrokerHealthOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Call before a send; throws BackpressureError when the brokers are away and this is no probe. Returns the send's handle. */
  admit(): number {
    const now = this.now();
    if (this.failingSince === undefined && this.oldestSendAge(now) > this.options.stalledAfterMs) this.open(now);
    if (this.failingSince !== undefined) {
      if (this.probing || now - this.lastProbe < this.options.probeIntervalMs) {
        this.refused++;
        const waitS = Math.max(1, Math.ceil((this.options.probeIntervalMs - (now - this.lastProbe)) / 1000));
        throw new BackpressureError(`Kafka brokers have not answered for ${now - this.failingSince} ms; retry later`, waitS);
      }
      this.probing = true;
      this.lastProbe = now;
    }
    const id = this.nextSend++;
    this.sendsStarted.set(id, now);
    return id;
  }

  succeeded(send: number): void {
    this.sendsStarted.delete(send);
    this.probing = false;
    this.failingSince = undefined;
  }

  failed(send: number): void {
    this.sendsStarted.delete(send);
    this.probing = false;
    if (this.failingSince === undefined) this.open(this.now());
  }

  stats(): BrokerHealthStats {
    return { open: this.failingSince !== undefined, opened: this.opened, refused: this.refused };
  }

  private open(now: number): void {
    this.failingSince = now;
    this.lastProbe = now;
    this.opened++;
  }

  private oldestSendAge(now: number): number {
    // Map iteration is in insertion order: the first entry is the oldest send still out.
    for (const started of this.sendsStarted.values()) return now - started;
    return 0;
  }
}
