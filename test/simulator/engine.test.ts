import { describe, expect, it } from 'vitest';
import { SimulationEngine } from '../../simulator/engine.js';
import type { CollectiveRecord, GpuIntervalSnapshot, SwitchSnapshot } from '../../simulator/outputs.js';
import { parseScenario } from '../../simulator/scenario.js';

const START_MS = Date.parse('2026-01-01T00:00:00Z');

// Incast on the leaf port in front of node-1/nic-0 during [4 s, 8 s), straggler on
// node-2/gpu-1 during [10 s, 13 s): small enough to simulate in well under a second each.
const SCENARIO = `
name: engine-test
seed: 11
duration_s: 15
start: "2026-01-01T00:00:00Z"
topology: { nodes: 4, gpus_per_node: 4, leaves: 2, spines: 2, link_gbps: 400 }
jobs: [{ id: train-a, nodes: all, collective: allreduce, message_bytes: 134217728, compute_ms: 30 }]
faults:
  - { kind: incast_congestion, target: leaf-0/p4, start_s: 4, duration_s: 4, severity: 1 }
  - { kind: straggler_gpu, target: node-2/gpu-1, start_s: 10, duration_s: 3, severity: 0.7 }
`;

interface Run {
  switches: SwitchSnapshot[][];
  gpus: GpuIntervalSnapshot[];
  collectives: CollectiveRecord[];
}

function play(text = SCENARIO): Run {
  const engine = new SimulationEngine(parseScenario(text, 'engine-test.yaml'));
  const run: Run = { switches: [], gpus: [], collectives: [] };
  for (let ms = 100; ms <= 15_000; ms += 100) {
    engine.advanceTo(ms * 1000);
    run.switches.push(engine.switchSnapshots());
    if (ms % 1000 === 0) run.gpus.push(engine.gpuSnapshot());
    run.collectives.push(...engine.drainCollectives());
  }
  return run;
}

const run = play();

