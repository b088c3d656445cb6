/**
 * Root-cause attribution of one stall: pure functions over the stall, the topology and the
 * telemetry of the stall's window (the correlator gathers it once the watermarks say it is all in).
 *
 * Order of reasoning:
 * 1. Arrival skew. If the last rank (its GPU) entered the collective late by a large share of the
 *    stall's excess, the peers were waiting for it: `straggler_gpu` at that GPU; clock throttling in
 *    its DCGM samples (against its peers) backs the verdict and raises confidence.
 * 2. The fabric. The job's transfers (core/collective-routing.ts) give the egress ports its traffic
 *    can cross; ports among them showing congestion signals in the window are scored and the worst
 *    is explained: down → link_flap, errors → link_degraded, credits → credit_starvation, paused by
 *    its peer → follow the pause back to whoever sent it (pfc_storm, or the congested egress behind
 *    it), egress queue/ECN → incast_congestion on a leaf downlink, ecmp_collision on a leaf uplink
 *    carrying far more than its siblings.
 * 3. No port over a threshold, but a leaf's uplinks badly unbalanced with marks on the heavy one:
 *    ecmp_collision.
 * 4. Otherwise `unknown`, with the evidence there is. Ports no transfer of the job uses are never
 *    looked at, so benign congestion elsewhere cannot be blamed.
 */
import { allToAllTransfers, ringTransfers, transferPorts, treeTransfers, type Transfer } from '../core/collective-routing.js';
import { deviceOfPort, leafName, type RootCauseKind } from '../core/names.js';
import type { Evidence, GpuSample, PortSample, RootCause } from '../core/records.js';
import type { PortInfo, Topology } from '../core/topology.js';
import {
  CREDIT_STALL_SHARE,
  ECN_MARKS_PER_S,
  PFC_RX_PAUSED_SHARE,
  PFC_TX_FRAMES_PER_S,
  QUEUE_CONGESTED_BYTES,
} from './congestion-signals.js';
import { median } from './baseline.js';
import { deviationBar, learnPortNormal, type PortNormal } from './port-normals.js';
import { ARRIVAL_SKEW_DOMINANT_SHARE, type DetectedStall } from './stall-detector.js';

/** The last rank's late entry must explain at least half the excess for the GPU to be blamed (the detector names it slowest by the same rule). */
export const STRAGGLER_SKEW_SHARE = ARRIVAL_SKEW_DOMINANT_SHARE;
/** SM clock under 90% of its peers' median in the window counts as throttled. */
export const SM_CLOCK_LOW_RATIO = 0.9;
/** DCGM clock-event reasons that mean the GPU slowed itself: SW thermal, HW thermal, HW slowdown. */
export const THROTTLE_REASON_BITS = { SW_THERMAL: 0x20, HW_THERMAL: 0x40, HW_SLOWDOWN: 0x8 } as const;
/** A port paused by its peer this share of the time is a victim of pauses, not a congestion origin. */
export const PAUSED_DOMINANT_SHARE = 0.3;
/**
 * An uplink is "colliding" when it carries at least 1.3× the bytes of its busiest sibling over
 * the window: ECMP spreads a healthy job's flows within ~15%, and background traffic keeps even an
 * idle sibling from reading zero (a plain "sibling idle" test missed real collisions).
 */
export const ECMP_IMBALANCE_RATIO = 1.3;
/** How far a pause chain is followed back (leaf → spine → leaf → NIC is 3 hops). */
export const MAX_PAUSE_HOPS = 4;
/** A port must average at least one signal at its threshold over the window to be blamed: a lone burst sample among several clean ones is not a cause. */
export const MIN_BLAME_SCORE = 1;
/**
 * Persistence: a signal counts only when it deviates in at least this many samples of the stall's
 * context (the window plus two switch intervals either side). One burst sample is not a cause.
 */
export const PERSISTENT_SAMPLES = 2;
/**
 * ECN marks per second that may count once a port has a learned normal: far below the fixed bar
 * of an episode (50k/s), because a collision or a degraded link marks only a few hundred packets
 * per interval when the job's traffic is bursty; the port's own normal level keeps busy uplinks out.
 */
export const ECN_DEVIATION_FLOOR_PER_S = 500;
/**
 * A collision moves the job's flows from the sibling uplinks onto one: at least this share of the
 * leaf's expected uplink bytes must have moved (gained by the suspect and lost by a sibling, each
 * against its own normal rate). Background traffic dilutes the share, hence a low bar; a uniform
 * slowdown (both uplinks lose) or uniform speed-up (both gain) moves nothing.
 */
