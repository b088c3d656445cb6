/**
 * Jobs as NCCL would run them: each rank computes (its own speed), enters the collective when
 * its compute ends, and the hierarchical ring (core/collective-routing.ts) moves data only once
 * every rank is in — a ring blocks on its slowest peer — so every rank completes together when
 * the slowest input has arrived. Phases: intra-node ring on the nvsw ports, one inter-node ring
 * per rail over NICs/leaf/spine ports, intra-node ring again (all-reduce).
 */
import type { Topology } from '../core/topology.js';
import { placeRanks, ringTransfers, type RankPlace, type Transfer } from '../core/collective-routing.js';
import { gpuName, nodeName } from '../core/names.js';
import type { Flow, FluidFabric } from './fluid-fabric.js';
import type { CollectiveRecord } from './outputs.js';
import { Prng, hashHex } from './prng.js';
import type { CollectiveKind, ScenarioJob } from './scenario.js';

/** Per-collective launch cost and per-phase step latency (NCCL α, fabric-modeling.md §6.4). */
const LAUNCH_US = 12;
const STEP_US = 4;
/** Kernel channels reported per call in event_trace_ts. */
const CHANNELS = 2;

const NCCL_NAMES: Record<CollectiveKind, string> = {
  allreduce: 'AllReduce',
  allgather: 'AllGather',
  reducescatter: 'ReduceScatter',
  // Approximated by ring traffic in this first cut (see the report).
  alltoall: 'AllToAll',
};

/** nccl-tests bus bandwidth factor for n ranks. */
function busFactor(kind: CollectiveKind, n: number): number {
  if (n <= 1) return 1;
  return kind === 'allreduce' ? (2 * (n - 1)) / n : (n - 1) / n;
}

interface Phase {
  fabric: 'up' | 'out';
  /** Bytes each ring edge carries in this phase. */
  bytesPerEdge: number;
}

/** Services the collective engine needs from the engine around it. */
export interface CollectiveHost {
  readonly fabric: FluidFabric;
  readonly topology: Topology;
  /** When compute of `workUs` nominal µs started at `startUs` on a GPU ends (clock throttling aware). */
  computeEnd(gpu: string, startUs: number, workUs: number): number;
  /** Spine chosen for a scale-out transfer, or -1 when source and destination share a leaf. */
  chooseSpine(job: string, src: { node: number; gpu: number }, dst: { node: number; gpu: number }, channel: number): number;
  /** Records that a GPU was busy during [from, to). */
  markBusy(gpu: string, fromUs: number, toUs: number): void;
  /** Epoch µs of simulated t (µs). */
  epochUs(tUs: number): number;
}

export class JobRun {
  readonly job: ScenarioJob;
  readonly ranks: RankPlace[];
  readonly nodes: number[];
  readonly commId: string;
  private readonly transfers: Transfer[];
  private readonly phases: Phase[];
  private readonly jitter: Prng;
  private seq = 0;
  /** Entry time of each rank into the current collective (µs). */
  private entryUs: Float64Array;
  private computeStartUs: Float64Array;
  /** When the data movement of the current collective starts (all ranks in). */
  dataStartUs = Infinity;
  private phaseIndex = -1;
  private phaseFlows = new Set<Flow>();
  /** Next time this job needs attention when no flow is moving (µs). */
  nextEventUs = Infinity;

  constructor(
    job: ScenarioJob,
    nodes: number[],
    private readonly host: CollectiveHost,
    seed: number,
    startUs: number,
  ) {
    this.job = job;
    this.nodes = nodes;
    const G = host.topology.spec.gpus_per_node;
    this.ranks = placeRanks(nodes, G);
    this.transfers = ringTransfers(nodes, G);
    this.commId = `0x${hashHex(`comm|${seed}|${job.id}`, 14)}`;
    this.jitter = new Prng(`${seed}|jitter|${job.id}`);
    this.phases = buildPhases(job.collective, job.message_bytes, nodes.length, G);
    this.entryUs = new Float64Array(this.ranks.length);
    this.computeStartUs = new Float64Array(this.ranks.length).fill(startUs);
    this.startCompute();
  }

  /** Starts every rank's compute at its computeStartUs and schedules the collective. */
  private startCompute(): void {
    const work = this.job.compute_ms * 1000;
    let last = 0;
    for (let r = 0; r < this.ranks.length; r++) {
      const place = this.ranks[r]!;
      const gpu = gpuName(place.node, place.gpu);
      // ±1 % kernel-time noise so durations look measured, not computed.
      const w = work * (1 + this.jitter.uniform(-0.01, 0.01));
      const start = this.computeStartUs[r]!;
      const end = w > 0 ? this.host.computeEnd(gpu, start, w) : start;
      this.host.markBusy(gpu, start, end);
      // The rank's collective kernel is running (or spinning on peers) from its entry on.
      this.host.markBusy(gpu, end, Infinity);
      this.entryUs[r] = end;
      if (end > last) last = end;
    }
    this.dataStartUs = last + LAUNCH_US;
    this.phaseIndex = -1;
    this.nextEventUs = this.dataStartUs;
  }

