/**
 * The deterministic simulation engine: topology + fluid fabric + jobs + faults on one simulated
 * clock (µs since t=0, which maps to the scenario's `start`). The player calls advanceTo() at each
 * telemetry boundary and reads snapshots; nothing here depends on wall time, so the same seed and
 * scenario always give the same telemetry.
 */
import { Topology } from '../core/topology.js';
import type { GroundTruthFault } from '../core/records.js';
import { nodeName, parseName, portName } from '../core/names.js';
import { JobRun, type CollectiveHost, type CompletedCollective, type PhaseFlow } from './collective-engine.js';
import { FaultSchedule } from './fault-schedule.js';
import { FluidFabric, type Flow } from './fluid-fabric.js';
import { healthyCreditLink, starvedCreditLink } from './credit-link.js';
import { createGpuStates, sampleGpu, stragglerClockRatio, type GpuState } from './gpu-model.js';
import type { CollectiveRecord, GpuIntervalSnapshot, SwitchSnapshot } from './outputs.js';
import { BusyLedger } from './busy-ledger.js';
import { PhaseReplayer } from './phase-replay.js';
import { Prng, hash32 } from './prng.js';
import { collectiveRecordsOf, type CollectiveJobLayout, type CompletedCollectives } from './collective-samples.js';
import { COUNTER_COLUMNS, HISTOGRAM_COLUMNS, switchSnapshotsOf, type SwitchCounterRound, type SwitchLayout } from './switch-samples.js';
import { jobNodes, scenarioStartMs, type Scenario } from './scenario.js';

/** A flapping link stays down for this part of every period (scaled by severity). */
const FLAP_PERIOD_US = 1_000_000;
// Whole µs: a fractional length such as 300000.00000000006 puts the next edge back on the
// current time once added to it, and the engine would wait for that edge forever.
const flapDownUs = (severity: number): number => Math.round((0.1 + 0.4 * severity) * FLAP_PERIOD_US);
/** A PFC storm below full severity asserts PAUSE for `severity` of every period. */
const STORM_PERIOD_US = 1000;
/** Jobs start a little after t=0, staggered, like processes that launched at different times. */
const JOB_START_US = 1000;

export interface EngineOptions {
  /**
   * Replay recorded collective phases instead of carrying them again (simulator/phase-replay.ts).
   * On by default; off carries every phase (for comparison).
   */
  phaseReplay?: boolean;
}

export class SimulationEngine implements CollectiveHost {
  readonly scenario: Scenario;
  readonly topology: Topology;
  readonly fabric: FluidFabric;
  readonly schedule: FaultSchedule;
  /** Epoch ms of simulated t=0. */
  readonly startMs: number;
  readonly jobs: JobRun[] = [];
  /** Each job's record layout, by job index (the first number of each collective a drain packs). */
  readonly collectiveLayouts: CollectiveJobLayout[];
  private readonly gpus: GpuState[];
  private readonly gpuIndex = new Map<string, number>();
  /** Busy intervals per GPU not yet fully accounted in a sample. */
  private readonly busy: BusyLedger;
  private readonly gpuNoise: Prng;
  private readonly completed: CompletedCollective[] = [];
  /** Each switch's ports with their names resolved once, in the order of a round's rows. */
  readonly switchLayout: SwitchLayout;
  /** Fabric port index of each row of a switch round. */
  private readonly switchRowPorts: Int32Array;
  private nextFaultChangeUs = 0;
  private lastSwitchSampleUs = 0;
  private lastGpuSampleUs = 0;
  nowUs = 0;
  /** Bumped at every fault edge (CollectiveHost.faultEpoch). */
  faultEpoch = 0;
  /** Replays of recorded phases (or, with phaseReplay off, only settles the ports phases start on). */
  readonly replayer: PhaseReplayer;
  /** Jobs whose phases may be replayed: no other job can use their ports or NICs. */
  private readonly replayableJobs = new Set<JobRun>();