export const ECMP_SHIFT_SHARE = 0.04;
/**
 * ...and the heavy uplink must then mark ECN at this multiple of its normal rate (mean over the
 * window). DCQCN holds a collided uplink's queue about Kmin with goodput near line rate, so its
 * marks rise by the colliding flows' share (about 2× on the bundled simulator), not by the 3× that
 * makes a port's signal deviate on its own.
 */
export const ECMP_ECN_RISE = 1.5;
/** Each score component is capped so one saturated signal cannot drown the others. */
const COMPONENT_CAP = 10;

export interface AttributionInput {
  stall: DetectedStall;
  topology: Topology;
  /** Samples of a port within the stall's window (any port: the pause trace leaves the job's paths). */
  portSamples: (port: string) => readonly PortSample[];
  /** Samples around the window (two switch intervals either side), for the persistence rule; defaults to the window. */
  portContext?: (port: string) => readonly PortSample[];
  /** Samples of the port's recent past before the stall, to learn its normal levels; none → fixed bars only. */
  portHistory?: (port: string) => readonly PortSample[];
  /** Samples of a GPU within the stall's window. */
  gpuSamples: (gpu: string) => readonly GpuSample[];
  /** Id of the congestion episode a port was in at a time, for the evidence. */
  episodeAt?: (port: string, ts: number) => string | undefined;
}

/**
 * One port's congestion over the window. Signals are kept at their peak (for the evidence); the
 * score parts are per-sample ratios to each threshold, averaged over the window's samples, so a
 * sustained fault outweighs a one-sample burst.
 */
export interface PortWindow {
  port: string;
  info: PortInfo;
  peak_queue_bytes: number;
  peak_ts: number;
  ecn_per_s: number;
  pfc_tx_per_s: number;
  rx_paused_share: number;
  credit_stall_share: number;
  link_errors: number;
  down_samples: number;
  tx_bytes: number;
  /** Score components: mean over samples of (signal ÷ its threshold, capped; 0 below threshold). */
  parts: { queue: number; ecn: number; pfc_tx: number; pfc_rx: number; credit: number; errors: number; down: number };
  score: number;
  /** The bars the rate signals were judged against (fixed, or raised to the port's normal level). */
  bars: { queue: number; ecn: number; pfc_tx: number; pfc_rx: number };
  /** The port's learned normal levels, when it had history (SummarizeOptions.normal). */
  normal?: PortNormal;
}

export interface SummarizeOptions {
  /** The port's learned normal levels: signals are judged against them as well as the fixed bars. */
  normal?: PortNormal;
  /** Samples around the window: a signal counts only if it deviates in PERSISTENT_SAMPLES of them. */
  context?: readonly PortSample[];
}

type Part = keyof PortWindow['parts'];

/** Per-sample bars of the rate signals: the fixed bar, raised to the port's normal level when known. */
function barsFor(normal: PortNormal | undefined) {
  return {
    queue: deviationBar(normal?.queue_bytes, QUEUE_CONGESTED_BYTES),
    ecn: normal ? deviationBar(normal.ecn_per_s, ECN_DEVIATION_FLOOR_PER_S) : ECN_MARKS_PER_S,
    pfc_tx: deviationBar(normal?.pfc_tx_per_s, PFC_TX_FRAMES_PER_S),
    pfc_rx: deviationBar(normal?.rx_paused_share, PFC_RX_PAUSED_SHARE),
  };
}

/** Which signals one sample shows against the bars. */
function deviations(s: PortSample, bars: ReturnType<typeof barsFor>): Set<Part> {
  const out = new Set<Part>();
  if (s.queue_bytes >= bars.queue) out.add('queue');
  if (s.interval_ms > 0) {
    const perS = 1000 / s.interval_ms;
    const intervalUs = s.interval_ms * 1000;
    if (s.ecn_marked_pkts * perS >= bars.ecn) out.add('ecn');
    if (s.pfc_tx_pause_frames * perS >= bars.pfc_tx) out.add('pfc_tx');
    if (s.pfc_rx_pause_us / intervalUs >= bars.pfc_rx) out.add('pfc_rx');
    if (s.credit_stall_us >= CREDIT_STALL_SHARE * intervalUs) out.add('credit');
  }
  if (s.link_errors > 0) out.add('errors');
  if (!s.oper_up) out.add('down');
  return out;
}

