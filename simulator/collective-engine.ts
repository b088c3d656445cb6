/**
 * Jobs as NCCL runs them. Each rank computes (at its own clock speed), enters the collective
 * when its compute ends, and data moves once every rank is in, so a late rank delays everyone by
 * its lateness. A collective is a sequence of phases (hierarchical when the job spans nodes:
 * scale-up first, then scale-out per rail, then scale-up again), each a set of chunk transfers:
 *
 * - ring (all-reduce, all-gather, reduce-scatter): one coupled flow group per ring (per node on
 *   NVLink, per rail and channel over the NICs). A ring step can start only when the previous
 *   step's chunk arrived, so in steady state every edge runs at the slowest edge's pace; the
 *   group models that pipeline in closed form — each sender may run ahead by NCCL's buffer
 *   (4 MB per channel), then waits on its predecessor — instead of one event per chunk.
 * - tree (all-reduce): a double binary tree over the nodes per rail, reduce up and broadcast down
 *   pipelined, half the data on each tree, coupled the same way.
 * - all-to-all (MoE): every rank sends 1/n of its buffer to every other rank at once, aggregated
 *   per (node pair, rail) over NIC g with NVLink forwarding (PXN); ranks wait on all receives, and
 *   the receivers see a (nodes−1):1 fan-in. Each NIC splits its line rate among its sends, so a
 *   balanced exchange fills receivers without oversubscribing them; ECMP collisions and uneven
 *   rates then make the queues (receivers do not pace all-to-all senders as they do ring peers).
 *
 * Fixed costs follow NCCL's α model (fabric-modeling.md §2.5): a launch cost per collective and a
 * per-step latency (NVLink and network hop costs) added to each phase. algbw and busbw are
 * computed as nccl-tests does.
 */
import type { Topology } from '../core/topology.js';
import { allToAllTransfers, placeRanks, ringTransfers, transferPorts, treeTransfers, type RankPlace, type Transfer } from '../core/collective-routing.js';
import { gpuName, nodeName } from '../core/names.js';
import type { Flow, FlowGroup, FluidFabric } from './fluid-fabric.js';
import type { CollectiveJobLayout } from './collective-samples.js';
import { Prng, hashHex } from './prng.js';
import type { CollectiveKind, ScenarioJob } from './scenario.js';

/** Per-collective launch cost and per-step latencies, µs (NCCL LL128 ring/tree α, §2.5). */
const LAUNCH_US = 12;
const NVLINK_STEP_US = 1.9;
const NET_RING_STEP_US = 4.0;
const NET_TREE_STEP_US = 8.5;
/** NCCL_BUFFSIZE: bytes a ring/tree sender may have in flight per channel. */
const CHANNEL_WINDOW_BYTES = 4 * 1024 * 1024;
/**
 * Share of a NIC's line rate NCCL moves as payload: RoCE headers (~2 % at a 4 KB MTU) and the
 * proxy's chunking leave 48.5 of 50 GB/s at 400G (SimAI's effective NIC rate; nccl-tests reports
 * 46–48 GB/s busbw per 400G NIC, fabric-modeling.md §2.5).
 */
const NET_PAYLOAD_EFFICIENCY = 48.5 / 50;
/** Kernel channels reported per call in event_trace_ts. */
const CHANNELS = 2;

const NCCL_NAMES: Record<CollectiveKind, string> = {
  allreduce: 'AllReduce',
  allgather: 'AllGather',
  reducescatter: 'ReduceScatter',
  alltoall: 'AllToAll',
};

/** nccl-tests bus bandwidth factor for n ranks. */
function busFactor(kind: CollectiveKind, n: number): number {
  if (n <= 1) return 1;
  return kind === 'allreduce' ? (2 * (n - 1)) / n : (n - 1) / n;
}

interface Phase {
  fabric: 'up' | 'out';
  pattern: 'ring' | 'tree' | 'alltoall';
  /** Bytes each ring edge (tree edge per direction, all-to-all rank pair) carries in this phase. */
  bytesPerEdge: number;
  /** Fixed latency of the phase: steps × per-step α. */
  latencyUs: number;
}

export type CollectiveAlgorithm = 'ring' | 'tree';

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
  /** Changes whenever faults change: paths, capacities and oper state may differ from then on. */
  readonly faultEpoch: number;
  /**
   * When a replay of this phase, starting now, ends; undefined when the fabric must carry the
   * flows (simulator/phase-replay.ts).
   */
  replayedPhaseEnd(job: JobRun, flows: readonly PhaseFlow[], nowUs: number): number | undefined;
}

