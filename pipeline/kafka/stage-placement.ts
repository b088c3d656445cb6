/**
 * Where each pipeline stage (a bus consumer group) runs when the bus is Kafka, and how it
 * recovers. The stages in pipeline/pipeline.ts share in-process state: the correlator behind
 * group `stalls` reads the port and GPU history that groups `episodes` and `gpu-history`
 * build. So in a correlator process:
 *  - `stalls` is SHARED: one Kafka group across all correlator processes, dividing the
 *    collective_events partitions (keyed by job) among them. That is the scale-out.
 *  - `episodes` and `gpu-history` are PER-PROCESS: each correlator reads every port and GPU
 *    partition, because any job's call may cross any port (spines carry every job).
 *    Every correlator therefore finds the same congestion episodes; their ids are
 *    deterministic, so storage (ReplacingMergeTree by id) keeps one of each.
 *  - State is rebuilt, not checkpointed: per-process groups replay their topics from the
 *    replay window on start, and `stalls` replays a partition from the window the first
 *    time this process is given it (after a crash or rebalance elsewhere), so the new owner
 *    has the job's baseline and the evidence before it decides. Stalls re-decided in the
 *    replay carry the same ids and replace themselves in storage.
 *  - `sink` is SHARED and EXACTLY-ONCE: each delivery has a deterministic id that becomes the
 *    ClickHouse insert deduplication token (delivery-intent.ts).
 *  - `alerting` (alerting/) is SINGLE-PROCESS: one group over port_samples, collective_events
 *    and stalls feeding one in-memory rule engine, whose event-time clock needs all three
 *    streams whole. Every correlator may run it, but its groups use single-owner-assigner.ts:
 *    the longest-running process gets every partition and the others stand by with none. When
 *    the owner dies, a standby is given them all and replays the window to rebuild
 *    pending/firing state. Alert versions have deterministic ids.
 *  - `api-stream` (the live SSE feed) is PER-PROCESS from the latest offset: every API
 *    process pushes every new stall to its own clients; history comes from storage.
 * Groups not listed (other stages that join later) are shared and at-least-once.
 */

export type StageStart = 'committed' | 'replay' | 'latest';

export interface StagePlacement {
  /** One Kafka group for all processes (true) or one per process (false). */
  shared: boolean;
  /** Where a per-process group starts; shared groups resume from their committed offsets. */
  start: StageStart;
  /** Shared groups: replay a partition from the window when first given it. */
  rebuildOnAssign: boolean;
  /** Deliveries carry deterministic ids, re-delivered with the same boundaries. */
  exactlyOnce: boolean;
  /** The stage keeps state across partitions and topics: one process must hold them all. */
  singleProcess?: boolean;
}

const SHARED: StagePlacement = { shared: true, start: 'committed', rebuildOnAssign: false, exactlyOnce: false };

export const STAGE_PLACEMENTS: Record<string, StagePlacement> = {
  episodes: { shared: false, start: 'replay', rebuildOnAssign: false, exactlyOnce: false },
  'gpu-history': { shared: false, start: 'replay', rebuildOnAssign: false, exactlyOnce: false },
  stalls: { ...SHARED, rebuildOnAssign: true },
  sink: { ...SHARED, exactlyOnce: true },
  alerting: { ...SHARED, rebuildOnAssign: true, singleProcess: true },
  'api-stream': { shared: false, start: 'latest', rebuildOnAssign: false, exactlyOnce: false },
};

export function placementOf(group: string): StagePlacement {
  return STAGE_PLACEMENTS[group] ?? SHARED;
}

/** The analysis groups a correlator process runs together (pipeline/pipeline.ts). */
export const CORRELATOR_GROUPS = ['episodes', 'gpu-history', 'stalls'] as const;
