/**
 * Realism: each test reproduces a known result of real RoCE fabrics and NCCL (issue #3's list,
 * tolerances from fabric-modeling.md). They drive the engine or the fluid fabric directly.
 */
import { describe, expect, it } from 'vitest';
import { Topology } from '../../core/topology.js';
import { SimulationEngine } from '../../simulator/engine.js';
import { FABRIC_DEFAULTS, FluidFabric } from '../../simulator/fluid-fabric.js';
import { stragglerClockRatio } from '../../simulator/gpu-model.js';
import type { CollectiveRecord } from '../../simulator/outputs.js';
import { loadScenario, parseScenario } from '../../simulator/scenario.js';

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

function engineFor(yaml: string): SimulationEngine {
  return new SimulationEngine(parseScenario(yaml, 'realism.yaml'));
}

/** Collective records of a scenario played up to `untilUs`. */
function collectives(yaml: string, untilUs: number): CollectiveRecord[] {
  const engine = engineFor(yaml);
  engine.advanceTo(untilUs);
  return engine.drainCollectives();
}

describe('realism', () => {
  it('(1) ring all-reduce busbw does not depend on the rank count and is 46–48 GB/s per 400G NIC', () => {
    // One GPU per node and one leaf: a pure scale-out ring, every rank on its own NIC.
    const busbw = [2, 4, 8, 16].map((nodes) => {
      const records = collectives(
        `
name: ring-busbw
seed: 3
topology: { nodes: ${nodes}, gpus_per_node: 1, leaves: 1, spines: 1, link_gbps: 400 }
jobs: [{ id: ring, nodes: all, collective: allreduce, message_bytes: 268435456, compute_ms: 5 }]
faults: []
`,
        200_000,
      );
      expect(records.length).toBeGreaterThan(5 * nodes);
      return mean(records.map((r) => r.busbw_gbs));
    });
    for (const b of busbw) {
      expect(b).toBeGreaterThan(46);
      expect(b).toBeLessThan(48.5);
    }
    expect(Math.max(...busbw) / Math.min(...busbw)).toBeLessThan(1.02);
  });

  describe('(2) incast of N senders onto one NIC', () => {
    /** N line-rate senders on one leaf, all to the NIC behind leaf-0/p0. */
    function incast(n: number) {
      const topo = new Topology({ nodes: n + 1, gpus_per_node: 1, leaves: 1, spines: 1, link_gbps: 400 });
      const fabric = new FluidFabric(topo, n + 1);
      const port = fabric.portIndex('leaf-0/p0');
      const line = fabric.nominalRate(port);
      for (let k = 1; k <= n; k++) fabric.addFlow(['leaf-0/p0'], k, Infinity, line);
      return { fabric, port, line };
    }

    it('the queue ramps at (N−1) × line rate and marks start within one RTT of passing Kmin', () => {
      for (const n of [2, 4, 8, 16]) {
        const { fabric, port, line } = incast(n);
        fabric.runUntil(0.1);
        const { arrival, service } = fabric.rates(port);
        expect((arrival - service) / line).toBeCloseTo(n - 1, 6);
        const kminAtUs = FABRIC_DEFAULTS.ecnKminBytes / ((n - 1) * line);
        let firstMarkUs = Infinity;
        for (let t = 0.2; t <= kminAtUs + 20 && firstMarkUs === Infinity; t += 0.1) {
          fabric.runUntil(t);
          if (fabric.ecnMarked[port]! > 0) firstMarkUs = t;
        }
        expect(firstMarkUs).toBeGreaterThanOrEqual(kminAtUs);
        // One RTT: two hops of link delay each way plus a 4 KB serialisation, well under 5 µs.
        expect(firstMarkUs - kminAtUs).toBeLessThan(5);
      }
    });

    it('PFC fires only at a large incast degree; small incasts keep goodput near line rate', () => {
      const outcome = (n: number) => {
        const { fabric, port, line } = incast(n);
        // Goodput after DCQCN's first cuts and recovery (its default AI step is small at 400G).
        fabric.runUntil(5000);
        const tx0 = fabric.txBytes[port]!;
        fabric.runUntil(25_000);
        return { pauseFrames: fabric.counters(port).pfc_tx_pause_frames, goodput: (fabric.txBytes[port]! - tx0) / (20_000 * line) };
      };
      for (const n of [2, 4]) {
        const o = outcome(n);
        expect(o.pauseFrames).toBe(0);
        expect(o.goodput).toBeGreaterThan(0.85);
      }
      for (const n of [16, 32]) expect(outcome(n).pauseFrames).toBeGreaterThan(5);
    });

    it('at N ≥ 8 the queue settles between Kmin and Kmax with goodput near line rate', () => {
      const { ecnKminBytes, ecnKmaxBytes } = FABRIC_DEFAULTS;
      for (const n of [8, 16, 32]) {
        const { fabric, port, line } = incast(n);
        // The first burst may pause (at this degree it outruns the first cuts); afterwards DCQCN
        // holds the queue in its marking band: it climbs past Kmin, is cut back, never reaches Kmax.
        fabric.runUntil(5000);
        const pauses0 = fabric.counters(port).pfc_tx_pause_frames;
        const tx0 = fabric.txBytes[port]!;
        let peak = 0;
        for (let t = 5010; t <= 25_000; t += 10) {
          fabric.runUntil(t);
          peak = Math.max(peak, fabric.queue[port]!);
        }
        expect(peak).toBeGreaterThan(ecnKminBytes);
        expect(peak).toBeLessThan(ecnKmaxBytes);
        expect(fabric.counters(port).pfc_tx_pause_frames - pauses0).toBe(0);
        expect((fabric.txBytes[port]! - tx0) / (20_000 * line)).toBeGreaterThan(0.95);
      }
    });
  });

  it('(4) a flow through a link at 1/10 capacity is about 10× slower', () => {
    // DCQCN cuts the sender to the degraded rate and holds the queue in the marking band, so the
    // link stays busy: the transfer takes ~10× as long, not more (an over-cut sender idles it).
    const topo = new Topology({ nodes: 2, gpus_per_node: 1, leaves: 1, spines: 1, link_gbps: 400 });
    const transferUs = (factor: number, bytes: number) => {
      const fabric = new FluidFabric(topo, 2);
      const port = fabric.portIndex('leaf-0/p0');
      fabric.capacityFactor[port] = factor;
      fabric.faultsChanged();
      const flow = fabric.addFlow(['leaf-0/p0'], 1, bytes, fabric.nominalRate(port));
      while (!fabric.runUntil(1e9).includes(flow));
      return fabric.now;
    };
    for (const mb of [16, 64, 256]) {
      const ratio = transferUs(0.1, mb * 1024 * 1024) / transferUs(1, mb * 1024 * 1024);
      expect(ratio).toBeGreaterThan(9.5);
      expect(ratio).toBeLessThan(11);
    }
  });

  it('(3) k elephant flows hashed onto k uplinks leave about 1/e of the uplinks idle', () => {
    const k = 16;
    const idleShares: number[] = [];
    for (let seed = 1; seed <= 150; seed++) {
      const engine = engineFor(`
name: ecmp
seed: ${seed}
topology: { nodes: ${2 * k}, gpus_per_node: 1, leaves: 2, spines: ${k}, link_gbps: 400 }
jobs: []
faults: []
`);
      // k flows from the NICs of leaf 0 to those of leaf 1, one QP each, placed by the ECMP hash.
      const fabric = engine.fabric;
      const line = fabric.nominalRate(fabric.portIndex('leaf-0/p0'));
      for (let i = 0; i < k; i++) {
        const spine = engine.chooseSpine('elephants', { node: i, gpu: 0 }, { node: k + i, gpu: 0 }, 0);
        const path = engine.topology.scaleOutPaths({ node: i, gpu: 0 }, { node: k + i, gpu: 0 })[spine]!;
        fabric.addFlow(path, i, Infinity, line);
      }
      fabric.runUntil(50);
      let idle = 0;
      for (let j = 0; j < k; j++) if (fabric.txBytes[fabric.portIndex(engine.topology.leafUplink(0, j))] === 0) idle++;
      idleShares.push(idle / k);
    }
    const expected = Math.pow(1 - 1 / k, k); // 0.356 for k = 16, → 1/e as k grows
    expect(mean(idleShares)).toBeGreaterThan(expected - 0.03);
    expect(mean(idleShares)).toBeLessThan(expected + 0.03);
  });

  it('(4) with PFC, congestion behind a link at 1/10 capacity spreads upstream', () => {
    // Three senders on leaf 0 through spine 0 into the NIC behind leaf-1/p0, degraded to 1/10.
    const topo = new Topology({ nodes: 8, gpus_per_node: 1, leaves: 2, spines: 1, link_gbps: 400 });
    const run = (factor: number) => {
      const fabric = new FluidFabric(topo, 8);
      const degraded = fabric.portIndex('leaf-1/p0');
      fabric.capacityFactor[degraded] = factor;
      fabric.faultsChanged();
      const line = fabric.nominalRate(degraded);
      for (let k = 0; k < 3; k++) fabric.addFlow(['leaf-0/p4', 'spine-0/p1', 'leaf-1/p0'], k, 16 * 1024 * 1024, line);
      let spineQueuePeak = 0;
      for (let t = 10; t <= 3000; t += 10) {
        fabric.runUntil(t);
        spineQueuePeak = Math.max(spineQueuePeak, fabric.queue[fabric.portIndex('spine-0/p1')]!);
      }
      const spine = fabric.counters(fabric.portIndex('spine-0/p1'));
      return { pauseSent: fabric.counters(degraded).pfc_tx_pause_frames, spineRxPause: spine.pfc_rx_pause_us, spineQueuePeak };
    };
    const healthy = run(1);
    expect(healthy).toEqual({ pauseSent: 0, spineRxPause: 0, spineQueuePeak: 0 });
    const degraded = run(0.1);
    expect(degraded.pauseSent).toBeGreaterThan(0);
    expect(degraded.spineRxPause).toBeGreaterThan(10);
    // The paused spine port queues what it may not send: the congestion moved one hop upstream.
    expect(degraded.spineQueuePeak).toBeGreaterThan(100 * 1024);
  });

  it('(5) a rank delayed by d delays every rank’s collective by about d', () => {
    const computeMs = 20;
    const severity = 0.5;
    const d = computeMs * 1000 * (1 / stragglerClockRatio(severity) - 1);
    const yaml = (faults: string) => `
name: delayed-rank
seed: 5
start: "2026-01-01T00:00:00Z"
topology: { nodes: 4, gpus_per_node: 2, leaves: 2, spines: 2, link_gbps: 400 }
jobs: [{ id: train, nodes: all, collective: allreduce, message_bytes: 67108864, compute_ms: ${computeMs} }]
faults: ${faults}
`;
    const base = collectives(yaml('[]'), 1_500_000);
    const slow = collectives(yaml('[{ kind: straggler_gpu, target: node-2/gpu-1, start_s: 0.5, duration_s: 0.6, severity: 0.5 }]'), 1_500_000);
    const straggler = 2 * 2 + 1;
    const windowUs = (r: CollectiveRecord) => r.start_us - Date.parse('2026-01-01T00:00:00Z') * 1000;
    const inFault = (records: CollectiveRecord[]) => records.filter((r) => windowUs(r) > 0.6e6 && windowUs(r) < 1.0e6 && r.rank !== straggler);
    // Every other rank waits d longer inside its collective; the straggler itself does not.
    const extra = median(inFault(slow).map((r) => r.exec_time_us)) - median(inFault(base).map((r) => r.exec_time_us));
    expect(extra).toBeGreaterThan(0.9 * d);
    expect(extra).toBeLessThan(1.1 * d);
    // Ranks of one call end together (within the kernel teardown jitter).
    for (const seq of new Set(inFault(slow).map((r) => r.seq))) {
      const ends = slow.filter((r) => r.seq === seq).map((r) => r.end_us);
      expect(Math.max(...ends) - Math.min(...ends)).toBeLessThan(10);
    }
  });

  it('(6) the same scenario and seed give byte-identical telemetry and ground truth', async () => {
    const scenario = await loadScenario('examples/suite/16-overlap-incast-straggler.yaml');
    const play = () => {
      const engine = new SimulationEngine(scenario);
      const out: string[] = [];
      for (let t = 100_000; t <= 8_000_000; t += 100_000) {
        engine.advanceTo(t);
        out.push(JSON.stringify(engine.switchSnapshots()), JSON.stringify(engine.drainCollectives()));
        if (t % 1_000_000 === 0) out.push(JSON.stringify(engine.gpuSnapshot()));
      }
      out.push(JSON.stringify(engine.groundTruth()));
      return out;
    };
    const first = play();
    expect(JSON.parse(first.at(-1)!).length).toBeGreaterThan(0);
    expect(play()).toEqual(first);
  });
});
