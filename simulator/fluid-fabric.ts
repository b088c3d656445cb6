/**
 * The switch fabric as a fluid model on a fixed tick (fabric-modeling.md §0/§6.2, simplified for
 * this first cut): every egress port has a FIFO whose occupancy grows when more bytes arrive than
 * it can send and drains otherwise; flows are point-to-point transfers whose bytes queue at each
 * hop. On top of that: RED-style ECN marking, PFC XOFF/XON towards the upstream senders with a
 * dynamic (shared-buffer) threshold, a DCQCN-like AIMD rate per flow, and cumulative counters.
 * Ticks only run while something moves, so compute phases cost nothing.
 */
import type { Topology } from '../core/topology.js';
import { parseName, portName, spineName } from '../core/names.js';

/** Fabric parameters (400G defaults from fabric-modeling.md §4). */
export const FABRIC_DEFAULTS = {
  tickUs: 10,
  mtuBytes: 4096,
  ecnKminBytes: 800 * 1024,
  ecnKmaxBytes: 3.2 * 1024 * 1024,
  ecnPmax: 0.2,
  sharedBufferBytes: 32 * 1024 * 1024,
  /** PFC dynamic threshold: XOFF when a queue exceeds α × free shared buffer. */
  pfcAlpha: 1 / 8,
  /** XON once the queue is back below this fraction of the XOFF threshold. */
  pfcXonFraction: 0.75,
  /** A paused sender is refreshed before the 0xFFFF quanta (~84 µs at 400G) expire. */
  pfcRefreshUs: 40,
  /** DCQCN-like additive increase: back to line rate in about this long. */
  ccRecoveryUs: 500,
};

/** One point-to-point transfer crossing a list of egress ports. */
export interface Flow {
  /** Egress port indexes, in order. */
  path: Int32Array;
  /** Index of the sending NIC (scale-out) or -1 (scale-up: the GPU is never paused). */
  srcNic: number;
  size: number;
  injected: number;
  delivered: number;
  /** Sender line rate and current congestion-controlled rate, bytes/µs. */
  lineRate: number;
  rate: number;
  /** Bytes of this flow queued at each hop. */
  backlog: Float64Array;
  /** Bytes that left hop i-1 last tick and arrive at hop i this tick (one tick of link delay). */
  pending: Float64Array;
  /** Scratch: arrivals this tick. */
  arrivals: Float64Array;
}

export interface PortCounters {
  tx_bytes: number;
  ecn_marked_pkts: number;
  pfc_tx_pause_frames: number;
  pfc_rx_pause_frames: number;
  pfc_rx_pause_us: number;
  link_errors: number;
  credit_stall_us: number;
  queue_bytes: number;
  watermark_bytes: number;
  oper_up: boolean;
}

