/** Test fixtures for the pipeline: record factories, an in-memory Store and a synthetic scenario. */
import type { CollectiveEvent, GpuSample, PortSample, Stall, Topic, TopicRecords } from '../../core/records.js';
import { TOPICS } from '../../core/records.js';
import type { AlertFilter, GpuView, StallFilter, Store } from '../../core/store.js';
import { Topology } from '../../core/topology.js';
import { deviceOfPort, gpuName, nodeName } from '../../core/names.js';
import type { Logger } from '../../core/log.js';

export const T0 = Date.UTC(2026, 0, 1);

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

export function portSample(port: string, ts_ms: number, over: Partial<PortSample> = {}): PortSample {
  return {
    ts_ms,
    port,
    device: deviceOfPort(port),
    interval_ms: 100,
    queue_bytes: 0,
    tx_bytes: 1_000_000,
    ecn_marked_pkts: 0,
    pfc_tx_pause_frames: 0,
    pfc_rx_pause_frames: 0,
    pfc_rx_pause_us: 0,
    credit_stall_us: 0,
    link_errors: 0,
    oper_up: true,
    ...over,
  };
}

export function gpuSample(node: number, gpu: number, ts_ms: number, metrics: Record<string, number> = {}): GpuSample {
  return {
    ts_ms,
    gpu: gpuName(node, gpu),
    node: nodeName(node),
    uuid: `GPU-${node}-${gpu}`,
    model: 'H100',
    metrics: { DCGM_FI_DEV_SM_CLOCK: 1980, DCGM_FI_DEV_CLOCKS_EVENT_REASONS: 0, DCGM_FI_DEV_GPU_TEMP: 60, ...metrics },
  };
}

export function collectiveEvent(over: Partial<CollectiveEvent> & Pick<CollectiveEvent, 'rank' | 'seq' | 'start_us' | 'end_us'>): CollectiveEvent {
  return {
    job: 'train-a',
    comm_id: '0xabc',
    n_ranks: 8,
    host: 'node-0',
    collective: 'AllReduce',
    msg_bytes: 268435456,
    exec_time_us: over.end_us - over.start_us,
    algbw_gbs: 0,
    busbw_gbs: 0,
    ...over,
  };
}

/** A small Store kept in memory; upserts by id where the contract says inserts are idempotent. */
export class MemoryStore implements Store {
  readonly rows = Object.fromEntries(TOPICS.map((t) => [t, [] as unknown[]])) as { [T in Topic]: TopicRecords[T][] };
  /** Fail this many insert calls before succeeding (to exercise the sink's retries). */
  failNext = 0;
  insertCalls = 0;

  async migrate(): Promise<void> {}
  async insert<T extends Topic>(topic: T, rows: TopicRecords[T][]): Promise<void> {
    this.insertCalls++;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('store unavailable');
    }
    const list = this.rows[topic] as TopicRecords[T][];
    for (const r of rows) {
      const id = (r as { id?: string }).id;
      const at = id === undefined ? -1 : list.findIndex((x) => (x as { id?: string }).id === id);
      if (at >= 0) list[at] = r;
      else list.push(r);
    }
  }
  async listStalls(filter: StallFilter): Promise<Stall[]> {
    return this.rows.stalls.slice(0, filter.limit);
  }
  async getStall(id: string): Promise<Stall | undefined> {
    return this.rows.stalls.find((s) => s.id === id);
  }
  async listAlerts(_filter: AlertFilter) {
    return [];
  }
  async listGpus(): Promise<GpuView[]> {
    return [];
  }
  async counts(): Promise<Record<Topic, number>> {
    return Object.fromEntries(TOPICS.map((t) => [t, this.rows[t].length])) as Record<Topic, number>;
  }
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Deterministic PRNG (mulberry32) so synthetic streams are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- a synthetic scenario ---------------------------------------------------------------------

/** 4 nodes × 4 GPUs, 2 leaves (D = 8), 2 spines; the job runs on nodes 0-2, node 3 is another tenant's. */
export const smallTopology = () => new Topology({ nodes: 4, gpus_per_node: 4, leaves: 2, spines: 2, link_gbps: 400 });

export interface SyntheticStreams {
  port_samples: PortSample[];
  gpu_samples: GpuSample[];
  collective_events: CollectiveEvent[];
}

export interface Window {
  from_ms: number;
  to_ms: number;
}

export interface ScenarioFaults {
  /** Incast on a leaf downlink the job's ring enters (NIC of node-2/gpu-1). */
  incast?: Window & { port: string };
  /** node-2/gpu-1 throttles and enters collectives late. */
  straggler?: Window & { node: number; gpu: number; late_us: number };
  /** Congestion on a port no transfer of the job crosses (node-3's NIC). */
  benign?: Window & { port: string };
  /** Calls slowed with no telemetry signal at all. */
  mystery?: Window;
}

export const JOB_NODES = [0, 1, 2];
export const GPUS = 4;
const ITER_MS = 50; // 40 ms compute + ~8 ms collective + slack
const BASE_US = 8_000;