export function summarizePort(info: PortInfo, samples: readonly PortSample[], options: SummarizeOptions = {}): PortWindow | undefined {
  if (samples.length === 0) return undefined;
  const bars = barsFor(options.normal);
  // Persistence: signals seen in at least PERSISTENT_SAMPLES samples of the context.
  let persistent: Set<Part> | undefined;
  if (options.context) {
    const counts = new Map<Part, number>();
    for (const s of options.context) for (const d of deviations(s, bars)) counts.set(d, (counts.get(d) ?? 0) + 1);
    persistent = new Set([...counts].filter(([, c]) => c >= PERSISTENT_SAMPLES).map(([p]) => p));
  }
  const w: PortWindow = {
    port: info.name,
    info,
    peak_queue_bytes: 0,
    peak_ts: samples[0]!.ts_ms,
    ecn_per_s: 0,
    pfc_tx_per_s: 0,
    rx_paused_share: 0,
    credit_stall_share: 0,
    link_errors: 0,
    down_samples: 0,
    tx_bytes: 0,
    parts: { queue: 0, ecn: 0, pfc_tx: 0, pfc_rx: 0, credit: 0, errors: 0, down: 0 },
    score: 0,
    bars,
    normal: options.normal,
  };
  const part = (v: number, threshold: number) => {
    const r = v / threshold;
    return r >= 1 ? Math.min(COMPONENT_CAP, r) : 0;
  };
  const sum = { queue: 0, ecn: 0, pfc_tx: 0, pfc_rx: 0, credit: 0, errors: 0, down: 0 };
  for (const s of samples) {
    if (s.queue_bytes > w.peak_queue_bytes) {
      w.peak_queue_bytes = s.queue_bytes;
      w.peak_ts = s.ts_ms;
    }
    sum.queue += part(s.queue_bytes, bars.queue);
    if (s.interval_ms > 0) {
      const perS = 1000 / s.interval_ms;
      const intervalUs = s.interval_ms * 1000;
      w.ecn_per_s = Math.max(w.ecn_per_s, s.ecn_marked_pkts * perS);
      w.pfc_tx_per_s = Math.max(w.pfc_tx_per_s, s.pfc_tx_pause_frames * perS);
      w.rx_paused_share = Math.max(w.rx_paused_share, s.pfc_rx_pause_us / intervalUs);
      w.credit_stall_share = Math.max(w.credit_stall_share, s.credit_stall_us / intervalUs);
      sum.ecn += part(s.ecn_marked_pkts * perS, bars.ecn);
      sum.pfc_tx += part(s.pfc_tx_pause_frames * perS, bars.pfc_tx);
      sum.pfc_rx += part(s.pfc_rx_pause_us / intervalUs, bars.pfc_rx);
      sum.credit += part(s.credit_stall_us / intervalUs, CREDIT_STALL_SHARE);
    }
    if (s.link_errors > 0) sum.errors += Math.min(COMPONENT_CAP, 1 + Math.log10(s.link_errors));
    if (!s.oper_up) sum.down += COMPONENT_CAP;
    w.link_errors += s.link_errors;
    if (!s.oper_up) w.down_samples++;
    w.tx_bytes += s.tx_bytes;
  }
  const n = samples.length;
  const keep = (p: Part, v: number) => (persistent && !persistent.has(p) ? 0 : v / n);
  w.parts = {
    queue: keep('queue', sum.queue),
    ecn: keep('ecn', sum.ecn),
    pfc_tx: keep('pfc_tx', sum.pfc_tx),
    pfc_rx: keep('pfc_rx', sum.pfc_rx),
    credit: keep('credit', sum.credit),
    errors: keep('errors', sum.errors),
    down: keep('down', sum.down),
  };
  w.score = Object.values(w.parts).reduce((a, b) => a + b, 0);
  return w;
}

/**
 * Every egress port the job's transfers may cross (all ECMP paths), sorted. NCCL records do not say
 * which all-reduce algorithm ran, so an all-reduce takes the ports of both ring and tree.
 */
export function candidatePorts(topology: Topology, nodes: readonly number[], collective: string): string[] {
  const G = topology.spec.gpus_per_node;
  const transfers: Transfer[] = /alltoall/i.test(collective)
    ? allToAllTransfers(nodes, G)
    : /allreduce/i.test(collective)
      ? [...ringTransfers(nodes, G), ...treeTransfers(nodes, G)]
      : ringTransfers(nodes, G);
  return [...transferPorts(topology, transfers)].sort();
}

