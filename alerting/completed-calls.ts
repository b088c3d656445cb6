/**
 * The complete collective calls the alert rules read, per job in (end, seq) order. Calls are
 * assembled by pipeline/collective-calls.ts (shared with the stall detector); a call that never
 * completes (a rank died) is dropped once it falls out of the look-back.
 */
import type { CollectiveEvent } from '../core/records.js';
import { CallAssembler, type CollectiveCall } from '../pipeline/collective-calls.js';

export class CompletedCalls {
  private readonly assembler = new CallAssembler();
  /** Complete calls per job, sorted by (end, seq). */
  private readonly complete = new Map<string, CollectiveCall[]>();

  add(events: readonly CollectiveEvent[]): void {
    for (const e of events) {
      const call = this.assembler.add(e);
      if (!call.complete) continue;
      this.assembler.remove(call);
      this.insertSorted(call.summary());
    }
  }

  jobs(): string[] {
    return [...this.complete.keys()].sort();
  }

  /** Complete calls of `job` ending in (from, to], in (end, seq) order. */
  window(job: string, from: number, to: number): CollectiveCall[] {
    return (this.complete.get(job) ?? []).filter((c) => c.end_ms > from && c.end_ms <= to);
  }

  /** Forgets calls that ended before `cutoff`, and incomplete ones whose records all ended before it. */
  prune(cutoff: number): void {
    for (const [job, list] of this.complete) {
      let n = 0;
      while (n < list.length && list[n]!.end_ms < cutoff) n++;
      if (n > 0) list.splice(0, n);
      if (list.length === 0) this.complete.delete(job);
    }
    this.assembler.dropEndedBefore(cutoff);
  }

  private insertSorted(call: CollectiveCall): void {
    let list = this.complete.get(call.job);
    if (!list) this.complete.set(call.job, (list = []));
    let i = list.length;
    while (i > 0 && (list[i - 1]!.end_ms > call.end_ms || (list[i - 1]!.end_ms === call.end_ms && list[i - 1]!.seq > call.seq))) i--;
    list.splice(i, 0, call);
  }
}
