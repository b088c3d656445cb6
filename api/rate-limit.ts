/**
 * Per-client rate limiting: one token bucket per client IP (the socket's address; express's
 * `trust proxy` is off, so X-Forwarded-For cannot be used to pick someone else's bucket).
 * Buckets refill lazily on use, so idle clients cost nothing but their map entry, and the map
 * is bounded: when full, the stalest buckets go (a forgotten bucket starts full again).
 */
import type { NextFunction, Request, Response } from 'express';
import { FabricscopeError } from '../core/errors.js';

export interface RateLimitOptions {
  /** Sustained requests per second per client. */
  requests_per_s: number;
  /** Requests a client may make at once before the sustained rate applies. */
  burst: number;
  /** Distinct clients tracked at once (default 10,000). */
  max_clients?: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { requests_per_s: 100, burst: 200 };

export class RateLimitedError extends FabricscopeError {
  readonly retryAfterS: number;
  constructor(retryAfterS: number) {
    super('RATE_LIMITED', `too many requests; retry in ${retryAfterS} s`);
    this.retryAfterS = retryAfterS;
  }
}

interface Bucket {
  tokens: number;
  updated_ms: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxClients: number;

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number = Date.now,
  ) {
    if (!(options.requests_per_s > 0) || !(options.burst >= 1)) {
      throw new RangeError('rate limit needs requests_per_s > 0 and burst >= 1');
    }
    this.maxClients = options.max_clients ?? 10_000;
  }

  /** Takes one token for `client`; returns 0 when allowed, else the seconds until one is free. */
  take(client: string): number {
    const now = this.now();
    let b = this.buckets.get(client);
    if (b) {
      b.tokens = Math.min(this.options.burst, b.tokens + ((now - b.updated_ms) / 1000) * this.options.requests_per_s);
      b.updated_ms = now;
      // Re-insert so Map order stays least-recently-used first.
      this.buckets.delete(client);
    } else {
      b = { tokens: this.options.burst, updated_ms: now };
      this.evictIfFull();
    }
    this.buckets.set(client, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.options.requests_per_s));
  }

  private evictIfFull(): void {
    while (this.buckets.size >= this.maxClients) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) return;
      this.buckets.delete(oldest);
    }
  }
}

export function rateLimit(buckets: TokenBuckets, onLimited: () => void) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const retryAfterS = buckets.take(req.socket.remoteAddress ?? 'unknown');
    if (retryAfterS === 0) return next();
    onLimited();
    next(new RateLimitedError(retryAfterS));
  };
}