export function attribute(input: AttributionInput): RootCause {
  const ports = new StallPorts(input);
  return attributeStraggler(input) ?? attributeFabric(ports) ?? attributeEcmpImbalance(ports) ?? unknownCause(input);
}

function stallEvidence(stall: DetectedStall): Evidence[] {
  return [
    { signal: 'duration_us', location: stall.job, value: stall.duration_us, reference: stall.expected_us, unit: 'us', note: 'collective call time vs learned baseline' },
    {
      signal: 'start_skew_us',
      location: stall.ranks.find((r) => r.rank === stall.last_rank)?.gpu ?? stall.job,
      value: stall.last_rank_lateness_us,
      reference: stall.expected_skew_us,
      unit: 'us',
      note: `rank ${stall.last_rank} entered last, vs the median rank; reference is the job's usual skew`,
    },
  ];
}

// ---- 1. straggler ----------------------------------------------------------------------------

function attributeStraggler(input: AttributionInput): RootCause | undefined {
  const { stall } = input;
  // Lateness beyond the job's normal entry jitter is what the peers spent waiting.
  const lateness = stall.last_rank_lateness_us - stall.expected_skew_us;
  if (stall.excess_us <= 0 || lateness < STRAGGLER_SKEW_SHARE * stall.excess_us) return undefined;
  const medianStart = median(stall.ranks.map((r) => r.start_us))!;
  const late = stall.ranks.filter((r) => r.start_us - medianStart - stall.expected_skew_us >= STRAGGLER_SKEW_SHARE * stall.excess_us);
  const lateGpus = new Set(late.map((r) => r.gpu));
  const culprit = stall.ranks.find((r) => r.rank === stall.last_rank)!;
  const evidence = stallEvidence(stall);
  const gpuEvidence = throttleEvidence(input, culprit.gpu);
  evidence.push(...gpuEvidence);
  if (lateGpus.size > 1) {
    evidence.push({ signal: 'late_gpus', location: culprit.gpu, value: lateGpus.size, note: `also late: ${[...lateGpus].filter((g) => g !== culprit.gpu).slice(0, 8).join(', ')}` });
  }
  const share = Math.min(1, lateness / stall.excess_us);
  let confidence = 0.55 + 0.25 * share + (gpuEvidence.length > 0 ? 0.15 : 0);
  if (lateGpus.size > 1) confidence -= 0.2; // several late GPUs: a shared cause (host, input pipeline) is as likely
  return { kind: 'straggler_gpu', location: culprit.gpu, confidence: clamp(confidence), evidence };
}

function throttleEvidence(input: AttributionInput, gpu: string): Evidence[] {
  const own = input.gpuSamples(gpu);
  if (own.length === 0) return [];
  const out: Evidence[] = [];
  const peers = input.stall.ranks.map((r) => r.gpu).filter((g) => g !== gpu);
  const peerClocks = peers.flatMap((g) => input.gpuSamples(g).map((s) => s.metrics.DCGM_FI_DEV_SM_CLOCK)).filter(isNum);
  const ownClocks = own.map((s) => s.metrics.DCGM_FI_DEV_SM_CLOCK).filter(isNum);
  const peerClock = median(peerClocks);
  if (ownClocks.length > 0 && peerClock !== undefined) {
    const minClock = Math.min(...ownClocks);
    if (minClock < SM_CLOCK_LOW_RATIO * peerClock) {
      out.push({ signal: 'DCGM_FI_DEV_SM_CLOCK', location: gpu, value: minClock, reference: peerClock, unit: 'MHz', note: "lowest SM clock in the window vs the job's other GPUs (median)" });
    }
  }
  let reasons = 0;
  for (const s of own) reasons |= s.metrics.DCGM_FI_DEV_CLOCKS_EVENT_REASONS ?? s.metrics.DCGM_FI_DEV_CLOCK_THROTTLE_REASONS ?? 0;
  const names = Object.entries(THROTTLE_REASON_BITS).filter(([, bit]) => (reasons & bit) !== 0).map(([n]) => n);
  if (names.length > 0) {
    out.push({ signal: 'DCGM_FI_DEV_CLOCKS_EVENT_REASONS', location: gpu, value: reasons, note: names.join('|') });
  }
  if (out.length > 0) {
    const temps = own.map((s) => s.metrics.DCGM_FI_DEV_GPU_TEMP).filter(isNum);
    const peerTemp = median(peers.flatMap((g) => input.gpuSamples(g).map((s) => s.metrics.DCGM_FI_DEV_GPU_TEMP)).filter(isNum));
    if (temps.length > 0) out.push({ signal: 'DCGM_FI_DEV_GPU_TEMP', location: gpu, value: Math.max(...temps), reference: peerTemp, unit: 'C' });
  }
  return out;
}

