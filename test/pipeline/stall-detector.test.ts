import { describe, expect, it } from 'vitest';
import type { CollectiveEvent } from '../../core/records.js';
import { BASELINE_WARMUP_CALLS } from '../../pipeline/baseline.js';
import { PlacementRegistry } from '../../pipeline/placement.js';
import { StallDetector, stallThreshold } from '../../pipeline/stall-detector.js';
import { collectiveEvent } from './fixtures.js';

const N = 8; // 2 hosts × 4 ranks

/** One call: every rank starts at `t` (+ `late` for some), the ring ends `dur` after the last start. */
function call(seq: number, dur: number, late: Record<number, number> = {}): CollectiveEvent[] {
  const t = 1_000_000_000 + seq * 50_000;
  const starts = Array.from({ length: N }, (_, r) => t + r * 10 + (late[r] ?? 0));
  const end = Math.max(...starts) + dur;
  return starts.map((start_us, rank) => collectiveEvent({ rank, n_ranks: N, host: `node-${Math.floor(rank / 4)}`, seq, start_us, end_us: end + rank }));
}

function warm(d: StallDetector, calls = BASELINE_WARMUP_CALLS): void {
  for (let s = 0; s < calls; s++) expect(d.ingest(call(s, 8000 + (s % 5) * 20))).toEqual([]);
}

describe('StallDetector', () => {
  it('only learns during warm-up, even from slow calls', () => {
    const d = new StallDetector(new PlacementRegistry());
    for (let s = 0; s < BASELINE_WARMUP_CALLS; s++) expect(d.ingest(call(s, s === 3 ? 40_000 : 8000))).toEqual([]);
    expect(d.stats().calls_decided).toBe(BASELINE_WARMUP_CALLS);
  });

  it('puts the bar at the largest of +5%, +1 ms and 6 robust deviations', () => {
    expect(stallThreshold(40_000, 0)).toBeCloseTo(42_000); // 5% of 40 ms beats 1 ms
    expect(stallThreshold(8000, 0)).toBe(9000); // shorter calls: at least 1 ms
    expect(stallThreshold(8000, 500)).toBeCloseTo(8000 + 6 * 1.4826 * 500); // a noisy job raises its own bar
  });

  it('flags a call above its bar with sane numbers', () => {
    const d = new StallDetector(new PlacementRegistry());
    warm(d);
    expect(d.ingest(call(20, 8900))).toEqual([]); // +0.8 ms — within the band
    const [stall] = d.ingest(call(21, 20_000));
    expect(stall).toBeDefined();
    expect(stall!.id).toBe('train-a:21');
    expect(stall!.expected_us).toBeGreaterThan(8000);
    expect(stall!.expected_us).toBeLessThan(8200);
    // duration = max(end) − min(start): last start (70 µs after first) + 20 ms + rank 7's 7 µs
    expect(stall!.duration_us).toBe(70 + 20_000 + 7);
    expect(stall!.excess_us).toBe(stall!.duration_us - stall!.expected_us);
    expect(stall!.end_ms - stall!.start_ms).toBeCloseTo(stall!.duration_us / 1000, 6);
    expect(stall!.ranks).toHaveLength(N);
    expect(stall!.ranks[5]!.gpu).toBe('node-1/gpu-1');
    expect(stall!.nodes).toEqual([0, 1]);
    // no skew: the slowest rank is the one with the longest exec time (the first to enter)
    expect(stall!.slowest_rank).toBe(0);
  });

  it('names the rank that entered last as slowest when arrival skew explains the stall', () => {
    const d = new StallDetector(new PlacementRegistry());
    warm(d);
    const [stall] = d.ingest(call(20, 8000, { 6: 15_000 }));
    expect(stall!.slowest_rank).toBe(6);
    expect(stall!.last_rank).toBe(6);
    expect(stall!.last_rank_lateness_us).toBeGreaterThan(14_900);
    expect(stall!.ranks.find((r) => r.rank === 6)!.gpu).toBe('node-1/gpu-2');
  });

  it('does not learn from stalls (the baseline stays put)', () => {
    const d = new StallDetector(new PlacementRegistry());
    warm(d);
    for (let s = 20; s < 80; s++) expect(d.ingest(call(s, 30_000))).toHaveLength(1);
    const [last] = d.ingest(call(80, 30_000));
    expect(last!.expected_us).toBeLessThan(8200);
  });

  it('decides a call with a missing rank once the job watermark passes it, using what arrived', () => {
    const d = new StallDetector(new PlacementRegistry());
    warm(d);
    const c20 = call(20, 30_000).filter((e) => e.rank !== 3);
    expect(d.ingest(c20)).toEqual([]); // rank 3's record may still come
    expect(d.stats().pending_calls).toBe(1);
    // Every rank (3 included) moves on to the next call: rank 3's record for 20 can no longer come.
    const out = d.ingest(call(21, 8000));
    expect(out.map((s) => s.seq)).toEqual([20]);
    expect(out[0]!.missing_ranks).toEqual([3]);
    expect(d.stats()).toMatchObject({ calls_incomplete: 1, pending_calls: 0 });
  });

  it('decides calls in seq order whatever order their records arrive in', () => {
    const ordered = new StallDetector(new PlacementRegistry());
    const shuffled = new StallDetector(new PlacementRegistry());
    warm(ordered);
    warm(shuffled);
    const calls = [20, 21, 22, 23].map((s) => call(s, s === 21 ? 30_000 : 8000));
    const a = calls.flatMap((c) => ordered.ingest(c));
    // Host node-1's file is read before node-0's: call 22 completes before 21 is seen whole.
    const byHost = (c: CollectiveEvent[], h: string) => c.filter((e) => e.host === h);
    const b = [
      ...shuffled.ingest([...byHost(calls[0]!, 'node-1'), ...byHost(calls[1]!, 'node-1'), ...byHost(calls[2]!, 'node-1')]),
      ...shuffled.ingest([...byHost(calls[0]!, 'node-0'), ...byHost(calls[1]!, 'node-0'), ...byHost(calls[2]!, 'node-0')]),
      ...shuffled.ingest(calls[3]!),
    ];
    expect(b).toEqual(a);
    expect(a.map((s) => s.seq)).toEqual([21]);
  });

  it('counts records of an already decided call as late', () => {
    const d = new StallDetector(new PlacementRegistry());
    warm(d);
    d.ingest(call(5, 8000).slice(0, 1));
    expect(d.stats().late_events).toBe(1);
  });

  it('waits for every rank to be heard before judging calls as incomplete (files are read one by one)', () => {
    const d = new StallDetector(new PlacementRegistry());
    const calls = Array.from({ length: 6 }, (_, s) => call(s, 8000));
    // The first host's file is read to its end before the second host's file.
    for (const c of calls) d.ingest(c.filter((e) => e.host === 'node-0'));
    for (const c of calls) d.ingest(c.filter((e) => e.host === 'node-1'));
    expect(d.stats()).toMatchObject({ calls_decided: 6, calls_incomplete: 0, late_events: 0 });
  });
});