  constructor(scenario: Scenario, options: EngineOptions = {}) {
    this.scenario = scenario;
    this.startMs = scenarioStartMs(scenario);
    this.topology = new Topology(scenario.topology);
    const { nodes, gpus_per_node } = scenario.topology;
    this.fabric = new FluidFabric(this.topology, nodes * gpus_per_node);
    this.fabric.backgroundLoad = scenario.background.load;
    this.fabric.faultsChanged();
    this.schedule = new FaultSchedule(scenario, this.startMs);
    this.gpus = createGpuStates(scenario.seed, nodes, gpus_per_node);
    this.gpus.forEach((g, i) => this.gpuIndex.set(g.name, i));
    this.busy = new BusyLedger(this.gpus.length);
    this.gpuNoise = new Prng(`${scenario.seed}|gpu-noise`);
    const portsByDevice = new Map<string, SwitchLayout['switches'][number] & { indices: number[] }>();
    this.fabric.names.forEach((name, i) => {
      const device = name.slice(0, name.indexOf('/'));
      let sw = portsByDevice.get(device);
      if (!sw) portsByDevice.set(device, (sw = { device, scaleUp: device.startsWith('nvsw-'), names: [], interfaces: [], indices: [] }));
      sw.indices.push(i);
      sw.names.push(name);
      sw.interfaces.push(name.slice(name.indexOf('/') + 1));
    });
    const switches = [...portsByDevice.values()];
    this.switchRowPorts = Int32Array.from(switches.flatMap((sw) => sw.indices));
    this.switchLayout = {
      switches: switches.map(({ device, scaleUp, names, interfaces }) => ({ device, scaleUp, names, interfaces })),
      ports: this.switchRowPorts.length,
    };
    const { leaves, spines } = scenario.topology;
    this.uplinkPort = new Int32Array(leaves * spines);
    this.spineDownPort = new Int32Array(leaves * spines);
    for (let l = 0; l < leaves; l++) {
      for (let j = 0; j < spines; j++) {
        this.uplinkPort[l * spines + j] = this.fabric.portIndex(this.topology.leafUplink(l, j));
        this.spineDownPort[j * leaves + l] = this.fabric.portIndex(this.topology.spineDownlink(j, l));
      }
    }
    this.ecmpFaults = this.schedule.ofKind('ecmp_collision').length > 0;
    this.stragglerTargets = new Set(this.schedule.ofKind('straggler_gpu').map((f) => f.target));
    this.applyFaults(0);
    scenario.jobs.forEach((job, j) => {
      this.jobs.push(new JobRun(job, jobNodes(job, nodes), this, scenario.seed, JOB_START_US * (j + 1)));
    });
    this.collectiveLayouts = this.jobs.map((j) => j.recordLayout());
    this.replayer = new PhaseReplayer(this.fabric, options.phaseReplay ?? true);
    this.findReplayableJobs();
  }

  /** A job's phases may be replayed when no other job can touch its ports or NICs. */
  private findReplayableJobs(): void {
    const footprints = this.jobs.map((job) => job.footprint());
    const owners = new Map<string, number>();
    const shared = new Set<number>();
    footprints.forEach((fp, j) => {
      const claim = (key: string) => {
        const owner = owners.get(key);
        if (owner !== undefined && owner !== j) shared.add(owner).add(j);
        else owners.set(key, j);
      };
      for (const p of fp.ports) claim(`p${p}`);
      for (const k of fp.nics) claim(`n${k}`);
    });
    footprints.forEach((fp, j) => {
      if (!shared.has(j)) this.replayableJobs.add(this.jobs[j]!);
    });
  }

  replayedPhaseEnd(job: JobRun, flows: readonly PhaseFlow[], nowUs: number): number | undefined {
    if (!this.replayableJobs.has(job)) return undefined;
    return this.replayer.start(job, flows, nowUs, this.nextFaultChangeUs, this.faultEpoch);
  }

  epochUs(tUs: number): number {
    return this.startMs * 1000 + tUs;
  }

  epochMs(tUs: number): number {
    return this.startMs + tUs / 1000;
  }

  /**
   * Runs the simulation up to simulated time `tUs`, event to event: fault edges, job wake-ups
   * (compute ends, step latencies) and whatever the fabric schedules (crossings, completions).
   */
  advanceTo(tUs: number): void {
    const replayer = this.replayer;
    while (this.nowUs < tUs) {
      replayer.advance(this.nowUs);
      if (this.nowUs >= this.nextFaultChangeUs) {
        replayer.faultEdge();
        this.applyFaults(this.nowUs);
      }
      let nextJob = Infinity;
      for (const job of this.jobs) {
        if (job.nextEventUs <= this.nowUs) {
          const done = job.step(this.nowUs);
          if (done) this.completed.push(done);
        }
        if (job.nextEventUs < nextJob) nextJob = job.nextEventUs;
      }
      const horizon = Math.min(tUs, nextJob, this.nextFaultChangeUs, replayer.nextStopUs());
      if (horizon <= this.nowUs) continue;
      const done = this.fabric.runUntil(horizon);
      this.nowUs = this.fabric.now;
      for (const flow of done) {
        const job = flow.tag as JobRun | undefined;
        if (job?.flowDone(flow, this.nowUs)) replayer.phaseDone(job, this.nowUs);
      }
    }
    // Telemetry is read next: replays show their progress up to now.
    replayer.beforeTelemetryRead(this.nowUs);
  }