// ---- 2. fabric ---------------------------------------------------------------------------------

interface Verdict {
  kind: RootCauseKind;
  location: string;
  confidence: number;
  evidence: Evidence[];
}

interface FabricContext {
  ports: StallPorts;
  /** The job's egress ports: only these may be blamed for congestion. */
  onPath: ReadonlySet<string>;
  /** Ports already explained on this trace (pause loops end here). */
  seen: Set<string>;
}

const egressCongested = (w: PortWindow) => w.parts.queue > 0 || w.parts.ecn > 0;
const pausedByPeer = (w: PortWindow) => w.parts.pfc_rx > 0 && w.rx_paused_share >= PAUSED_DOMINANT_SHARE;
/** A fault shows at this port itself; a port that is paused or only sends pauses is a victim. */
const isOrigin = (w: PortWindow) =>
  w.parts.pfc_rx === 0 && (w.parts.down > 0 || w.parts.errors > 0 || w.parts.credit > 0 || egressCongested(w));

/**
 * Strongest signal first, then by name for determinism. A victim may outscore its cause (a port
 * paused 100% of the time); explain() then follows the pauses back to it.
 */
function byBlame(a: PortWindow, b: PortWindow): number {
  return b.score - a.score || a.port.localeCompare(b.port);
}

function attributeFabric(ports: StallPorts): RootCause | undefined {
  const { stall, topology } = ports.input;
  if (stall.nodes.length === 0) return undefined;
  const onPath = new Set(candidatePorts(topology, stall.nodes, stall.collective));
  const windows = [...onPath]
    .map((p) => ports.window(p))
    .filter((w): w is PortWindow => !!w && w.score >= MIN_BLAME_SCORE)
    .sort(byBlame);
  const worst = windows[0];
  if (!worst) return undefined;
  const verdict = explain({ ports, onPath, seen: new Set() }, worst, 0);
  const evidence = [...verdict.evidence, ...stallEvidence(stall)];
  // Another origin of similar weight on the paths makes a single-culprit verdict less sure.
  const rival = windows.find((w) => isOrigin(w) && w.port !== verdict.location && !topology.sameLocation(w.port, verdict.location));
  let confidence = verdict.confidence;
  if (rival && rival.score >= 0.8 * worst.score) confidence -= 0.1;
  return { kind: verdict.kind, location: verdict.location, confidence: clamp(confidence), evidence };
}

/**
 * One stall's ports, each window and learned normal worked out once: the fabric pass, the pause
 * trace and the ECMP check ask for the same ports, and each costs the port's samples sorted
 * through ten medians. The input is fixed for the stall, so are these.
 */
class StallPorts {
  private readonly windows = new Map<string, PortWindow | undefined>();
  private readonly normals = new Map<string, PortNormal | undefined>();

  constructor(readonly input: AttributionInput) {}

  normal(port: string): PortNormal | undefined {
    if (this.normals.has(port)) return this.normals.get(port);
    const history = this.input.portHistory?.(port);
    const normal = history ? learnPortNormal(history) : undefined;
    this.normals.set(port, normal);
    return normal;
  }

  window(port: string): PortWindow | undefined {
    if (this.windows.has(port)) return this.windows.get(port);
    const info = this.input.topology.ports.get(port);
    const w = info
      ? summarizePort(info, this.input.portSamples(port), { normal: this.normal(port), context: this.input.portContext?.(port) })
      : undefined;
    this.windows.set(port, w);
    return w;
  }
}

