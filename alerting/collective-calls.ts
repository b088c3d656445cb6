/**
 * Assembles NCCL per-rank records into whole collective calls, the unit the determinism rules
 * reason on: a call's duration is last rank's end − first rank's start (what the job waited).
 * A call is complete when every rank's record is in; calls that never complete (a rank died)
 * are dropped once they fall out of the look-back.
 */
import type { CollectiveEvent } from '../core/records.js';

export interface CollectiveCall {
  job: string;
  collective: string;
  seq: number;
  msg_bytes: number;
  n_ranks: number;
  start_ms: number;
  end_ms: number;
  duration_us: number;
}

interface PartialCall {
  call: CollectiveCall;
  ranks: Set<number>;
  startUs: number;
  endUs: number;
}

export class CollectiveCalls {
  private readonly partial = new Map<string, PartialCall>();
  /** Complete calls per job, sorted by (end, seq). */
  private readonly complete = new Map<string, CollectiveCall[]>();

  add(events: readonly CollectiveEvent[]): void {
    for (const e of events) {
      const key = `${e.job}\u0000${e.seq}`;
      let p = this.partial.get(key);
      if (!p) {
        p = {
          call: { job: e.job, collective: e.collective, seq: e.seq, msg_bytes: e.msg_bytes, n_ranks: e.n_ranks, start_ms: 0, end_ms: 0, duration_us: 0 },
          ranks: new Set(),
          startUs: e.start_us,
          endUs: e.end_us,
        };
        this.partial.set(key, p);
      }
      p.ranks.add(e.rank);
      p.startUs = Math.min(p.startUs, e.start_us);
      p.endUs = Math.max(p.endUs, e.end_us);
      if (p.ranks.size < e.n_ranks) continue;
      this.partial.delete(key);
      const call = { ...p.call, start_ms: p.startUs / 1000, end_ms: p.endUs / 1000, duration_us: p.endUs - p.startUs };
      this.insertSorted(call);
    }
  }

  jobs(): string[] {
    return [...this.complete.keys()].sort();
  }

  /** Complete calls of `job` ending in (from, to], in (end, seq) order. */
  window(job: string, from: number, to: number): CollectiveCall[] {
    return (this.complete.get(job) ?? []).filter((c) => c.end_ms > from && c.end_ms <= to);
  }

  /** Forgets calls that ended before `cutoff`, and incomplete ones that started before it. */
  prune(cutoff: number): void {
    for (const [job, list] of this.complete) {
      let n = 0;
      while (n < list.length && list[n]!.end_ms < cutoff) n++;
      if (n > 0) list.splice(0, n);
      if (list.length === 0) this.complete.delete(job);
    }
    for (const [key, p] of this.partial) if (p.endUs / 1000 < cutoff) this.partial.delete(key);
  }

  private insertSorted(call: CollectiveCall): void {
    let list = this.complete.get(call.job);
    if (!list) this.complete.set(call.job, (list = []));
    let i = list.length;
    while (i > 0 && (list[i - 1]!.end_ms > call.end_ms || (list[i - 1]!.end_ms === call.end_ms && list[i - 1]!.seq > call.seq))) i--;
    list.splice(i, 0, call);
  }
}
