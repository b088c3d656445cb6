/**
 * The fluid fabric re-solves only the ports whose inputs changed since the last event (flows
 * added or finished, sender rates, capacities, pauses, queue states, emptied backlogs). Here a
 * congested, ring-coupled scenario with PFC, a degraded link and a storm runs with every rate
 * pass checked against a pass from scratch: a change the incremental passes missed would leave
 * some port's arrival or some hop's output stale, and the fabric throws naming it.
 */
import { describe, expect, it } from 'vitest';
import { Topology } from '../../core/topology.js';
import { SimulationEngine } from '../../simulator/engine.js';
import { FABRIC_DEFAULTS, FluidFabric } from '../../simulator/fluid-fabric.js';
import { parseScenario } from '../../simulator/scenario.js';

const SCENARIO = `
name: incremental-rates
seed: 5
duration_s: 3
start: "2026-01-01T00:00:00Z"
topology: { nodes: 4, gpus_per_node: 4, leaves: 2, spines: 2, link_gbps: 400 }
jobs:
  - { id: ring, nodes: [0, 1, 2], collective: allreduce, message_bytes: 67108864, compute_ms: 5 }
  - { id: tree, nodes: [1, 2, 3], collective: allreduce, algorithm: tree, message_bytes: 33554432, compute_ms: 4 }
background: { load: 0.1 }
faults:
  - { kind: incast_congestion, target: leaf-0/p4, start_s: 0.5, duration_s: 1.5, severity: 0.9 }
  - { kind: link_degraded, target: leaf-1/p9, start_s: 1.0, duration_s: 1.5, severity: 0.6 }
  - { kind: pfc_storm, target: node-3/nic-1, start_s: 2.0, duration_s: 0.5, severity: 0.9 }
`;

describe('fluid fabric incremental rate passes', () => {
  it('give the rates of a pass from scratch at every event of a congested run', () => {
    const engine = new SimulationEngine(parseScenario(SCENARIO, 'incremental-rates.yaml'));
    const fabric = engine.fabric;
    // Throws, naming the port, at the first pass whose rates differ from a pass from scratch.
    fabric.verifyRatePasses = true;
    let queued = 0;
    for (let ms = 10; ms <= 3000; ms += 10) {
      engine.advanceTo(ms * 1000);
      for (let p = 0; p < fabric.names.length; p++) if (fabric.queue[p]! > 0) queued++;
    }
    expect(fabric.events).toBeGreaterThan(10_000);
    // The run must actually build queues (else the comparison proves little).
    expect(queued).toBeGreaterThan(100);
  });
});

describe('fluid fabric ECN marks', () => {
  it('integrate the RED probability exactly across Kmin and Kmax, which are not events', () => {
    // Two line-rate senders into one NIC with congestion control too slow to act: the queue rises
    // at one line rate, past Kmin (CC starts: an event) and Kmax (no event) before PFC fires.
    const topo = new Topology({ nodes: 3, gpus_per_node: 1, leaves: 1, spines: 1, link_gbps: 400 });
    const fabric = new FluidFabric(topo, 3, { ccFirstReactionUs: 1e6, ccIntervalUs: 1e6 });
    const port = fabric.portIndex('leaf-0/p0');
    const line = fabric.nominalRate(port);
    for (const nic of [1, 2]) fabric.addFlow(['leaf-0/p0'], nic, Infinity, line);
    const { ecnKminBytes: kmin, ecnKmaxBytes: kmax, ecnPmax, mtuBytes } = FABRIC_DEFAULTS;
    const endUs = (kmax + 200 * 1024) / line;
    fabric.runUntil(endUs);
    expect(fabric.queue[port]).toBeCloseTo(line * endUs, 3);
    expect(fabric.counters(port).pfc_tx_pause_frames).toBe(0);
    // ∫ p(q(t)) dt with q = line × t: the ramp from Kmin to Kmax, then probability 1 above Kmax.
    const rampUs = (kmax - kmin) / line;
    const markedUs = (ecnPmax * rampUs) / 2 + (endUs - kmax / line);
    expect(fabric.ecnMarked[port]! / ((line / mtuBytes) * markedUs)).toBeCloseTo(1, 9);
    // Events: the Kmin crossing that starts congestion control; nothing at Kmax.
    expect(fabric.events).toBe(1);
  });
});
