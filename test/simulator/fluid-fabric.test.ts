/**
 * The fluid fabric's closed-form accounting: ECN marks integrate the RED curve exactly over a
 * queue that moves linearly, also across Kmin and Kmax within one event interval (those
 * crossings are not events while congestion control is on its marking interval).
 */
import { describe, expect, it } from 'vitest';
import { Topology } from '../../core/topology.js';
import { FABRIC_DEFAULTS, FluidFabric } from '../../simulator/fluid-fabric.js';

describe('fluid fabric ECN accounting', () => {
  it('counts the exact RED integral of a queue ramping from empty past Kmax', () => {
    const topo = new Topology({ nodes: 3, gpus_per_node: 1, leaves: 1, spines: 1, link_gbps: 400 });
    // Congestion control far away: the senders keep line rate, so the queue ramps at one line rate.
    const fabric = new FluidFabric(topo, 3, { ccIntervalUs: 1e9, ccFirstReactionUs: 1e9 });
    const port = fabric.portIndex('leaf-0/p0');
    const line = fabric.nominalRate(port);
    for (const nic of [1, 2]) fabric.addFlow(['leaf-0/p0'], nic, Infinity, line);
    const { ecnKminBytes: kmin, ecnKmaxBytes: kmax, ecnPmax: pmax, mtuBytes: mtu } = FABRIC_DEFAULTS;
    // Past Kmax, below the PFC threshold (1/8 of the free 32 MB buffer, ~3.55 MB here).
    const target = 3.4 * 1024 * 1024;
    fabric.runUntil(target / line);
    expect(fabric.queue[port]! / target).toBeCloseTo(1, 9);
    expect(fabric.counters(port).pfc_tx_pause_frames).toBe(0);
    // Service runs at line rate while the queue grows by one line rate: marks = ∫ p(q) dq / MTU.
    const expected = ((pmax * (kmax - kmin)) / 2 + (target - kmax)) / mtu;
    expect(fabric.ecnMarked[port]! / expected).toBeCloseTo(1, 6);
  });
});
