/**
 * Assembly of NCCL per-rank records into whole collective calls, keyed by (job, seq): the unit the
 * stall detector and the alert rules both reason on. A call's duration is the last rank's end
 * minus the first rank's start (what the job waited); it is complete when every rank's record is in.
 * When to decide an incomplete call is the caller's policy (the stall detector uses its job's
 * watermark; the alert rules wait for completeness and drop what never completes).
 */
import type { CollectiveEvent } from '../core/records.js';

/** One call's identity and timing over the ranks whose records are in. */
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

/** A call being assembled: its rank records so far. */
export class AssemblingCall {
  readonly byRank = new Map<number, CollectiveEvent>();
  startUs = Number.POSITIVE_INFINITY;
  endUs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly job: string,
    readonly seq: number,
    readonly nRanks: number,
  ) {}

  get complete(): boolean {
    return this.byRank.size >= this.nRanks;
  }

  /** The rank records in rank order. */
  events(): CollectiveEvent[] {
    return [...this.byRank.values()].sort((a, b) => a.rank - b.rank);
  }

  summary(): CollectiveCall {
    const first = this.events()[0]!;
    return {
      job: this.job,
      collective: first.collective,
      seq: this.seq,
      msg_bytes: first.msg_bytes,
      n_ranks: this.nRanks,
      start_ms: this.startUs / 1000,
      end_ms: this.endUs / 1000,
      duration_us: this.endUs - this.startUs,
    };
  }
}

export class CallAssembler {
  /** Calls being assembled, per job, by seq. */
  private readonly byJob = new Map<string, Map<number, AssemblingCall>>();

  /** Adds one rank record (a repeated record replaces the earlier one); returns its call. */
  add(e: CollectiveEvent): AssemblingCall {
    let calls = this.byJob.get(e.job);
    if (!calls) this.byJob.set(e.job, (calls = new Map()));
    let call = calls.get(e.seq);
    if (!call) calls.set(e.seq, (call = new AssemblingCall(e.job, e.seq, e.n_ranks)));
    call.byRank.set(e.rank, e);
    call.startUs = Math.min(call.startUs, e.start_us);
    call.endUs = Math.max(call.endUs, e.end_us);
    return call;
  }

  /** A job's calls still being assembled, in seq order. */
  pending(job: string): AssemblingCall[] {
    return [...(this.byJob.get(job)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
  }

  /** Stops assembling a call (decided, or given up on). */
  remove(call: AssemblingCall): void {
    const calls = this.byJob.get(call.job);
    calls?.delete(call.seq);
    if (calls?.size === 0) this.byJob.delete(call.job);
  }

  /** Gives up on calls whose latest record ended before `cutoffMs`. */
  dropEndedBefore(cutoffMs: number): void {
    for (const [job, calls] of this.byJob) {
      for (const [seq, c] of calls) if (c.endUs / 1000 < cutoffMs) calls.delete(seq);
      if (calls.size === 0) this.byJob.delete(job);
    }
  }

  get size(): number {
    let n = 0;
    for (const calls of this.byJob.values()) n += calls.size;
    return n;
  }
}
