/**
 * Phase replay (simulator/phase-replay.ts): the same scenario played with replays on and off.
 * Where the fabric's course does not depend on when a phase starts (no congestion control), a
 * replay must give what the fabric gives, samples taken during a phase included; under congestion
 * it repeats one realization, which must sit within the fabric's own spread.
 */
import { describe, expect, it } from 'vitest';
import { SimulationEngine } from '../../simulator/engine.js';
import type { CollectiveRecord, PortSnapshot } from '../../simulator/outputs.js';
import type { PhaseReplayStats } from '../../simulator/phase-replay.js';
import { parseScenario } from '../../simulator/scenario.js';

interface Run {
  collectives: CollectiveRecord[];
  /** Every port at every sample, in a fixed order. */
  samples: PortSnapshot[][];
  stats: PhaseReplayStats;
}

/** Plays `yaml` for `untilMs` with a switch sample every `stepMs`. */
function play(yaml: string, phaseReplay: boolean, untilMs: number, stepMs: number): Run {
  const engine = new SimulationEngine(parseScenario(yaml, 'phase-replay.yaml'), { phaseReplay });
  const run: Run = { collectives: [], samples: [], stats: engine.replayer.stats };
  for (let ms = stepMs; ms <= untilMs; ms += stepMs) {
    engine.advanceTo(ms * 1000);
    run.samples.push(engine.switchSnapshots().flatMap((s) => s.ports));
    run.collectives.push(...engine.drainCollectives());
  }
  return run;
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const rankZeroTimes = (run: Run) => run.collectives.filter((r) => r.rank === 0).map((r) => r.exec_time_us);
const total = (ports: PortSnapshot[], field: 'tx_bytes' | 'ecn_marked_pkts') => ports.reduce((s, p) => s + p[field], 0);

/** One all-reduce job over every node of a two-tier fabric. */
const allReduce = (name: string, seed: number, topology: string) => `
name: ${name}
start: "2026-01-01T00:00:00Z"
seed: ${seed}
topology: { ${topology}, link_gbps: 400 }
jobs: [{ id: train, nodes: all, collective: allreduce, message_bytes: 67108864, compute_ms: 3 }]
background: { load: 0.1 }
faults: []
`;

// Two nodes on one leaf: NVLink rings and one NIC-to-NIC ring edge per rail, nothing oversubscribed.
const UNCONGESTED = allReduce('replay-uncongested', 7, 'nodes: 2, gpus_per_node: 8, leaves: 1, spines: 1');
// Eight nodes over two leaves and two spines: ECMP collisions queue, mark and throttle.
const CONGESTED = allReduce('replay-congested', 11, 'nodes: 8, gpus_per_node: 2, leaves: 2, spines: 2');

describe('phase replay', () => {
  it('gives what the fabric gives where phases do not depend on their start, samples during a phase included', () => {
    const off = play(UNCONGESTED, false, 400, 5);
    const on = play(UNCONGESTED, true, 400, 5);
    expect(off.stats.replayed).toBe(0);
    expect(on.stats.recorded).toBeGreaterThanOrEqual(2);
    expect(on.stats.replayed).toBeGreaterThan(100);
    expect(on.collectives.length).toBe(off.collectives.length);
    on.collectives.forEach((r, i) => {
      const o = off.collectives[i]!;
      expect([r.gpu, r.seq, r.start_us, r.end_us]).toEqual([o.gpu, o.seq, o.start_us, o.end_us]);
    });
    // Most 5 ms samples fall inside a phase (each iteration is ~4 ms of compute and ~2 ms of
    // transfers): bytes then come from the checkpoints, exact here because rates are constant.
    let compared = 0;
    on.samples.forEach((ports, s) => {
      ports.forEach((p, i) => {
        const o = off.samples[s]![i]!;
        expect(p.port).toBe(o.port);
        expect(Math.abs(p.tx_bytes - o.tx_bytes)).toBeLessThanOrEqual(Math.max(1, o.tx_bytes * 1e-6));
        expect([p.queue_bytes, p.ecn_marked_pkts, p.pfc_tx_pause_frames, p.credit_stall_us]).toEqual([o.queue_bytes, o.ecn_marked_pkts, o.pfc_tx_pause_frames, o.credit_stall_us]);
        compared++;
      });
    });
    expect(compared).toBeGreaterThan(1000);
  });

  it('records phases while telemetry is read during them', () => {
    // A switch sample every 0.25 ms lands inside every scale-out phase, the recorded ones included.
    const off = play(CONGESTED, false, 80, 0.25);
    const on = play(CONGESTED, true, 80, 0.25);
    expect(on.stats.recorded).toBeGreaterThanOrEqual(2);
    expect(on.stats.replayed).toBeGreaterThan(20);
    // Histogram time a sample restarts stays with the recording: replays add none below zero,
    // and the time queues spent above the first bin matches the fabric's.
    const queuedUs = (run: Run) => run.samples.flat().reduce((sum, p) => sum + p.egress_histogram.slice(1).reduce((a, b) => a + b, 0), 0);
    for (const p of on.samples.flat()) expect(Math.min(...p.egress_histogram)).toBeGreaterThanOrEqual(0);
    expect(queuedUs(on) / queuedUs(off)).toBeGreaterThan(0.75);
    expect(queuedUs(on) / queuedUs(off)).toBeLessThan(1.33);
    expect(total(on.samples.at(-1)!, 'tx_bytes') / total(off.samples.at(-1)!, 'tx_bytes')).toBeCloseTo(1, 1);
  });

  it('under congestion repeats one realization within the spread of the phases the fabric carries', () => {
    const off = play(CONGESTED, false, 500, 5);
    const on = play(CONGESTED, true, 500, 5);
    expect(on.stats.replayed).toBeGreaterThan(50);
    const offTimes = rankZeroTimes(off);
    const onTimes = rankZeroTimes(on);
    const sd = Math.sqrt(mean(offTimes.map((t) => (t - mean(offTimes)) ** 2)));
    // The DCQCN timer grid meets each phase at another offset, so the fabric's own phases spread.
    expect(Math.abs(mean(onTimes) - mean(offTimes))).toBeLessThan(Math.max(2 * sd, 0.01 * mean(offTimes)));
    const offEnd = off.samples.at(-1)!;
    const onEnd = on.samples.at(-1)!;
    expect(total(onEnd, 'tx_bytes') / total(offEnd, 'tx_bytes')).toBeCloseTo(1, 1);
    const marksRatio = total(onEnd, 'ecn_marked_pkts') / total(offEnd, 'ecn_marked_pkts');
    expect(marksRatio).toBeGreaterThan(0.8);
    expect(marksRatio).toBeLessThan(1.25);
    // Samples inside replayed phases show the queues the recording saw.
    const queued = (run: Run) => run.samples.filter((ports) => ports.some((p) => p.queue_bytes > 100_000)).length;
    expect(queued(on)).toBeGreaterThan(queued(off) / 2);
    expect(queued(on)).toBeLessThan(queued(off) * 2);
  });

  it('carries every phase of jobs that share ports, and phases on ports a fault keeps busy', () => {
    const shared = `
name: replay-shared
start: "2026-01-01T00:00:00Z"
seed: 5
topology: { nodes: 4, gpus_per_node: 1, leaves: 1, spines: 1, link_gbps: 400 }
jobs:
  - { id: a, nodes: [0, 1], collective: allreduce, message_bytes: 16777216, compute_ms: 2 }
  - { id: b, nodes: [1, 2, 3], collective: allreduce, message_bytes: 16777216, compute_ms: 2 }
faults: []
`;
    expect(play(shared, true, 100, 10).stats.replayed).toBe(0);
    // An incast on the NIC of node-1 (a ring member) from 200 ms: its senders keep the port busy,
    // so the job's phases are carried by the fabric and slowed as when nothing is replayed.
    const incast = `${CONGESTED.replace('faults: []', 'faults: [{ kind: incast_congestion, target: leaf-0/p2, start_s: 0.2, duration_s: 10, severity: 0.8 }]')}`;
    const off = play(incast, false, 400, 10);
    const on = play(incast, true, 400, 10);
    const during = (run: Run) => mean(run.collectives.filter((r) => r.rank === 0 && r.start_us / 1000 - Date.parse('2026-01-01T00:00:00Z') > 250).map((r) => r.exec_time_us));
    const before = (run: Run) => mean(run.collectives.filter((r) => r.rank === 0 && r.end_us / 1000 - Date.parse('2026-01-01T00:00:00Z') < 200).map((r) => r.exec_time_us));
    expect(on.stats.replayed).toBeGreaterThan(10);
    expect(during(on)).toBeGreaterThan(1.5 * before(on));
    expect(during(on) / during(off)).toBeCloseTo(1, 1);
  });
});
