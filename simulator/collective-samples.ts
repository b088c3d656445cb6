/**
 * A rank's collective record and its kernel spans as classes rather than object literals, for the
 * reason simulator/switch-samples.ts gives: a drain builds a second's records at once (hundreds
 * of thousands at 1,024 GPUs), they outlive a scavenge, and V8 would then pretenure the literal
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
