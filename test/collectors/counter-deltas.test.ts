import { describe, expect, it } from 'vitest';
import { CounterDeltas } from '../../collectors/counter-deltas.js';

describe('CounterDeltas', () => {
  it('gives 0 for a first sample, then differences with their interval', () => {
    const d = new CounterDeltas();
    expect(d.observe('a', { value: 100, ts_ms: 1_000 })).toEqual({ delta: 0, interval_ms: 0, reset: false });
    expect(d.observe('a', { value: 150, ts_ms: 1_100 })).toEqual({ delta: 50, interval_ms: 100, reset: false });
    expect(d.observe('b', { value: 7, ts_ms: 1_100 })).toEqual({ delta: 0, interval_ms: 0, reset: false });
  });

  it('takes the new value as the delta after a reset or a restart', () => {
    const d = new CounterDeltas();
    d.observe('a', { value: 500, ts_ms: 1_000, start_ms: 10 });
    expect(d.observe('a', { value: 20, ts_ms: 1_100, start_ms: 10 })).toEqual({ delta: 20, interval_ms: 100, reset: true });
    expect(d.observe('a', { value: 900, ts_ms: 1_200, start_ms: 1_150 })).toEqual({ delta: 900, interval_ms: 100, reset: true });
    expect(d.observe('a', { value: 950, ts_ms: 1_300, start_ms: 1_150 })).toEqual({ delta: 50, interval_ms: 100, reset: false });
  });

  it('ignores stale samples and keeps nothing from an uncommitted transaction', () => {
    const d = new CounterDeltas();
    d.observe('a', { value: 10, ts_ms: 1_000 });
    expect(d.observe('a', { value: 10, ts_ms: 1_000 })).toBeUndefined();
    expect(d.observe('a', { value: 5, ts_ms: 900 })).toBeUndefined();
    const tx = d.transaction();
    expect(tx.observe('a', { value: 30, ts_ms: 1_100 })!.delta).toBe(20);
    expect(tx.observe('a', { value: 35, ts_ms: 1_200 })!.delta).toBe(5); // sees its own pending state
    // not committed: a retry computes the same deltas again
    expect(d.transaction().observe('a', { value: 30, ts_ms: 1_100 })!.delta).toBe(20);
    expect(d.evictOlderThan(2_000)).toBe(1);
    expect(d.size).toBe(0);
  });

  it('keeps transactions open at the same time apart, and a commit after an eviction brings the series back', () => {
    const d = new CounterDeltas();
    d.observe('a', { value: 10, ts_ms: 1_000 });
    const first = d.transaction();
    expect(first.observe('a', { value: 30, ts_ms: 1_100 })!.delta).toBe(20);
    // A second payload normalised while the first is still being published: it sees only what was committed.
    const second = d.transaction();
    expect(second.observe('a', { value: 45, ts_ms: 1_200 })!.delta).toBe(35);
    second.commit();
    first.commit(); // older: the newer commit wins
    expect(d.observe('a', { value: 50, ts_ms: 1_300 })!.delta).toBe(5);

    const state = d.state('a');
    const late = d.transaction();
    expect(late.observeState(state, { value: 60, ts_ms: 1_400 })!.delta).toBe(10);
    expect(d.evictWhere((key) => key === 'a')).toBe(1);
    expect(state.removed).toBe(true);
    late.commit();
    expect(d.size).toBe(1);
    expect(d.observe('a', { value: 61, ts_ms: 1_500 })!.delta).toBe(1);
  });
});