function explain(ctx: FabricContext, w: PortWindow, hops: number): Verdict {
  ctx.seen.add(w.port);
  const ev = portEvidence(ctx.ports.input, w);
  if (w.parts.down > 0) return { kind: 'link_flap', location: w.port, confidence: 0.85, evidence: ev };
  if (w.parts.errors > 0) return { kind: 'link_degraded', location: w.port, confidence: egressCongested(w) ? 0.8 : 0.65, evidence: ev };
  if (w.parts.credit > 0) return { kind: 'credit_starvation', location: w.port, confidence: 0.8, evidence: ev };
  if (w.parts.pfc_rx > 0) {
    // Its peer kept pausing it: the cause is on the peer's side.
    const peer = w.info.peer;
    const trail: Evidence = { signal: 'pfc_paused_by', location: peer, value: w.rx_paused_share, note: `${w.port} paused by ${peer}` };
    if (!ctx.ports.input.topology.ports.has(peer)) {
      // The peer is a NIC or GPU (no telemetry of its own): pausing this much, it is storming.
      if (pausedByPeer(w)) return { kind: 'pfc_storm', location: peer, confidence: 0.75, evidence: [...ev, trail] };
    } else {
      const behind = traceSwitch(ctx, deviceOfPort(peer), hops, egressesFedBy(w.info));
      if (behind) return { ...behind, evidence: [...behind.evidence, trail] };
      // Nothing on the peer's switch explains the pauses: the peer port itself is storming.
      if (pausedByPeer(w)) return { kind: 'pfc_storm', location: peer, confidence: 0.7, evidence: [...ev, trail] };
    }
  }
  if (egressCongested(w) && w.info.role === 'spine_downlink') {
    // An incast's senders arrive through the spines: with DCQCN holding them in the marking band
    // at both hops, the spine downlink queues their overflow while the leaf port they converge on
    // is the cause (a congested spine downlink fits no fault of its own).
    const behind = traceSwitch(ctx, deviceOfPort(w.info.peer), hops, egressesFedBy(w.info));
    if (behind?.kind === 'incast_congestion') {
      const trail: Evidence = { signal: 'queue_bytes', location: w.port, value: w.peak_queue_bytes, unit: 'bytes', note: `${w.port} queues traffic bound for ${behind.location}` };
      return { ...behind, evidence: [...behind.evidence, trail] };
    }
  }
  if (egressCongested(w)) return congestionVerdict(ctx.ports, w, ev);
  if (w.parts.pfc_tx > 0) {
    // Sends pauses with neither a congested egress nor pauses received: look at its own switch.
    const behind = traceSwitch(ctx, w.info.device, hops);
    const trail: Evidence = { signal: 'pfc_tx_pause_frames_per_s', location: w.port, value: w.pfc_tx_per_s, reference: PFC_TX_FRAMES_PER_S, unit: 'frames/s' };
    if (behind) return { ...behind, evidence: [...behind.evidence, trail] };
    return { kind: 'pfc_storm', location: w.port, confidence: 0.6, evidence: ev };
  }
  return { kind: 'unknown', location: w.port, confidence: 0.2, evidence: ev };
}

/**
 * The egress ports on the next switch that traffic leaving `from` can take: what comes down from
 * a spine only leaves the leaf towards its hosts, what goes up from a leaf only leaves the spine
 * towards the other leaves. A queue elsewhere on that switch holds none of this traffic, so it
 * can neither pause `from` nor be what `from` queues for.
 */
function egressesFedBy(from: PortInfo): (p: PortInfo) => boolean {
  switch (from.role) {
    case 'spine_downlink':
      return (p) => p.role === 'leaf_downlink';
    case 'leaf_uplink':
      return (p) => p.role === 'spine_downlink' && deviceOfPort(p.peer) !== from.device;
    default:
      return () => true;
  }
}

/**
 * Why a switch is pausing its neighbours: the port on it (among those `reachable`) that is
 * congested, faulty or itself paused. The job's own ports are preferred; a port off the job's
 * paths is followed only for a fault signal or further pauses — its congestion is another
 * tenant's and is never blamed.
 */
function traceSwitch(ctx: FabricContext, device: string, hops: number, reachable: (p: PortInfo) => boolean = () => true): Verdict | undefined {
  if (hops >= MAX_PAUSE_HOPS) return undefined;
  const next = [...ctx.ports.input.topology.ports.values()]
    .filter((p) => p.device === device && !ctx.seen.has(p.name) && reachable(p))
    .map((p) => ctx.ports.window(p.name))
    .filter((w): w is PortWindow => {
      if (!w) return false;
      const fault = w.parts.down > 0 || w.parts.errors > 0 || w.parts.credit > 0 || w.parts.pfc_rx > 0;
      return ctx.onPath.has(w.port) ? fault || egressCongested(w) : fault;
    })
    .sort((a, b) => Number(ctx.onPath.has(b.port)) - Number(ctx.onPath.has(a.port)) || byBlame(a, b))[0];
  return next ? explain(ctx, next, hops + 1) : undefined;
}