  /** Collective records completed since the last call. */
  drainCollectives(): CollectiveRecord[] {
    return collectiveRecordsOf(this.collectiveLayouts, this.drainCompleted());
  }

  /** Collectives completed since the last call, packed (their records: collectiveRecordsOf). */
  drainCompleted(): CompletedCollectives {
    const done = this.completed.splice(0, this.completed.length);
    let length = 0;
    let records = 0;
    for (const c of done) {
      length += 2 + 2 * c.entryUs.length;
      records += c.entryUs.length;
    }
    const data = new Float64Array(length);
    let at = 0;
    for (const c of done) {
      data[at] = this.jobs.indexOf(c.run);
      data[at + 1] = c.seq;
      const n = c.entryUs.length;
      for (let r = 0; r < n; r++) {
        data[at + 2 + r] = this.epochUs(c.entryUs[r]!);
        data[at + 2 + n + r] = this.epochUs(c.endUs[r]!);
      }
      at += 2 + 2 * n;
    }
    return { data, collectives: done.length, records };
  }

  /**
   * Every switch port's counters at the current time, as one round of typed rows (the order of
   * switchLayout), written into `into`'s arrays when given (a round's arrays are large enough
   * that allocating them every round makes V8 collect for their external memory);
   * restarts the periodic watermarks and histograms.
   */
  switchCounters(into?: Pick<SwitchCounterRound, 'counters' | 'histograms'>): SwitchCounterRound {
    const ts = this.epochMs(this.nowUs);
    const prev = this.epochMs(this.lastSwitchSampleUs);
    this.lastSwitchSampleUs = this.nowUs;
    this.fabric.accrueTimeCounters();
    const rows = this.switchRowPorts;
    const counters = into?.counters.length === rows.length * COUNTER_COLUMNS ? into.counters : new Float64Array(rows.length * COUNTER_COLUMNS);
    const histograms = into?.histograms.length === rows.length * HISTOGRAM_COLUMNS ? into.histograms : new Float64Array(rows.length * HISTOGRAM_COLUMNS);
    this.fabric.readCounters(rows, counters, histograms);
    this.fabric.resetWatermarks();
    return { ts_ms: ts, prev_ts_ms: prev, counters, histograms };
  }

  /** Per-switch port counters at the current time (a switchCounters round as snapshots). */
  switchSnapshots(): SwitchSnapshot[] {
    // The snapshots copy what they read, so one round's arrays serve every call.
    this.snapshotRound = this.switchCounters(this.snapshotRound);
    return switchSnapshotsOf(this.switchLayout, this.snapshotRound);
  }
  private snapshotRound?: SwitchCounterRound;

  /** Every GPU's DCGM view at the current time. */
  gpuSnapshot(): GpuIntervalSnapshot {
    const now = this.nowUs;
    const intervalUs = now - this.lastGpuSampleUs;
    const G = this.scenario.topology.gpus_per_node;
    const gpus = this.gpus.map((gpu, i) => {
      gpu.busyUs = this.busy.take(i, this.lastGpuSampleUs, now);
      const straggler = this.schedule.activeAt('straggler_gpu', gpu.name, now);
      const sw = `nvsw-${gpu.node}`;
      const tx = G > 1 ? this.fabric.txBytes[this.fabric.portIndex(portName(sw, (gpu.index + 1) % G))]! : 0;
      const rx = G > 1 ? this.fabric.txBytes[this.fabric.portIndex(portName(sw, gpu.index))]! : 0;
      return sampleGpu(gpu, { intervalUs, stragglerSeverity: straggler?.severity, nvlinkTxBytes: tx, nvlinkRxBytes: rx }, this.gpuNoise);
    });
    this.lastGpuSampleUs = now;
    return { ts_ms: this.epochMs(now), gpus };
  }

  /** Ground truth: every fault occurrence started by the current time. */
  groundTruth(): GroundTruthFault[] {
    return this.schedule.occurrencesStartedBefore(this.nowUs + 1).map((o) => this.schedule.toGroundTruth(o));
  }

  hostOfNode(n: number): string {
    return nodeName(n);
  }

  // ---- CollectiveHost ----