/** One flow of a phase as the job asks the fabric for it. */
export interface PhaseFlow {
  readonly path: Int32Array;
  /** Sending NIC, -1 on the scale-up fabric. */
  readonly srcNic: number;
  readonly bytes: number;
  /** Line rate, bytes/µs. */
  readonly rate: number;
  /** Ordinal of its coupled group within the phase (ring or tree), -1 for none. */
  readonly group: number;
  readonly window: number;
}

export class JobRun {
  readonly job: ScenarioJob;
  readonly ranks: RankPlace[];
  readonly nodes: number[];
  readonly commId: string;
  private readonly transfers: Transfer[];
  readonly algorithm: CollectiveAlgorithm;
  private phaseLatencyUs = 0;
  private readonly phases: Phase[];
  private readonly jitter: Prng;
  private seq = 0;
  /** Entry time of each rank into the current collective (µs). */
  private entryUs: Float64Array;
  private computeStartUs: Float64Array;
  /** GPU and host names of each rank (records and busy marks name them at every collective). */
  private readonly rankGpus: string[];
  private readonly rankHosts: string[];
  /** When the data movement of the current collective starts (all ranks in). */
  dataStartUs = Infinity;
  private phaseIndex = -1;
  private phaseFlows = new Set<Flow>();
  /** Each phase's flows, as last built, and the fault epoch they were built in. */
  private readonly phasePlans: Array<{ epoch: number; flows: PhaseFlow[] } | undefined> = [];
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
    this.algorithm = job.collective === 'allreduce' ? (job.algorithm ?? 'ring') : 'ring';
    this.transfers =
      job.collective === 'alltoall' ? allToAllTransfers(nodes, G) : this.algorithm === 'tree' ? treeTransfers(nodes, G) : ringTransfers(nodes, G);
    this.commId = `0x${hashHex(`comm|${seed}|${job.id}`, 14)}`;
    this.jitter = new Prng(`${seed}|jitter|${job.id}`);
    this.phases = buildPhases(job.collective, this.algorithm, job.message_bytes, nodes.length, G);
    this.rankGpus = this.ranks.map((p) => gpuName(p.node, p.gpu));
    this.rankHosts = this.ranks.map((p) => nodeName(p.node));
    this.entryUs = new Float64Array(this.ranks.length);
    this.computeStartUs = new Float64Array(this.ranks.length).fill(startUs);
    this.startCompute();
  }

  /** Starts every rank's compute at its computeStartUs and schedules the collective. */
  private startCompute(): void {
    const work = this.job.compute_ms * 1000;
    let last = 0;
    for (let r = 0; r < this.ranks.length; r++) {
      const gpu = this.rankGpus[r]!;
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
   * Returns the collective that completed at `nowUs`, if one did.
   */
  step(nowUs: number): CompletedCollective | undefined {
    if (this.phaseFlows.size > 0 || nowUs < this.nextEventUs) return undefined;
    this.phaseIndex++;
    if (this.phaseIndex < this.phases.length) {
      const phase = this.phases[this.phaseIndex]!;
      const replayEndUs = this.launchPhase(phase, nowUs);
      this.phaseLatencyUs = phase.latencyUs;
      // Wakes again when its last flow completes (flowDone) or its replay ends, or right away
      // if it had no flows.
      if (replayEndUs !== undefined) this.nextEventUs = replayEndUs + phase.latencyUs;
      else this.nextEventUs = this.phaseFlows.size === 0 ? nowUs + phase.latencyUs : Infinity;
      return undefined;
    }
    return this.complete(nowUs);
  }

  /** A flow of this job finished; returns true when the whole phase is done. */
  flowDone(flow: Flow, nowUs: number): boolean {
    if (!this.phaseFlows.delete(flow)) return false;
    if (this.phaseFlows.size === 0) {
      // The phase's fixed per-step costs (pipeline fill and drain) come on top of its bytes.
      this.nextEventUs = nowUs + this.phaseLatencyUs;
      return true;
    }
    return false;
  }

  owns(flow: Flow): boolean {
    return this.phaseFlows.has(flow);
  }

  /**
   * Starts a phase: the fabric carries its flows, unless the host replays a recording of the
   * same phase (then it says when the replay ends).
   */
  private launchPhase(phase: Phase, nowUs: number): number | undefined {
    // The same phase between fault edges has the same flows: built once, and the same array
    // lets the host recognise it.
    let plan = this.phasePlans[this.phaseIndex];
    if (plan?.epoch !== this.host.faultEpoch) {
      plan = { epoch: this.host.faultEpoch, flows: this.phaseFlowsOf(phase) };
      this.phasePlans[this.phaseIndex] = plan;
    }
    const flows = plan.flows;
    if (flows.length === 0) return undefined;
    const replayEndUs = this.host.replayedPhaseEnd(this, flows, nowUs);
    if (replayEndUs !== undefined) return replayEndUs;
    const groups: FlowGroup[] = [];
    for (const f of flows) {
      let group: FlowGroup | undefined;
      if (f.group >= 0) group = groups[f.group] ??= { members: [] };
      const flow = this.host.fabric.addFlow(f.path, f.srcNic, f.bytes, f.rate, { group, window: f.window, tag: this });
      this.phaseFlows.add(flow);
    }
    return undefined;
  }

  /** The chunk transfers of a phase as fabric flows, in a fixed order. */
  private phaseFlowsOf(phase: Phase): PhaseFlow[] {
    const out: PhaseFlow[] = [];
    if (phase.bytesPerEdge <= 0) return out;
    const topo = this.host.topology;
    const fabric = this.host.fabric;
    const coupled = phase.pattern !== 'alltoall';
    const window = coupled ? CHANNEL_WINDOW_BYTES : Infinity;
    const groups = new Map<string, number>();
    const groupOf = (key: string): number => {
      if (!coupled) return -1;
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = groups.size));
      return g;
    };
    // A NIC's line rate is shared by every transfer it sends in this phase; ring and tree peers
    // also send only as fast as the receiver posts buffers (NCCL's flow control), so a tree
    // node fed by its children and its parent splits its receive rate among them. All-to-all
    // senders are not receiver-paced: every rank sends to every other at once.
    const fanOut = new Map<number, number>();
    const fanIn = new Map<number, number>();
    if (phase.fabric === 'out') {
      for (const t of this.transfers) {
        if (t.fabric !== 'out') continue;
        const src = topo.nicIndex(t.src.node, t.src.gpu);
        const dst = topo.nicIndex(t.dst.node, t.dst.gpu);
        fanOut.set(src, (fanOut.get(src) ?? 0) + 1);
        fanIn.set(dst, (fanIn.get(dst) ?? 0) + 1);
      }
    }
    for (const t of this.transfers) {
      if (t.fabric !== phase.fabric) continue;
      if (t.fabric === 'up') {
        const path = this.resolvedPath(t, -1);
        out.push({ path, srcNic: -1, bytes: phase.bytesPerEdge, rate: fabric.nominalRate(path[0]!), group: groupOf(`n${t.src.node}`), window });
        continue;
      }
      // NCCL splits a ring or tree over channels, each its own QP: separate flows that ECMP
      // hashes independently, sharing the NIC's line rate.
      const srcNic = topo.nicIndex(t.src.node, t.src.gpu);
      // The NIC sends at what other tenants leave of its link, not at line rate into a link they
      // already load: a healthy fabric then runs without standing queues or DCQCN activity.
      const dstNic = topo.nicIndex(t.dst.node, t.dst.gpu);
      const sharers = Math.max(fanOut.get(srcNic)!, coupled ? fanIn.get(dstNic)! : 1);
      const rate = (fabric.availableShare(topo.linkBytesPerSecond / 1e6) * NET_PAYLOAD_EFFICIENCY) / CHANNELS / sharers;
      for (let ch = 0; ch < CHANNELS; ch++) {
        const path = this.resolvedPath(t, this.host.chooseSpine(this.job.id, t.src, t.dst, ch));
        out.push({ path, srcNic, bytes: phase.bytesPerEdge / CHANNELS, rate, group: groupOf(`r${t.src.gpu}c${ch}`), window });
      }
    }
    return out;
  }

  /**
   * Every port any phase of this job may cross (all ECMP paths) and every NIC it sends from:
   * what must be idle for a phase to start as on a fresh fabric.
   */
  footprint(): { ports: Int32Array; nics: Int32Array } {
    const topo = this.host.topology;
    const fabric = this.host.fabric;
    const ports = new Set<number>();
    for (const name of transferPorts(topo, this.transfers)) ports.add(fabric.portIndex(name));
    const nics = new Set<number>();
    for (const t of this.transfers) {
      if (t.fabric !== 'out') continue;
      const nic = topo.nicIndex(t.src.node, t.src.gpu);
      nics.add(nic);
      // PAUSE towards a NIC is counted on the leaf port facing it.
      ports.add(fabric.nicDownlink(nic));
    }
    return { ports: Int32Array.from([...ports].sort((a, b) => a - b)), nics: Int32Array.from([...nics].sort((a, b) => a - b)) };
  }

  /** Port-index paths of each transfer, by spine + 1 (0: no spine), resolved when first used. */
  private readonly pathCache = new Map<Transfer, Int32Array[]>();

  /** A transfer's path through `spine` (-1 for none: scale-up, or both ends on one leaf). */
  private resolvedPath(t: Transfer, spine: number): Int32Array {
    let paths = this.pathCache.get(t);
    if (!paths) this.pathCache.set(t, (paths = []));
    let path = paths[spine + 1];
    if (!path) {
      const topo = this.host.topology;
      const names = t.fabric === 'up' ? topo.scaleUpPath(t.src.node, t.dst.gpu) : topo.scaleOutPath(t.src, t.dst, spine);
      path = paths[spine + 1] = Int32Array.from(names, (name) => this.host.fabric.portIndex(name));
    }
    return path;
  }

  /** Every rank has finished the collective at about `nowUs`: marks it and starts the next compute. */
  private complete(nowUs: number): CompletedCollective {
    const n = this.ranks.length;
    const endUs = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      // Ranks observe the end a few µs apart (kernel teardown), like real traces.
      endUs[r] = nowUs + Math.floor(this.jitter.uniform(0, 4));
      this.host.markBusy(this.rankGpus[r]!, this.entryUs[r]!, endUs[r]!);
    }
    const done = new CompletedCollective(this, this.seq, Float64Array.from(this.entryUs), endUs);
    this.computeStartUs.set(endUs);
    this.seq++;
    this.startCompute();
    return done;
  }

  /** What every record of this job's collectives shares. */
  recordLayout(): CollectiveJobLayout {
    return {
      job: this.job.id,
      commId: this.commId,
      collective: NCCL_NAMES[this.job.collective],
      msgBytes: this.job.message_bytes,
      busFactor: busFactor(this.job.collective, this.ranks.length),
      nnodes: this.nodes.length,
      channels: CHANNELS,
      ranks: this.ranks.map((p) => p.rank),
      hosts: [...this.rankHosts],
      gpus: [...this.rankGpus],
    };
  }
}

