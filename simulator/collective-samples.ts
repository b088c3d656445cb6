/**
 * NCCL Inspector records of completed collectives: what a drain packs (CompletedCollectives, cheap
 * to hand to the export thread) and the per-rank records built from it.
 *
 * A rank's record and its kernel spans are classes rather than object literals, for the reason
 * simulator/switch-samples.ts gives: a drain builds a second's records at once (hundreds of
 * thousands at 1,024 GPUs), they outlive a scavenge, and V8 would then pretenure the literal
 * site, making every later drain cost several times its work in GC. Same own properties in the
 * same order as the literals they replace.
 */
import type { CollectiveRecord, KernelEvent } from './outputs.js';

export class KernelSpan implements KernelEvent {
  constructor(
    readonly channel_id: number,
    readonly start_us: number,
    readonly stop_us: number,
    readonly record_us: number,
  ) {}
}

export class RankRecord implements CollectiveRecord {
  constructor(
    readonly job: string,
    readonly comm_id: string,
    readonly rank: number,
    readonly n_ranks: number,
    readonly host: string,
    readonly collective: string,
    readonly seq: number,
    readonly msg_bytes: number,
    readonly start_us: number,
    readonly end_us: number,
    readonly exec_time_us: number,
    readonly algbw_gbs: number,
    readonly busbw_gbs: number,
    readonly nnodes: number,
    readonly gpu: string,
    readonly kernel_events: KernelEvent[],
  ) {}
}

/** What every record of one job's collectives shares: fixed for a run. */
export interface CollectiveJobLayout {
  job: string;
  commId: string;
  /** NCCL's name of the collective (`AllReduce`, ...). */
  collective: string;
  msgBytes: number;
  /** busbw = algbw × this (nccl-tests' factor for the collective and rank count). */
  busFactor: number;
  nnodes: number;
  /** NCCL channels: the kernel spans each record lists. */
  channels: number;
  /** Rank number, host and GPU of each rank, in rank order. */
  ranks: number[];
  hosts: string[];
  gpus: string[];
}

/**
 * Collectives completed since the last drain, packed in one array (cheap to hand to another
 * thread): for each, [job index, seq, entry epoch µs of each rank…, end epoch µs of each rank…],
 * the rank count being the job's.
 */
export interface CompletedCollectives {
  data: Float64Array;
  /** Collectives and rank records in `data`. */
  collectives: number;
  records: number;
}

/** The NCCL Inspector records of completed collectives, one per rank, in completion and rank order. */
export function collectiveRecordsOf(jobs: readonly CollectiveJobLayout[], done: CompletedCollectives): CollectiveRecord[] {
  // A sized array, not a `[]` literal: V8 pretenures an array-literal site whose arrays outlive
  // a scavenge (see switch-samples.ts), and a drain's records all do.
  const records = new Array<CollectiveRecord>(done.records);
  let out = 0;
  forEachCollective(jobs, done, (ranks) => {
    for (const r of ranks) records[out++] = r;
  });
  return records;
}

/**
 * Each completed collective's rank records in turn, built only when visited: a reader done with
 * one collective before the next keeps one collective's records alive, not the drain's.
 */
export function forEachCollective(jobs: readonly CollectiveJobLayout[], done: CompletedCollectives, visit: (records: CollectiveRecord[]) => void): void {
  const d = done.data;
  let at = 0;
  for (let c = 0; c < done.collectives; c++) {
    const layout = jobs[d[at]!]!;
    const seq = d[at + 1]!;
    const n = layout.ranks.length;
    const entry = at + 2;
    const end = entry + n;
    const records = new Array<CollectiveRecord>(n);
    for (let r = 0; r < n; r++) {
      const startEpoch = Math.round(d[entry + r]!);
      const endEpoch = Math.round(d[end + r]!);
      const exec = Math.max(1, endEpoch - startEpoch);
      const algbw = layout.msgBytes / 1e9 / (exec / 1e6);
      const channels = layout.channels;
      const kernels = new Array<KernelSpan>(channels);
      for (let k = 0; k < channels; k++) {
        const ks = startEpoch + 1 + k;
        const ke = Math.max(ks, endEpoch - channels + k);
        kernels[k] = new KernelSpan(k, ks, ke, ke + 1);
      }
      records[r] = new RankRecord(
        layout.job,
        layout.commId,
        layout.ranks[r]!,
        n,
        layout.hosts[r]!,
        layout.collective,
        seq,
        layout.msgBytes,
        startEpoch,
        endEpoch,
        exec,
        algbw,
        algbw * layout.busFactor,
        layout.nnodes,
        layout.gpus[r]!,
        kernels,
      );
    }
    visit(records);
    at = end + n;
  }
}