const secondOf = (epochUs: number) => (epochUs / 1000 - START_MS) / 1000;
const port = (snaps: SwitchSnapshot[], name: string) => {
  const [device, iface] = name.split('/');
  return snaps.find((s) => s.device === device)!.ports.find((p) => p.interface === iface)!;
};
/** Max exec time of each collective call (over ranks) whose start lies in [from, to) seconds. */
function callDurations(records: CollectiveRecord[], from: number, to: number): number[] {
  const bySeq = new Map<number, number>();
  for (const r of records) {
    const t = secondOf(r.start_us);
    if (t >= from && t < to) bySeq.set(r.seq, Math.max(bySeq.get(r.seq) ?? 0, r.end_us - Math.min(...records.filter((x) => x.seq === r.seq).map((x) => x.start_us))));
  }
  return [...bySeq.values()];
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

describe('simulation engine', () => {
  it('is deterministic: same seed and scenario give identical outputs', () => {
    const again = play();
    expect(JSON.stringify(again)).toBe(JSON.stringify(run));
    const other = play(SCENARIO.replace('seed: 11', 'seed: 12'));
    expect(JSON.stringify(other.collectives)).not.toBe(JSON.stringify(run.collectives));
  });

  it('emits one record per rank per call with nccl-tests bandwidths', () => {
    const n = 16;
    const seqs = new Set(run.collectives.map((r) => r.seq));
    expect(run.collectives.length).toBe(seqs.size * n);
    const r = run.collectives[0]!;
    expect(r).toMatchObject({ job: 'train-a', n_ranks: n, collective: 'AllReduce', msg_bytes: 134217728, nnodes: 4 });
    expect(r.host).toMatch(/^node-\d$/);
    expect(r.exec_time_us).toBe(r.end_us - r.start_us);
    expect(r.algbw_gbs).toBeCloseTo(134217728 / 1e9 / (r.exec_time_us / 1e6), 6);
    expect(r.busbw_gbs).toBeCloseTo((r.algbw_gbs * 2 * (n - 1)) / n, 6);
    expect(secondOf(r.start_us)).toBeGreaterThan(0);
  });

  it('incast fills the target queue, marks, pauses upstream and slows the job only during the fault', () => {
    const at = (s: number) => port(run.switches[s * 10 - 1]!, 'leaf-0/p4');
    // Cumulative counters: growth inside the fault window vs. the same length before it.
    const before = { ecn: at(4).ecn_marked_pkts - at(1).ecn_marked_pkts, pfc: at(4).pfc_tx_pause_frames - at(1).pfc_tx_pause_frames };
    const during = { ecn: at(8).ecn_marked_pkts - at(5).ecn_marked_pkts, pfc: at(8).pfc_tx_pause_frames - at(4).pfc_tx_pause_frames };
    expect(during.ecn).toBeGreaterThan(10 * Math.max(1, before.ecn));
    expect(before.pfc).toBe(0);
    expect(during.pfc).toBeGreaterThan(0);
    const peakDuring = Math.max(...run.switches.slice(40, 80).map((s) => port(s, 'leaf-0/p4').watermark_bytes));
    const peakBefore = Math.max(...run.switches.slice(10, 40).map((s) => port(s, 'leaf-0/p4').watermark_bytes));
    expect(peakDuring).toBeGreaterThan(2 * 1024 * 1024);
    expect(peakDuring).toBeGreaterThan(2 * peakBefore);
    // The port that feeds it from the spines got paused.
    const spineRx = port(run.switches[79]!, 'spine-0/p0').pfc_rx_pause_frames - port(run.switches[39]!, 'spine-0/p0').pfc_rx_pause_frames;
    expect(spineRx).toBeGreaterThan(0);

    const baseline = median(callDurations(run.collectives, 1, 4));
    const incast = median(callDurations(run.collectives, 4.2, 7.8));
    const after = median(callDurations(run.collectives, 8.5, 9.8));
    // DCQCN keeps the victim's ring edge a share of the NIC even against 64 senders (they sit at
    // a fraction of line rate each), so the call slows by about half, not by the degree.
    expect(incast).toBeGreaterThanOrEqual(1.3 * baseline);
    expect(after).toBeLessThan(1.1 * baseline);
  });

  it('straggler throttles its GPU, enters late and makes its peers wait', () => {
    const gpuAt = (s: number) => run.gpus[s - 1]!.gpus.find((g) => g.gpu === 'node-2/gpu-1')!;
    const peerAt = (s: number) => run.gpus[s - 1]!.gpus.find((g) => g.gpu === 'node-2/gpu-2')!;
    expect(gpuAt(9)).toMatchObject({ sm_clock_mhz: 1980, clock_event_reasons: 0 });
    expect(gpuAt(12).sm_clock_mhz).toBeLessThanOrEqual(Math.round(1980 * (1 - 0.6 * 0.7)) + 15);
    expect(gpuAt(12).clock_event_reasons & 0x40).toBe(0x40);
    expect(gpuAt(12).clock_event_reasons & 0x20).toBe(0x20);
    expect(gpuAt(12).temp_c).toBeGreaterThan(peerAt(12).temp_c + 5);
    expect(peerAt(12)).toMatchObject({ sm_clock_mhz: 1980, clock_event_reasons: 0 });
    expect(gpuAt(15).sm_clock_mhz).toBe(1980);

    // Rank of node-2/gpu-1 is 2*4+1 = 9. During the fault it enters last and waits least.
    const inWindow = run.collectives.filter((r) => secondOf(r.start_us) > 10.2 && secondOf(r.end_us) < 12.9);
    const seqs = [...new Set(inWindow.map((r) => r.seq))];
    expect(seqs.length).toBeGreaterThan(5);
    for (const seq of seqs) {
      const call = inWindow.filter((r) => r.seq === seq);
      const straggler = call.find((r) => r.rank === 9)!;
      expect(straggler.start_us).toBe(Math.max(...call.map((r) => r.start_us)));
      for (const peer of call.filter((r) => r.rank !== 9)) expect(peer.exec_time_us).toBeGreaterThan(straggler.exec_time_us + 5000);
    }
    const peerExec = (from: number, to: number) =>
      median(run.collectives.filter((r) => r.rank === 0 && secondOf(r.start_us) > from && secondOf(r.start_us) < to).map((r) => r.exec_time_us));
    expect(peerExec(10.2, 12.8)).toBeGreaterThan(2 * peerExec(1, 4));
    expect(peerExec(13.5, 14.8)).toBeLessThan(1.1 * peerExec(1, 4));
  });

  it('plays past fault edges that fall on fractional times (flap at severity 0.5, storm at 0.33)', () => {
    // (0.1 + 0.4 × 0.5) × 1e6 is 300000.00000000006 in floating point: the flap's up edge once
    // rounded back onto the current time and the engine waited for it forever.
    const text = SCENARIO.replace(
      /faults:[\s\S]*$/,
      `faults:
  - { kind: link_flap, target: leaf-0/p2, start_s: 0.5, duration_s: 2, severity: 0.5 }
  - { kind: pfc_storm, target: leaf-1/p1, start_s: 0.7, duration_s: 1, severity: 0.33 }
`,
    );
    const engine = new SimulationEngine(parseScenario(text, 'fractional-edges.yaml'));
    engine.advanceTo(3_000_000);
    expect(engine.nowUs).toBe(3_000_000);
    const flap = engine.fabric.counters(engine.fabric.portIndex('leaf-0/p2'));
    expect(flap.carrier_changes).toBe(4);
  });
});