  computeEnd(gpu: string, startUs: number, workUs: number): number {
    // Only a straggler fault changes a GPU's clock.
    if (!this.stragglerTargets.has(gpu)) return startUs + workUs;
    let t = startUs;
    let remaining = workUs;
    for (let guard = 0; guard < 10_000; guard++) {
      const occ = this.schedule.activeAt('straggler_gpu', gpu, t);
      const ratio = occ ? stragglerClockRatio(occ.severity) : 1;
      const next = this.schedule.nextChangeAfter('straggler_gpu', gpu, t);
      if ((next - t) * ratio >= remaining) return t + remaining / ratio;
      remaining -= (next - t) * ratio;
      t = next;
    }
    return t + remaining;
  }

  chooseSpine(job: string, src: { node: number; gpu: number }, dst: { node: number; gpu: number }, channel: number): number {
    const a = this.topology.nicAttachment(src.node, src.gpu);
    const b = this.topology.nicAttachment(dst.node, dst.gpu);
    if (a.leaf === b.leaf) return -1;
    const spines = this.topology.spec.spines;
    const leaves = this.topology.spec.leaves;
    const operUp = this.fabric.operUp;
    const up = (j: number) => operUp[this.uplinkPort[a.leaf * spines + j]!] === 1 && operUp[this.spineDownPort[j * leaves + b.leaf]!] === 1;
    // An ECMP collision fault pins every flow leaving this leaf onto the faulted uplink.
    if (this.ecmpFaults) {
      for (let j = 0; j < spines; j++) {
        if (this.schedule.activeAt('ecmp_collision', this.topology.leafUplink(a.leaf, j), this.nowUs) && up(j)) return j;
      }
    }
    const candidates: number[] = [];
    for (let j = 0; j < spines; j++) if (up(j)) candidates.push(j);
    if (candidates.length === 0) return hash32(`${this.scenario.seed}|${job}|${a.leaf}`) % spines;
    return candidates[this.flowHash(job, this.topology.nicIndex(src.node, src.gpu), this.topology.nicIndex(dst.node, dst.gpu), channel) % candidates.length]!;
  }

  /** Port indexes of leaf uplinks [leaf × spines + spine] and spine downlinks [spine × leaves + leaf]. */
  private readonly uplinkPort: Int32Array;
  private readonly spineDownPort: Int32Array;
  private readonly ecmpFaults: boolean;
  private readonly stragglerTargets: Set<string>;
  private readonly flowHashes = new Map<string, Map<number, number>>();

  /**
   * The switch hashes the flow's 5-tuple; here the flow is (job, src NIC, dst NIC, channel QP),
   * seeded. Memoised: the same QPs are hashed again at every collective.
   */
  private flowHash(job: string, srcNic: number, dstNic: number, channel: number): number {
    let byJob = this.flowHashes.get(job);
    if (!byJob) this.flowHashes.set(job, (byJob = new Map()));
    const nics = this.scenario.topology.nodes * this.scenario.topology.gpus_per_node;
    const key = (srcNic * nics + dstNic) * 64 + channel;
    let h = byJob.get(key);
    if (h === undefined) {
      h = hash32(`${this.scenario.seed}|${job}|${srcNic}>${dstNic}|qp${channel}`);
      byJob.set(key, h);
    }
    return h;
  }

  markBusy(gpu: string, fromUs: number, toUs: number): void {
    const i = this.gpuIndex.get(gpu);
    if (i !== undefined) this.busy.mark(i, fromUs, toUs);
  }

  // ---- faults ----

  /** External senders of each active incast occurrence (they join and leave with it). */
  private readonly incastFlows = new Map<string, Flow[]>();