  /**
   * Called when simulated time reaches nextEventUs or a flow of this job completed.
   * Returns records of a collective that completed at `nowUs`.
   */
  step(nowUs: number): CollectiveRecord[] {
    if (this.phaseFlows.size > 0 || nowUs < this.nextEventUs) return [];
    this.phaseIndex++;
    if (this.phaseIndex < this.phases.length) {
      this.launchPhase(this.phases[this.phaseIndex]!);
      // Wakes again when its last flow completes (flowDone), or right away if it had none.
      this.nextEventUs = this.phaseFlows.size === 0 ? nowUs + STEP_US : Infinity;
      return [];
    }
    return this.complete(nowUs);
  }

  /** A flow of this job finished; returns true when the whole phase is done. */
  flowDone(flow: Flow, nowUs: number): boolean {
    if (!this.phaseFlows.delete(flow)) return false;
    if (this.phaseFlows.size === 0) {
      this.nextEventUs = nowUs + STEP_US;
      return true;
    }
    return false;
  }

  owns(flow: Flow): boolean {
    return this.phaseFlows.has(flow);
  }

  private launchPhase(phase: Phase): void {
    const topo = this.host.topology;
    for (const t of this.transfers) {
      if (t.fabric !== phase.fabric || phase.bytesPerEdge <= 0) continue;
      if (t.fabric === 'up') {
        const path = topo.scaleUpPath(t.src.node, t.dst.gpu);
        const rate = topo.ports.get(path[0]!)!.capacity_bps / 1e6;
        this.phaseFlows.add(this.host.fabric.addFlow(path, -1, phase.bytesPerEdge, rate));
        continue;
      }
      // NCCL splits a ring over channels, each its own QP: separate flows that ECMP hashes
      // independently, sharing the NIC's line rate.
      const srcNic = topo.nicIndex(t.src.node, t.src.gpu);
      const paths = topo.scaleOutPaths(t.src, t.dst);
      const rate = topo.linkBytesPerSecond / 1e6 / CHANNELS;
      for (let ch = 0; ch < CHANNELS; ch++) {
        const spine = this.host.chooseSpine(this.job.id, t.src, t.dst, ch);
        const path = spine < 0 ? paths[0]! : paths[spine]!;
        this.phaseFlows.add(this.host.fabric.addFlow(path, srcNic, phase.bytesPerEdge / CHANNELS, rate));
      }
    }
  }

  private complete(nowUs: number): CollectiveRecord[] {
    const n = this.ranks.length;
    const bytes = this.job.message_bytes;
    const records: CollectiveRecord[] = [];
    let latest = nowUs;
    for (let r = 0; r < n; r++) {
      const place = this.ranks[r]!;
      const gpu = gpuName(place.node, place.gpu);
      // Ranks observe the end a few µs apart (kernel teardown), like real traces.
      const endUs = nowUs + Math.floor(this.jitter.uniform(0, 4));
      const startUs = this.entryUs[r]!;
      this.host.markBusy(gpu, startUs, endUs);
      const startEpoch = Math.round(this.host.epochUs(startUs));
      const endEpoch = Math.round(this.host.epochUs(endUs));
      const exec = Math.max(1, endEpoch - startEpoch);
      const algbw = bytes / 1e9 / (exec / 1e6);
      const kernels = [];
      for (let c = 0; c < CHANNELS; c++) {
        const ks = startEpoch + 1 + c;
        const ke = Math.max(ks, endEpoch - CHANNELS + c);
        kernels.push({ channel_id: c, start_us: ks, stop_us: ke, record_us: ke + 1 });
      }
      records.push({
        job: this.job.id,
        comm_id: this.commId,
        rank: place.rank,
        n_ranks: n,
        host: nodeName(place.node),
        collective: NCCL_NAMES[this.job.collective],
        seq: this.seq,
        msg_bytes: bytes,
        start_us: startEpoch,
        end_us: endEpoch,
        exec_time_us: exec,
        algbw_gbs: algbw,
        busbw_gbs: algbw * busFactor(this.job.collective, n),
        nnodes: this.nodes.length,
        gpu,
        kernel_events: kernels,
      });
      this.computeStartUs[r] = endUs;
      if (endUs > latest) latest = endUs;
    }
    this.seq++;
    this.startCompute();
    return records;
  }
}

function buildPhases(kind: CollectiveKind, bytes: number, nodes: number, G: number): Phase[] {
  const intra = G > 1 ? ((G - 1) / G) * bytes : 0;
  const interShare = bytes / G;
  const interRing = nodes > 1 ? ((nodes - 1) / nodes) * interShare : 0;
  const phases: Phase[] = [];
  const up = (b: number) => b > 0 && phases.push({ fabric: 'up', bytesPerEdge: b });
  const out = (b: number) => b > 0 && phases.push({ fabric: 'out', bytesPerEdge: b });
  switch (kind) {
    case 'allreduce':
      up(intra);
      out(2 * interRing);
      up(intra);
      break;
    case 'reducescatter':
      up(intra);
      out(interRing);
      break;
    case 'allgather':
    case 'alltoall':
      out(interRing);
      up(intra);
      break;
  }
  return phases;
}