/** A collective every rank finished: its ranks' entry and end times (simulated µs). */
export class CompletedCollective {
  constructor(
    readonly run: JobRun,
    readonly seq: number,
    readonly entryUs: Float64Array,
    readonly endUs: Float64Array,
  ) {}
}

function buildPhases(kind: CollectiveKind, algorithm: CollectiveAlgorithm, bytes: number, nodes: number, G: number): Phase[] {
  const phases: Phase[] = [];
  const upSteps = G - 1;
  const up = (b: number, pattern: Phase['pattern'] = 'ring') =>
    b > 0 && phases.push({ fabric: 'up', pattern, bytesPerEdge: b, latencyUs: upSteps * NVLINK_STEP_US });
  const out = (b: number, steps: number, stepUs: number, pattern: Phase['pattern']) =>
    b > 0 && phases.push({ fabric: 'out', pattern, bytesPerEdge: b, latencyUs: steps * stepUs });
  const intra = G > 1 ? ((G - 1) / G) * bytes : 0;
  // After the intra-node reduce-scatter each rail carries 1/G of the data between nodes.
  const shard = bytes / G;
  const interRing = nodes > 1 ? ((nodes - 1) / nodes) * shard : 0;
  const depth = Math.ceil(Math.log2(Math.max(2, nodes)));
  switch (kind) {
    case 'allreduce':
      up(intra);
      if (algorithm === 'tree' && nodes > 1) out(shard / 2, 2 * depth, NET_TREE_STEP_US, 'tree');
      else out(2 * interRing, 2 * (nodes - 1), NET_RING_STEP_US, 'ring');
      up(intra);
      break;
    case 'reducescatter':
      up(intra);
      out(interRing, nodes - 1, NET_RING_STEP_US, 'ring');
      break;
    case 'allgather':
      out(interRing, nodes - 1, NET_RING_STEP_US, 'ring');
      up(intra);
      break;
    case 'alltoall': {
      // Each rank holds `bytes` and sends bytes/n to every rank: per GPU pair inside a node, and
      // per (node pair, rail) G × bytes/n forwarded through NIC g (PXN).
      const n = nodes * G;
      if (G > 1) phases.push({ fabric: 'up', pattern: 'alltoall', bytesPerEdge: bytes / n, latencyUs: NVLINK_STEP_US });
      if (nodes > 1) out((G * bytes) / n, 1, NET_RING_STEP_US, 'alltoall');
      break;
    }
  }
  return phases;
}