export function synthesize(durationMs: number, faults: ScenarioFaults, seed = 7): SyntheticStreams {
  const topo = smallTopology();
  const rnd = prng(seed);
  const inside = (w: Window | undefined, t: number) => !!w && t >= w.from_ms && t < w.to_ms;
  // A switch sample stamped ts covers (ts − 100 ms, ts]: it shows a fault active in that interval.
  const covers = (w: Window | undefined, ts: number) => !!w && ts > w.from_ms && ts - 100 < w.to_ms;
  const out: SyntheticStreams = { port_samples: [], gpu_samples: [], collective_events: [] };

  // Switch telemetry every 100 ms on every port.
  for (let t = T0 + 100; t <= T0 + durationMs; t += 100) {
    for (const info of topo.ports.values()) {
      const over: Partial<PortSample> = { tx_bytes: Math.round(2e9 + rnd() * 1e8), queue_bytes: Math.round(rnd() * 50_000) };
      if (faults.incast && info.name === faults.incast.port && covers(faults.incast, t)) {
        Object.assign(over, { queue_bytes: 4_000_000, ecn_marked_pkts: 6_000, pfc_tx_pause_frames: 40 });
      }
      if (faults.incast && covers(faults.incast, t) && info.name === 'spine-0/p1') {
        // Pauses spread upstream: the spine port feeding the congested leaf is paused a bit.
        Object.assign(over, { pfc_rx_pause_frames: 20, pfc_rx_pause_us: 15_000, queue_bytes: 900_000 });
      }
      if (faults.benign && info.name === faults.benign.port && covers(faults.benign, t)) {
        Object.assign(over, { queue_bytes: 9_000_000, ecn_marked_pkts: 20_000, pfc_tx_pause_frames: 300 });
      }
      out.port_samples.push(portSample(info.name, t, over));
    }
  }
  // DCGM every second per GPU of every node.
  for (let t = T0 + 1000; t <= T0 + durationMs; t += 1000) {
    for (let n = 0; n < 4; n++) {
      for (let g = 0; g < GPUS; g++) {
        const s = faults.straggler;
        const throttled = !!s && s.node === n && s.gpu === g && t >= s.from_ms && t <= s.to_ms + 1000;
        out.gpu_samples.push(gpuSample(n, g, t, throttled ? { DCGM_FI_DEV_SM_CLOCK: 1100, DCGM_FI_DEV_CLOCKS_EVENT_REASONS: 0x40, DCGM_FI_DEV_GPU_TEMP: 91 } : {}));
      }
    }
  }
  // One all-reduce per iteration, per rank.
  const nRanks = JOB_NODES.length * GPUS;
  let seq = 0;
  for (let t = T0 + 20; t + ITER_MS < T0 + durationMs; t += ITER_MS, seq++) {
    const starts: number[] = [];
    for (let r = 0; r < nRanks; r++) {
      let s = t * 1000 + Math.round(rnd() * 150);
      const st = faults.straggler;
      if (st && inside(st, t) && r === JOB_NODES.indexOf(st.node) * GPUS + st.gpu) s += st.late_us;
      starts.push(s);
    }
    let dur = BASE_US + Math.round(rnd() * 300);
    if (inside(faults.incast, t)) dur += 12_000;
    if (inside(faults.mystery, t)) dur += 9_000;
    const lastStart = Math.max(...starts);
    for (let r = 0; r < nRanks; r++) {
      const end = lastStart + dur + Math.round(rnd() * 40);
      out.collective_events.push(
        collectiveEvent({ rank: r, n_ranks: nRanks, host: nodeName(JOB_NODES[Math.floor(r / GPUS)]!), seq, start_us: starts[r]!, end_us: end }),
      );
    }
  }
  return out;
}

export type Delivery = { at: number; topic: 'port_samples' | 'gpu_samples' | 'collective_events'; record: PortSample | GpuSample | CollectiveEvent; order: number };

/**
 * Turns streams into one arrival sequence: each record arrives at its event time plus a delay
 * chosen per source (a switch pushes right away, an NCCL file is tailed ~once a second, …).
 * Within one source the order is kept, as every real transport does.
 */
export function arrivals(
  s: SyntheticStreams,
  delay: { port: (device: string) => number; gpu: (gpu: string) => number; nccl: (host: string, endMs: number) => number },
): Delivery[] {
  const out: Delivery[] = [];
  let order = 0;
  for (const r of s.port_samples) out.push({ at: r.ts_ms + delay.port(r.device), topic: 'port_samples', record: r, order: order++ });
  for (const r of s.gpu_samples) out.push({ at: r.ts_ms + delay.gpu(r.gpu), topic: 'gpu_samples', record: r, order: order++ });
  for (const r of s.collective_events) out.push({ at: r.end_us / 1000 + delay.nccl(r.host, r.end_us / 1000), topic: 'collective_events', record: r, order: order++ });
  return out.sort((a, b) => a.at - b.at || a.order - b.order);
}
