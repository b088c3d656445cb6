/**
 * The producer's breaker (pipeline/kafka/broker-health.ts) on a manual clock: a send that
 * goes unanswered, or fails, makes later publishes fail fast with Retry-After; one probe per
 * interval gets through; an acknowledged send closes it.
 */
import { describe, expect, it } from 'vitest';
import { BackpressureError } from '../../core/errors.js';
import { BrokerHealth } from '../../pipeline/kafka/broker-health.js';

function breaker() {
  const clock = { now: 0 };
  const health = new BrokerHealth({ stalledAfterMs: 1000, probeIntervalMs: 2000 }, () => clock.now);
  return { clock, health };
}

describe('the broker breaker', () => {
  it('admits sends while the brokers answer', () => {
    const { clock, health } = breaker();
    for (let i = 0; i < 5; i++) {
      const send = health.admit();
      clock.now += 500;
      health.succeeded(send);
    }
    expect(health.stats()).toEqual({ open: false, opened: 0, refused: 0 });
  });

  it('refuses at once, with Retry-After, while a send goes unanswered', () => {
    const { clock, health } = breaker();
    health.admit(); // never answered
    clock.now += 999;
    health.succeeded(health.admit()); // still within the allowance
    clock.now += 2;
    const refusal = (() => {
      try {
        health.admit();
      } catch (e) {
        return e;
      }
    })();
    expect(refusal).toBeInstanceOf(BackpressureError);
    expect((refusal as BackpressureError).retryAfterS).toBe(2);
    expect(health.stats()).toMatchObject({ open: true, opened: 1, refused: 1 });
  });

  it('lets one probe through per interval and closes on its acknowledgement', () => {
    const { clock, health } = breaker();
    health.failed(health.admit());
    expect(() => health.admit()).toThrow(BackpressureError);
    clock.now += 2000;
    const probe = health.admit();
    expect(() => health.admit()).toThrow(BackpressureError); // one probe at a time
    health.failed(probe);
    expect(() => health.admit()).toThrow(BackpressureError);
    clock.now += 2000;
    health.succeeded(health.admit());
    expect(health.stats().open).toBe(false);
    expect(() => health.succeeded(health.admit())).not.toThrow();
  });
});