export class FluidFabric {
  readonly names: string[];
  readonly index = new Map<string, number>();
  readonly devices: string[];
  private readonly deviceOf: Int32Array;
  private readonly isScaleUp: Uint8Array;
  /** Nominal capacity, bytes/µs, and the fault-applied factor. */
  private readonly nominal: Float64Array;
  readonly capacityFactor: Float64Array;
  readonly queue: Float64Array;
  readonly watermark: Float64Array;
  readonly txBytes: Float64Array;
  readonly ecnMarked: Float64Array;
  readonly pfcTx: Float64Array;
  readonly pfcRx: Float64Array;
  readonly pauseUs: Float64Array;
  readonly linkErrors: Float64Array;
  readonly creditStallUs: Float64Array;
  readonly operUp: Uint8Array;
  /**
   * External senders converging on a port (incast): their peak offered load (bytes/µs), how many
   * they are, and their aggregate congestion-controlled rate. They run the same AIMD as job
   * flows, k times over, so each of them and each job flow ends up near a fair share.
   */
  readonly extRate: Float64Array;
  readonly extSenders: Float64Array;
  private readonly extCcRate: Float64Array;
  private readonly extBacklog: Float64Array;
  /** Ports forced to assert PAUSE (pfc_storm), and NICs forced to pause (storm at a NIC). */
  readonly forcedXoff: Uint8Array;
  private readonly xoff: Uint8Array;
  private readonly refreshAcc: Float64Array;
  private readonly nicRefreshAcc: Float64Array;
  /** The leaf downlink port each NIC hangs off. */
  private readonly nicPort: Int32Array;
  private readonly pausedNow: Uint8Array;
  private readonly nicPaused: Uint8Array;
  /** NIC whose transmit a leaf downlink port's PAUSE stops (its peer), else -1. */
  private readonly peerNic: Int32Array;
  /** For a port whose peer is another switch port (uplink ↔ spine downlink), that port, else -1. */
  private readonly peerPort: Int32Array;
  /** Ports through which external load reaches a leaf: the spine downlinks towards it. */
  private readonly extUpstream: Int32Array[];
  private readonly deviceUsage: Float64Array;
  private readonly demand: Float64Array;
  private readonly ratio: Float64Array;
  private readonly markProb: Float64Array;
  private readonly p = FABRIC_DEFAULTS;
  readonly flows = new Set<Flow>();
  /** Other-tenant traffic as a fraction of every scale-out link (benign background). */
  backgroundLoad = 0;
  /** Simulated µs. */
  now = 0;

  constructor(private readonly topology: Topology, nicCount: number) {
    const ports = [...topology.ports.values()];
    const n = ports.length;
    this.names = ports.map((p) => p.name);
    this.names.forEach((name, i) => this.index.set(name, i));
    this.devices = [...new Set(ports.map((p) => p.device))];
    const devIndex = new Map(this.devices.map((d, i) => [d, i]));
    this.deviceOf = Int32Array.from(ports, (p) => devIndex.get(p.device)!);
    this.isScaleUp = Uint8Array.from(ports, (p) => (p.role === 'nvsw_gpu' ? 1 : 0));
    this.nominal = Float64Array.from(ports, (p) => p.capacity_bps / 1e6);
    this.capacityFactor = new Float64Array(n).fill(1);
    this.queue = new Float64Array(n);
    this.watermark = new Float64Array(n);
    this.txBytes = new Float64Array(n);
    this.ecnMarked = new Float64Array(n);
    this.pfcTx = new Float64Array(n);
    this.pfcRx = new Float64Array(n);
    this.pauseUs = new Float64Array(n);
    this.linkErrors = new Float64Array(n);
    this.creditStallUs = new Float64Array(n);
    this.operUp = new Uint8Array(n).fill(1);
    this.extRate = new Float64Array(n);
    this.extSenders = new Float64Array(n);
    this.extCcRate = new Float64Array(n);
    this.extBacklog = new Float64Array(n);
    this.forcedXoff = new Uint8Array(n);
    this.xoff = new Uint8Array(n);
    this.refreshAcc = new Float64Array(n).fill(-1);
    this.nicRefreshAcc = new Float64Array(nicCount).fill(-1);
    this.pausedNow = new Uint8Array(n);
    this.nicPaused = new Uint8Array(nicCount);
    this.forcedNicPause = new Uint8Array(nicCount);
    this.peerNic = Int32Array.from(ports, (p) => {
      const parsed = parseName(p.peer);
      return parsed?.kind === 'nic' ? parsed.node * topology.spec.gpus_per_node + parsed.nic : -1;
    });
    this.nicPort = new Int32Array(nicCount).fill(-1);
    this.peerNic.forEach((k, p) => {
      if (k >= 0) this.nicPort[k] = p;
    });
    this.peerPort = Int32Array.from(ports, (p) => this.index.get(p.peer) ?? -1);
    this.extUpstream = ports.map((p) => {
      if (p.role !== 'leaf_downlink') return new Int32Array(0);
      const leaf = parseName(p.device);
      const i = leaf?.kind === 'switch' ? leaf.index : 0;
      const ups: number[] = [];
      for (let j = 0; j < topology.spec.spines; j++) ups.push(this.index.get(portName(spineName(j), i))!);
      return Int32Array.from(ups);
    });
    this.deviceUsage = new Float64Array(this.devices.length);
    this.demand = new Float64Array(n);
    this.ratio = new Float64Array(n);
    this.markProb = new Float64Array(n);
  }