function congestionVerdict(ports: StallPorts, w: PortWindow, ev: Evidence[]): Verdict {
  const extra = [w.parts.ecn > 0, w.parts.pfc_tx > 0, w.peak_queue_bytes >= 2 * QUEUE_CONGESTED_BYTES].filter(Boolean).length;
  switch (w.info.role) {
    case 'leaf_downlink':
      return { kind: 'incast_congestion', location: w.port, confidence: 0.65 + 0.1 * extra, evidence: ev };
    case 'leaf_uplink': {
      const imbalance = uplinkImbalance(ports, w.info.device);
      const sib = imbalance?.evidence;
      if (imbalance && imbalance.heavy === w.port && colliding(imbalance)) {
        return { kind: 'ecmp_collision', location: w.port, confidence: 0.7 + 0.05 * extra, evidence: [...ev, sib!] };
      }
      return { kind: 'unknown', location: w.port, confidence: 0.3, evidence: sib ? [...ev, sib] : ev };
    }
    case 'nvsw_gpu':
    case 'spine_downlink':
      // Congestion here fits no fault of the taxonomy on its own: report it with its evidence.
      return { kind: 'unknown', location: w.port, confidence: 0.3, evidence: ev };
  }
}

// ---- 3. ECMP imbalance -------------------------------------------------------------------------

interface UplinkImbalance {
  heavy: string;
  /** Heaviest uplink's bytes over the next busiest's, in the window. */
  ratio: number;
  /** Share of the leaf's expected uplink bytes that moved from the siblings onto the heavy uplink (undefined without history). */
  shift?: number;
  evidence: Evidence;
}

const bytesOf = (samples: readonly PortSample[]) => samples.reduce((a, s) => a + s.tx_bytes, 0);
const spanOf = (samples: readonly PortSample[]) => samples.reduce((a, s) => a + s.interval_ms, 0);

/**
 * How unevenly a leaf's uplinks carried bytes over the window. With history, each uplink's bytes
 * are compared with what its own normal rate predicts for the window: in a collision the suspect
 * gains the bytes its siblings lose (the job's flows moved onto it), whatever the background load
 * and whatever standing imbalance the leaf's hash always had. Without history, a plain ratio.
 */
function uplinkImbalance(ports: StallPorts, leaf: string): UplinkImbalance | undefined {
  const { input } = ports;
  const ups = [...input.topology.ports.values()].filter((p) => p.device === leaf && p.role === 'leaf_uplink');
  if (ups.length < 2) return undefined;
  const now = ups.map((p) => {
    const win = input.portSamples(p.name);
    // The median rate, not the mean: a collision already under way for part of the look-back
    // must not become the uplink's normal (the mean absorbed it within ~2 s and lost the verdict).
    const normalRate = ports.normal(p.name)?.tx_bytes_per_s.median;
    const expected = normalRate !== undefined ? (normalRate * spanOf(win)) / 1000 : undefined;
    return { port: p.name, bytes: bytesOf(win), expected };
  });
  if (now.every((u) => u.bytes === 0)) return undefined;
  const known = now.every((u) => u.expected !== undefined);
  const gain = (u: (typeof now)[number]) => u.bytes - (u.expected ?? 0);
  const ranked = [...now].sort((a, b) => (known ? gain(b) - gain(a) : 0) || b.bytes - a.bytes || a.port.localeCompare(b.port));
  const heavy = ranked[0]!;
  const next = [...now].filter((u) => u !== heavy).sort((a, b) => b.bytes - a.bytes)[0]!;
  let shift: number | undefined;
  if (known) {
    const expectedTotal = now.reduce((a, u) => a + u.expected!, 0);
    const loss = Math.max(0, -Math.min(...now.filter((u) => u !== heavy).map(gain)));
    shift = expectedTotal > 0 ? Math.min(gain(heavy), loss) / expectedTotal : 0;
  }
  return {
    heavy: heavy.port,
    ratio: next.bytes > 0 ? heavy.bytes / next.bytes : Number.POSITIVE_INFINITY,
    shift,
    evidence: {
      signal: 'uplink_tx_bytes',
      location: heavy.port,
      value: heavy.bytes,
      reference: heavy.expected !== undefined ? Math.round(heavy.expected) : next.bytes,
      unit: 'bytes',
      note:
        shift !== undefined
          ? `vs its normal rate over the window; ${round3(shift * 100)}% of ${leaf}'s uplink bytes moved onto it from its siblings (${next.port} carried ${next.bytes}, normally ${Math.round(next.expected ?? 0)})`
          : `vs the busiest sibling uplink ${next.port} over the window`,
    },
  };
}