  /** Sets the fabric's fault-driven state for time t and finds the next time it changes. */
  private applyFaults(t: number): void {
    this.faultEpoch++;
    const f = this.fabric;
    const wasUp = Uint8Array.from(f.operUp);
    f.capacityFactor.fill(1);
    f.forcedXoff.fill(0);
    f.forcedNicPause.fill(0);
    f.operUp.fill(1);
    f.creditSeverity.fill(0);
    for (let p = 0; p < f.credit.length; p++) if (f.isScaleUp[p]) f.credit[p] = healthyCreditLink();
    let next = Infinity;
    const G = this.scenario.topology.gpus_per_node;
    const liveIncasts = new Set<string>();
    for (const fault of this.scenario.faults) {
      next = Math.min(next, this.schedule.nextChangeAfter(fault.kind, fault.target, t));
      const occ = this.schedule.activeAt(fault.kind, fault.target, t);
      if (!occ) continue;
      const s = occ.severity;
      const port = f.index.get(fault.target);
      const peer = port === undefined ? undefined : f.index.get(this.topology.ports.get(fault.target)!.peer);
      switch (fault.kind) {
        case 'incast_congestion':
          liveIncasts.add(occ.id);
          if (!this.incastFlows.has(occ.id)) this.incastFlows.set(occ.id, this.startIncast(fault.target, s));
          break;
        case 'link_degraded':
          // Capacity cut to 1 − severity on both directions of the link (a gray failure: no reroute).
          f.capacityFactor[port!] = Math.max(0.02, 1 - s);
          if (peer !== undefined) f.capacityFactor[peer] = Math.max(0.02, 1 - s);
          break;
        case 'credit_starvation':
          f.credit[port!] = starvedCreditLink(s);
          f.creditSeverity[port!] = s;
          break;
        case 'pfc_storm': {
          // Severity is the duty cycle of the storm: PAUSE asserted s of every period (continuous near 1).
          const phase = (t - occ.start_us) % STORM_PERIOD_US;
          const onFor = s >= 0.95 ? STORM_PERIOD_US : Math.round(Math.max(0.05, s) * STORM_PERIOD_US);
          const on = phase < onFor;
          if (on) {
            if (port !== undefined) f.forcedXoff[port] = 1;
            else {
              const p = parseName(fault.target);
              if (p?.kind === 'nic') f.forcedNicPause[p.node * G + p.nic] = 1;
            }
          }
          if (onFor < STORM_PERIOD_US) next = Math.min(next, t - phase + (on ? onFor : STORM_PERIOD_US), occ.end_us);
          break;
        }
        case 'link_flap': {
          const phase = (t - occ.start_us) % FLAP_PERIOD_US;
          const down = phase < flapDownUs(s);
          if (down) {
            f.operUp[port!] = 0;
            if (peer !== undefined) f.operUp[peer] = 0;
          }
          const edge = t - phase + (down ? flapDownUs(s) : FLAP_PERIOD_US);
          next = Math.min(next, edge, occ.end_us);
          break;
        }
        case 'ecmp_collision':
        case 'straggler_gpu':
          // Applied where decisions are made: spine choice and compute time.
          break;
      }
    }
    for (const [id, flows] of this.incastFlows) {
      if (liveIncasts.has(id)) continue;
      for (const flow of flows) f.removeFlow(flow);
      this.incastFlows.delete(id);
    }
    for (let p = 0; p < wasUp.length; p++) if (wasUp[p] !== f.operUp[p]) f.carrierChanges[p]! += 1;
    f.faultsChanged();
    // An edge computed from fractional times can round onto t itself; it is due a hair later.
    this.nextFaultChangeUs = next > t ? next : t + 1e-3;
  }

  /**
   * Incast: other tenants' senders converge on the NIC behind a leaf downlink, each able to send
   * at line rate. The degree is geometric in severity, 2 at severity 0 doubling every 0.2 up to 64
   * at 1 (32:1 at 0.8): real incast degrees span orders of magnitude (Barre: under 20 for
   * all-reduce, over 500 for all-to-all, fabric-modeling.md §1.3), and DCQCN holds a small incast
   * near line rate with the queue in its marking band, so a victim sharing the NIC slows only once
   * the degree is large. They arrive through the spines (round robin), run DCQCN like any RoCE
   * sender and are paused by PFC.
   */
  private startIncast(target: string, severity: number): Flow[] {
    const f = this.fabric;
    const senders = Math.round(2 * Math.pow(2, 5 * severity));
    const info = this.topology.ports.get(target)!;
    const leaf = parseName(info.device);
    const leafIndex = leaf?.kind === 'switch' ? leaf.index : 0;
    const rate = info.capacity_bps / 1e6;
    const spines = this.scenario.topology.spines;
    const out: Flow[] = [];
    // Sender k comes through spine k mod spines: the senders sharing a spine share a path, so
    // they stay identical and are one fabric row weighted by their number.
    const rows = spines > 0 ? Math.min(senders, spines) : 1;
    for (let j = 0; j < rows; j++) {
      const weight = spines > 0 ? Math.floor((senders - 1 - j) / spines) + 1 : senders;
      const path = spines > 0 ? [this.topology.spineDownlink(j, leafIndex), target] : [target];
      out.push(f.addFlow(path, -1, Infinity, rate, { external: true, weight }));
    }
    return out;
  }
}