  /** NICs forced to assert PAUSE towards their leaf (pfc_storm at a NIC). */
  readonly forcedNicPause: Uint8Array;

  portIndex(name: string): number {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`unknown port ${name}`);
    return i;
  }

  addFlow(pathNames: readonly string[], srcNic: number, size: number, lineRateBytesPerUs: number): Flow {
    const hops = pathNames.length;
    const flow: Flow = {
      path: Int32Array.from(pathNames, (p) => this.portIndex(p)),
      srcNic,
      size,
      injected: 0,
      delivered: 0,
      lineRate: lineRateBytesPerUs,
      rate: lineRateBytesPerUs,
      backlog: new Float64Array(hops),
      pending: new Float64Array(hops),
      arrivals: new Float64Array(hops),
    };
    this.flows.add(flow);
    return flow;
  }

  /** True while ticking matters: bytes to move, queues to drain, or external load offered. */
  busy(): boolean {
    if (this.flows.size > 0) return true;
    for (let i = 0; i < this.queue.length; i++) if (this.queue[i]! > 0 || this.extRate[i]! > 0 || this.forcedXoff[i]) return true;
    for (let i = 0; i < this.forcedNicPause.length; i++) if (this.forcedNicPause[i]) return true;
    return false;
  }

  /** Moves time forward without ticking (nothing in flight). Counters that accrue with time still do. */
  skipTo(tUs: number): void {
    const dt = tUs - this.now;
    if (dt > 0) this.accrueTimeCounters(dt);
    this.now = tUs;
  }

  /** Advances one tick of `dt` µs. Returns flows that completed during it. */
  tick(dt: number): Flow[] {
    const n = this.queue.length;
    const { mtuBytes, ecnKminBytes, ecnKmaxBytes, ecnPmax, sharedBufferBytes, pfcAlpha, pfcXonFraction, pfcRefreshUs } = this.p;

    // 1. Who is paused this tick: upstream senders of every port asserting XOFF.
    this.pausedNow.fill(0);
    this.nicPaused.fill(0);
    for (let d = 0; d < n; d++) {
      if (!this.xoff[d] && !this.forcedXoff[d]) {
        this.refreshAcc[d] = -1;
        continue;
      }
      const frames = this.pauseFrames(this.refreshAcc, d, dt);
      this.pfcTx[d]! += frames;
      this.pauseUpstreamOf(d, frames);
    }
    for (let k = 0; k < this.forcedNicPause.length; k++) {
      if (!this.forcedNicPause[k]) {
        this.nicRefreshAcc[k] = -1;
        continue;
      }
      // A storming NIC pauses its leaf downlink (the port that sends to it).
      const frames = this.pauseFrames(this.nicRefreshAcc, k, dt);
      const port = this.nicPort[k]!;
      if (port >= 0) this.markPaused(port, frames);
    }

    // 2. Arrivals per (flow, hop) and demand per port.
    this.demand.fill(0);
    for (const f of this.flows) {
      const hops = f.path.length;
      const paused = f.srcNic >= 0 && this.nicPaused[f.srcNic];
      const inject = paused ? 0 : Math.min(f.rate * dt, f.size - f.injected);
      f.injected += inject;
      f.arrivals[0] = inject;
      for (let i = 1; i < hops; i++) f.arrivals[i] = f.pending[i]!;
      for (let i = 0; i < hops; i++) this.demand[f.path[i]!]! += f.backlog[i]! + f.arrivals[i]!;
    }
    for (let p = 0; p < n; p++) {
      if (this.extRate[p] === 0) this.extCcRate[p] = 0;
      else if (this.extCcRate[p] === 0) this.extCcRate[p] = this.extRate[p]!; // a burst starts at line rate
      const ext = this.xoff[p] ? 0 : this.extCcRate[p]! * dt;
      this.extBacklog[p]! += ext;
      this.demand[p]! += this.extBacklog[p]!;
    }

    // 3. Service per port, FIFO-proportional departures, queue, ECN, counters.
    this.deviceUsage.fill(0);
    for (let p = 0; p < n; p++) {
      const paused = this.pausedNow[p] === 1;
      const bg = this.isScaleUp[p] ? 0 : this.backgroundLoad;
      const cap = this.operUp[p] ? this.nominal[p]! * this.capacityFactor[p]! * (1 - bg) : 0;
      const service = paused ? 0 : cap * dt;
      const demand = this.demand[p]!;
      const sent = Math.min(service, demand);
      this.ratio[p] = demand > 0 ? sent / demand : 0;
      const q = demand - sent;
      this.queue[p] = q;
      if (q > this.watermark[p]!) this.watermark[p] = q;
      this.txBytes[p]! += sent;
      this.extBacklog[p]! *= 1 - this.ratio[p]!;
      this.deviceUsage[this.deviceOf[p]!]! += q;
      if (paused) this.pauseUs[p]! += dt;
      if (this.isScaleUp[p]) {
        // Scale-up links are credit based: time with data waiting but no credit to send.
        if (demand > service && demand > 0) this.creditStallUs[p]! += dt * (1 - service / demand);
        this.markProb[p] = 0;
      } else {
        const prob = q <= ecnKminBytes ? 0 : q >= ecnKmaxBytes ? 1 : (ecnPmax * (q - ecnKminBytes)) / (ecnKmaxBytes - ecnKminBytes);
        this.markProb[p] = prob;
        this.ecnMarked[p]! += (sent / mtuBytes) * prob;
      }
    }
    // PFC thresholds against the free shared buffer of each switch.
    for (let p = 0; p < n; p++) {
      if (this.isScaleUp[p]) continue;
      const free = Math.max(0, sharedBufferBytes - this.deviceUsage[this.deviceOf[p]!]!);
      const xoffAt = pfcAlpha * free;
      if (!this.xoff[p] && this.queue[p]! > xoffAt) this.xoff[p] = 1;
      else if (this.xoff[p] && this.queue[p]! < xoffAt * pfcXonFraction) this.xoff[p] = 0;
    }
    this.accrueTimeCounters(dt);

    // External senders react to the marks of the port they converge on.
    for (let p = 0; p < n; p++) {
      if (this.extRate[p] === 0) continue;
      const mark = this.markProb[p]!;
      const perSender = this.nominal[p]!;
      if (mark > 0) this.extCcRate[p] = Math.max(perSender * 0.01, this.extCcRate[p]! * (1 - 0.5 * mark * (dt / 10)));
      else this.extCcRate[p] = Math.min(this.extRate[p]!, this.extCcRate[p]! + (this.extSenders[p]! * perSender * dt) / this.p.ccRecoveryUs);
    }

    // 4. Move departures along each flow; congestion control; completions.
    const done: Flow[] = [];
    for (const f of this.flows) {
      const hops = f.path.length;
      let mark = 0;
      for (let i = 0; i < hops; i++) {
        const p = f.path[i]!;
        const have = f.backlog[i]! + f.arrivals[i]!;
        const dep = have * this.ratio[p]!;
        f.backlog[i] = have - dep;
        if (i + 1 < hops) f.pending[i + 1] = dep;
        else f.delivered += dep;
        if (this.markProb[p]! > mark) mark = this.markProb[p]!;
      }
      if (mark > 0) f.rate = Math.max(f.lineRate * 0.01, f.rate * (1 - 0.5 * mark * (dt / 10)));
      else f.rate = Math.min(f.lineRate, f.rate + (f.lineRate * dt) / this.p.ccRecoveryUs);
      // Fluid remainders never reach exactly zero: a flow is done when < 1 byte is left.
      if (f.size - f.delivered < 1) done.push(f);
    }
    for (const f of done) this.flows.delete(f);
    this.now += dt;
    return done;
  }

  /** Counters that grow with time rather than with job traffic: background bytes, link errors. */
  private accrueTimeCounters(dt: number): void {
    for (let p = 0; p < this.capacityFactor.length; p++) {
      const f = this.capacityFactor[p]!;
      if (this.backgroundLoad > 0 && !this.isScaleUp[p] && this.operUp[p]) this.txBytes[p]! += this.backgroundLoad * this.nominal[p]! * f * dt;
      // A degraded link shows FEC/CRC errors roughly in proportion to how bad it is.
      if (f < 1 && !this.isScaleUp[p]) this.linkErrors[p]! += (1 - f) * 0.05 * dt;
    }
  }

  /**
   * Pause frames sent this tick by one pausing source: one at the XOFF edge (accumulator -1),
   * then one per refresh period while the pause lasts.
   */
  private pauseFrames(acc: Float64Array, i: number, dt: number): number {
    let frames = 0;
    if (acc[i]! < 0) {
      frames = 1;
      acc[i] = 0;
    }
    acc[i]! += dt;
    const refresh = this.p.pfcRefreshUs;
    if (acc[i]! >= refresh) {
      const k = Math.floor(acc[i]! / refresh);
      frames += k;
      acc[i]! -= k * refresh;
    }
    return frames;
  }

  /** Port `d` asserts PAUSE: stop whoever sends into it. */
  private pauseUpstreamOf(d: number, frames: number): void {
    if (this.forcedXoff[d] && !this.xoff[d]) {
      // A storming port pauses its link peer: the NIC behind it, or the switch port facing it.
      if (this.peerNic[d]! >= 0) this.nicPaused[this.peerNic[d]!] = 1;
      else if (this.peerPort[d]! >= 0) this.markPaused(this.peerPort[d]!, frames);
      return;
    }
    for (const f of this.flows) {
      for (let i = 0; i < f.path.length; i++) {
        if (f.path[i] !== d) continue;
        if (i === 0) {
          if (f.srcNic >= 0) this.nicPaused[f.srcNic] = 1;
        } else this.markPaused(f.path[i - 1]!, frames);
      }
    }
    if (this.extRate[d]! > 0 || this.extBacklog[d]! > 0) for (const u of this.extUpstream[d]!) this.markPaused(u, frames);
  }

  private markPaused(u: number, frames: number): void {
    if (!this.pausedNow[u]) this.pfcRx[u]! += frames;
    this.pausedNow[u] = 1;
  }

  counters(p: number): PortCounters {
    return {
      tx_bytes: Math.round(this.txBytes[p]!),
      ecn_marked_pkts: Math.floor(this.ecnMarked[p]!),
      pfc_tx_pause_frames: Math.floor(this.pfcTx[p]!),
      pfc_rx_pause_frames: Math.floor(this.pfcRx[p]!),
      pfc_rx_pause_us: Math.round(this.pauseUs[p]!),
      link_errors: Math.floor(this.linkErrors[p]!),
      credit_stall_us: Math.round(this.creditStallUs[p]!),
      queue_bytes: Math.round(this.queue[p]!),
      watermark_bytes: Math.round(this.watermark[p]!),
      oper_up: this.operUp[p] === 1,
    };
  }

  /** Periodic watermark: the peak since the last snapshot, then restart from the current level. */
  resetWatermarks(): void {
    this.watermark.set(this.queue);
  }
}