/** Whether an imbalance is a collision: the share rose above normal (with history), else a plain ratio. */
const colliding = (im: UplinkImbalance) => (im.shift !== undefined ? im.shift >= ECMP_SHIFT_SHARE : im.ratio >= ECMP_IMBALANCE_RATIO);

/**
 * No port crossed a bar on its own, but one of the job's leaves pushed its traffic through one
 * uplink far above that uplink's normal share, and that uplink marks ECN above its normal level:
 * ECMP hashed the job's elephant flows together. A merely busy uplink is not blamed.
 */
function attributeEcmpImbalance(ports: StallPorts): RootCause | undefined {
  const { input } = ports;
  const { stall, topology } = input;
  const G = topology.spec.gpus_per_node;
  const leaves = new Set<number>();
  for (const n of stall.nodes) for (let g = 0; g < G; g++) leaves.add(topology.nicAttachment(n, g).leaf);
  if (leaves.size < 2) return undefined; // all on one leaf: no uplink on the job's paths
  let best: { im: UplinkImbalance; w: PortWindow } | undefined;
  for (const leaf of [...leaves].sort((a, b) => a - b)) {
    const im = uplinkImbalance(ports, leafName(leaf));
    if (!im || !colliding(im)) continue;
    const w = ports.window(im.heavy);
    if (!w) continue;
    // With a learned normal the heavy uplink must mark above it; without one, any marking will do.
    const samples = input.portSamples(im.heavy);
    const marks = samples.reduce((a, s) => a + s.ecn_marked_pkts, 0);
    if (im.shift !== undefined ? w.parts.ecn === 0 && w.parts.queue === 0 && !marksRose(w, marks, spanOf(samples)) : marks === 0) continue;
    if (!best || (im.shift ?? im.ratio) > (best.im.shift ?? best.im.ratio)) best = { im, w };
  }
  if (!best) return undefined;
  return {
    kind: 'ecmp_collision',
    location: best.im.heavy,
    confidence: best.im.shift !== undefined ? 0.7 : 0.55,
    evidence: [best.im.evidence, ...portEvidence(input, best.w), ...stallEvidence(stall)],
  };
}

/** Whether an uplink marked over the window at ECMP_ECN_RISE × its normal rate (and above the floor). */
function marksRose(w: PortWindow, marks: number, spanMs: number): boolean {
  const normal = w.normal;
  if (!normal || spanMs <= 0) return false;
  const perS = (marks * 1000) / spanMs;
  return perS >= Math.max(ECN_DEVIATION_FLOOR_PER_S, ECMP_ECN_RISE * normal.ecn_per_s.median);
}

function portEvidence(input: AttributionInput, w: PortWindow): Evidence[] {
  const episode = input.episodeAt?.(w.port, w.peak_ts);
  const note = episode ? `episode ${episode}` : undefined;
  const out: Evidence[] = [];
  const add = (e: Evidence) => out.push(note ? { ...e, note: e.note ? `${e.note}; ${note}` : note } : e);
  if (w.parts.queue > 0) add({ signal: 'queue_bytes', location: w.port, value: w.peak_queue_bytes, reference: Math.round(w.bars.queue), unit: 'bytes' });
  if (w.parts.ecn > 0) add({ signal: 'ecn_marked_pkts_per_s', location: w.port, value: w.ecn_per_s, reference: Math.round(w.bars.ecn), unit: 'pkt/s' });
  if (w.parts.pfc_tx > 0) add({ signal: 'pfc_tx_pause_frames_per_s', location: w.port, value: w.pfc_tx_per_s, reference: Math.round(w.bars.pfc_tx), unit: 'frames/s' });
  if (w.parts.pfc_rx > 0) add({ signal: 'pfc_rx_paused_share', location: w.port, value: w.rx_paused_share, reference: round3(w.bars.pfc_rx) });
  if (w.parts.credit > 0) add({ signal: 'credit_stall_share', location: w.port, value: w.credit_stall_share, reference: CREDIT_STALL_SHARE });
  if (w.parts.errors > 0) add({ signal: 'link_errors', location: w.port, value: w.link_errors, reference: 0 });
  if (w.parts.down > 0) add({ signal: 'oper_down_samples', location: w.port, value: w.down_samples, reference: 0 });
  return out;
}

// ---- 4. unknown --------------------------------------------------------------------------------

function unknownCause(input: AttributionInput): RootCause {
  return { kind: 'unknown', location: '', confidence: 0.1, evidence: stallEvidence(input.stall) };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const isNum = (v: number | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
const clamp = (c: number) => Math.round(Math.max(0, Math.min(1, c)) * 100) / 100;
