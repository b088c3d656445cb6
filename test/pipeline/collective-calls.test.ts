import { describe, expect, it } from 'vitest';
import type { CollectiveEvent } from '../../core/records.js';
import { CallAssembler } from '../../pipeline/collective-calls.js';
import { CompletedCalls } from '../../alerting/completed-calls.js';

const ev = (seq: number, rank: number, start_us: number, end_us: number, job = 'j'): CollectiveEvent =>
  ({ job, comm_id: 'c', rank, n_ranks: 2, host: `node-${rank}`, collective: 'allreduce', seq, msg_bytes: 1024, start_us, end_us, exec_time_us: end_us - start_us, algbw_gbs: 1, busbw_gbs: 1 });

describe('CallAssembler', () => {
  it('assembles rank records into a call timed from the first start to the last end', () => {
    const a = new CallAssembler();
    const call = a.add(ev(1, 1, 2_000, 9_000));
    expect(call.complete).toBe(false);
    a.add(ev(1, 0, 1_000, 5_000));
    expect(call.complete).toBe(true);
    expect(call.events().map((e) => e.rank)).toEqual([0, 1]);
    expect(call.summary()).toMatchObject({ job: 'j', seq: 1, collective: 'allreduce', msg_bytes: 1024, start_ms: 1, end_ms: 9, duration_us: 8_000 });
  });

  it('lists a job\'s pending calls in seq order and forgets removed and stale ones', () => {
    const a = new CallAssembler();
    a.add(ev(3, 0, 30_000, 31_000));
    a.add(ev(2, 0, 20_000, 21_000));
    a.add(ev(1, 0, 10_000, 11_000, 'other'));
    expect(a.pending('j').map((c) => c.seq)).toEqual([2, 3]);
    a.remove(a.pending('j')[0]!);
    expect(a.pending('j').map((c) => c.seq)).toEqual([3]);
    a.dropEndedBefore(25);
    expect(a.size).toBe(1);
    expect(a.pending('other')).toEqual([]);
  });
});

describe('CompletedCalls (alert rules)', () => {
  it('keeps only complete calls, by end time, whatever the arrival order', () => {
    const calls = new CompletedCalls();
    calls.add([ev(2, 0, 20_000, 26_000), ev(1, 1, 10_000, 30_000), ev(2, 1, 21_000, 25_000), ev(3, 0, 40_000, 41_000)]);
    calls.add([ev(1, 0, 11_000, 12_000)]);
    expect(calls.window('j', 0, 100).map((c) => [c.seq, c.end_ms])).toEqual([[2, 26], [1, 30]]);
    calls.prune(27);
    expect(calls.window('j', 0, 100).map((c) => c.seq)).toEqual([1]);
  });
});
