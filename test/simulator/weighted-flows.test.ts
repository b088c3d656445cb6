/**
 * A fabric row can stand for several identical senders (Flow.weight): an incast's senders that
 * share a spine share a path, hence their DCQCN state and rates. Here the same incast (external
 * line-rate senders through two spines into one NIC, beside a victim flow to that NIC) runs
 * twice: one row per sender, and one weighted row per spine. A burst of finite senders (weighted
 * the same way) finishes meanwhile. Every port's counters and rates must agree up to rounding,
 * through DCQCN marking, completions and the senders' removal with their bytes still queued.
 */
import { describe, expect, it } from 'vitest';
import { Topology } from '../../core/topology.js';
import { FluidFabric, type Flow, type PortCounters } from '../../simulator/fluid-fabric.js';

const topology = new Topology({ nodes: 4, gpus_per_node: 1, leaves: 2, spines: 2, link_gbps: 400 });
const TARGET = 'leaf-0/p0';
/** Senders per spine (5 in all, as the engine would route 5 senders over 2 spines). */
const PER_SPINE = [3, 2];
const VICTIM_BYTES = 64 * 1024 * 1024;
const BURST_BYTES = 4 * 1024 * 1024;

interface Run {
  fabric: FluidFabric;
  victimDoneUs: number;
  burstDoneUs: number;
  /** Counters of every port after the senders were removed and the queues drained. */
  counters: PortCounters[];
  /** Arrival and service rates of every port while the incast ran (at the victim's completion). */
  rates: Array<{ arrival: number; service: number }>;
  peakQueue: number;
}

function runIncast(weighted: boolean): Run {
  const fabric = new FluidFabric(topology, 4);
  fabric.backgroundLoad = 0.1;
  const target = fabric.portIndex(TARGET);
  const line = fabric.nominalRate(target);
  const senders: Flow[] = [];
  PER_SPINE.forEach((count, spine) => {
    const path = [topology.spineDownlink(spine, 0), TARGET];
    if (weighted) senders.push(fabric.addFlow(path, -1, Infinity, line, { external: true, weight: count }));
    else for (let k = 0; k < count; k++) senders.push(fabric.addFlow(path, -1, Infinity, line, { external: true }));
    if (weighted) fabric.addFlow(path, -1, BURST_BYTES, line, { external: true, weight: count, tag: 'burst' });
    else for (let k = 0; k < count; k++) fabric.addFlow(path, -1, BURST_BYTES, line, { external: true, tag: 'burst' });
  });
  // The victim: node-2 (leaf-1) to node-0 through spine 0, sharing the incast's ports.
  const victimPath = topology.scaleOutPath({ node: 2, gpu: 0 }, { node: 0, gpu: 0 }, 0);
  const victim = fabric.addFlow(victimPath, topology.nicIndex(2, 0), VICTIM_BYTES, line);
  let victimDoneUs = NaN;
  let burstDoneUs = NaN;
  let peakQueue = 0;
  let rates: Run['rates'] = [];
  // Steps of 10 µs: completions end a step early, so each run stops at its own event times.
  for (let t = 10; t <= 20_000 && Number.isNaN(victimDoneUs); t += 10) {
    for (let done = fabric.runUntil(t); done.length > 0; done = fabric.runUntil(t)) {
      if (done.some((f) => f.tag === 'burst')) burstDoneUs = fabric.now;
      if (done.includes(victim)) {
        victimDoneUs = fabric.now;
        rates = fabric.names.map((_, p) => fabric.rates(p));
      }
    }
    peakQueue = Math.max(peakQueue, fabric.queue[target]!);
  }
  for (const f of senders) fabric.removeFlow(f);
  fabric.runUntil(25_000);
  return { fabric, victimDoneUs, burstDoneUs, counters: fabric.names.map((_, p) => fabric.counters(p)), rates, peakQueue };
}

/** Relative difference, against 1 for values near zero. */
function off(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));
}

describe('weighted flow rows', () => {
  const single = runIncast(false);
  const weighted = runIncast(true);

  it('run a congested incast (ECN marks, PFC pauses, the victim slowed)', () => {
    const target = single.fabric.portIndex(TARGET);
    expect(single.fabric.flows.length).toBe(0);
    expect(single.counters[target]!.ecn_marked_pkts).toBeGreaterThan(1000);
    expect(single.peakQueue).toBeGreaterThan(1024 * 1024);
    // Alone at line rate the victim would take ~1.5 ms; sharing the NIC with 5 senders, longer.
    expect(single.victimDoneUs).toBeGreaterThan(3000);
    expect(single.burstDoneUs).toBeLessThan(single.victimDoneUs);
  });

  it('give every port the counters and rates of one row per sender', () => {
    expect(weighted.victimDoneUs).toBeCloseTo(single.victimDoneUs, 6);
    expect(weighted.burstDoneUs).toBeCloseTo(single.burstDoneUs, 6);
    expect(off(weighted.peakQueue, single.peakQueue)).toBeLessThan(1e-9);
    const numeric = ['tx_bytes', 'ecn_marked_pkts', 'pfc_tx_pause_frames', 'pfc_rx_pause_frames', 'pfc_rx_pause_us', 'pfc_tx_pause_us', 'queue_bytes', 'watermark_bytes'] as const;
    for (let p = 0; p < single.counters.length; p++) {
      const name = single.fabric.names[p]!;
      for (const key of numeric) {
        // (Counters are rounded to whole bytes, frames and µs: allow one unit.)
        const a = single.counters[p]![key];
        const b = weighted.counters[p]![key];
        expect(Math.abs(a - b) <= 1 || off(a, b) < 1e-9, `${name} ${key}: ${a} one row per sender, ${b} weighted`).toBe(true);
      }
      expect(off(single.rates[p]!.arrival, weighted.rates[p]!.arrival), `${name} arrival rate`).toBeLessThan(1e-9);
      expect(off(single.rates[p]!.service, weighted.rates[p]!.service), `${name} service rate`).toBeLessThan(1e-9);
    }
  });

  it('rejects a weight that is not a whole number of senders', () => {
    const fabric = new FluidFabric(topology, 4);
    expect(() => fabric.addFlow([TARGET], -1, Infinity, 50, { external: true, weight: 1.5 })).toThrow(/weight must be a whole number/);
    expect(() => fabric.addFlow([TARGET], -1, Infinity, 50, { external: true, weight: 0 })).toThrow(/weight must be a whole number/);
  });
});
