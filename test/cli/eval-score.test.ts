/** The scoring rules of `fabricscope eval`, on hand-made outcomes. */
import { describe, expect, it } from 'vitest';
import type { RootCauseKind } from '../../core/names.js';
import type { GroundTruthFault } from '../../core/records.js';
import { Footprint, renderReport, scoreOutcomes, type EvalStall, type ScenarioOutcome } from '../../cli/eval-score.js';
import { Topology } from '../../core/topology.js';

const T0 = Date.UTC(2026, 0, 1);
const spec = { nodes: 4, gpus_per_node: 2, leaves: 2, spines: 2, link_gbps: 400 };
// 4 nodes × 2 GPUs on 2 leaves: node-0/1 on leaf-0 (p0..p3), node-2/3 on leaf-1; uplinks p4 (spine-0), p5 (spine-1).

let n = 0;
function stall(job: string, atMs: number, kind: RootCauseKind, location: string): EvalStall {
  return { id: `${job}:${n++}`, job, start_ms: T0 + atMs, end_ms: T0 + atMs + 8, root_cause: { kind, location, confidence: 0.8 } };
}
function fault(kind: GroundTruthFault['kind'], target: string, fromMs: number, toMs: number): GroundTruthFault {
  return { id: `f-${kind}-${target}`, kind, target, start_ms: T0 + fromMs, end_ms: T0 + toMs, severity: 0.8 };
}
function outcome(faults: GroundTruthFault[], stalls: EvalStall[], jobs = [{ id: 'a', nodes: [0, 1, 2, 3], collective: 'allreduce' }]): ScenarioOutcome {
  return { scenario: 's', file: 's.yaml', switch_interval_ms: 100, topology: spec, jobs, faults, stalls, wall_s: 1 };
}

describe('eval scoring', () => {
  it('counts a verdict at the other end of the faulted link as correct, and measures delay to the first one', () => {
    const r = scoreOutcomes([
      outcome([fault('link_degraded', 'spine-1/p0', 5000, 8000)], [stall('a', 5030, 'link_degraded', 'leaf-0/p5'), stall('a', 5100, 'link_degraded', 'spine-1/p0')]),
    ]);
    const k = r.kinds.find((x) => x.kind === 'link_degraded')!;
    expect(k).toMatchObject({ verdicts: 2, correct_verdicts: 2, precision: 1, effective_faults: 1, detected: 1, recall: 1 });
    expect(k.median_delay_ms).toBe(38);
  });

  it('a wrong place or kind is a wrong verdict; a fault only named wrongly is missed', () => {
    const r = scoreOutcomes([outcome([fault('incast_congestion', 'leaf-0/p2', 5000, 8000)], [stall('a', 5030, 'incast_congestion', 'leaf-0/p3'), stall('a', 5100, 'ecmp_collision', 'leaf-0/p4')])]);
    expect(r.overall).toMatchObject({ verdicts: 2, correct_verdicts: 0, precision: 0, effective_faults: 1, detected: 0, recall: 0 });
    expect(r.pass).toBe(false);
  });

  it('leaves out of recall a fault no job waited on, but blaming it is still wrong', () => {
    // The job runs inside leaf-0 (nodes 0, 1): leaf-1's downlink is off its footprint.
    const jobs = [{ id: 'a', nodes: [0, 1], collective: 'allreduce' }];
    const idle = scoreOutcomes([outcome([fault('incast_congestion', 'leaf-1/p0', 5000, 8000)], [], jobs)]);
    expect(idle.overall).toMatchObject({ faults: 1, effective_faults: 0, recall: null });
    const blamed = scoreOutcomes([outcome([fault('incast_congestion', 'leaf-1/p0', 5000, 8000)], [stall('a', 5050, 'incast_congestion', 'leaf-1/p0')], jobs)]);
    expect(blamed.overall).toMatchObject({ verdicts: 1, correct_verdicts: 0, effective_faults: 0 });
  });

  it('unknown is right only when no fault on the job footprint overlaps the stall; the grace covers the tail', () => {
    const r = scoreOutcomes([
      outcome([fault('straggler_gpu', 'node-2/gpu-1', 5000, 8000)], [stall('a', 2000, 'unknown', ''), stall('a', 8500, 'unknown', ''), stall('a', 8600, 'straggler_gpu', 'node-2/gpu-1')]),
    ]);
    const unknown = r.kinds.find((x) => x.kind === 'unknown')!;
    expect(unknown).toMatchObject({ verdicts: 2, correct_verdicts: 1 });
    expect(r.kinds.find((x) => x.kind === 'straggler_gpu')).toMatchObject({ correct_verdicts: 1, detected: 1 });
  });

  it('two faults at once must both be named', () => {
    const faults = [fault('incast_congestion', 'leaf-0/p2', 5000, 9000), fault('straggler_gpu', 'node-3/gpu-0', 6000, 9000)];
    const one = scoreOutcomes([outcome(faults, [stall('a', 5010, 'incast_congestion', 'leaf-0/p2'), stall('a', 6010, 'incast_congestion', 'leaf-0/p2')])]);
    expect(one.overall).toMatchObject({ effective_faults: 2, detected: 1, recall: 0.5 });
    const both = scoreOutcomes([outcome(faults, [stall('a', 5010, 'incast_congestion', 'leaf-0/p2'), stall('a', 6010, 'straggler_gpu', 'node-3/gpu-0')])]);
    expect(both.overall).toMatchObject({ detected: 2, recall: 1, precision: 1 });
    expect(both.pass).toBe(true);
    expect(renderReport(both)).toMatch(/PASS/);
  });

  it('a job footprint holds its GPUs, rail NICs and every link of its ECMP paths', () => {
    const topo = new Topology(spec);
    const fp = new Footprint(topo, { id: 'a', nodes: [1, 2], collective: 'allreduce' });
    expect(fp.has('node-1/gpu-0')).toBe(true);
    expect(fp.has('node-0/gpu-0')).toBe(false);
    expect(fp.has('node-2/nic-1')).toBe(true);
    expect(fp.has('leaf-0/p4')).toBe(true); // uplink towards spine-0 (an ECMP path)
    expect(fp.has('spine-1/p1')).toBe(true); // spine-1 → leaf-1
    expect(fp.has('leaf-0/p0')).toBe(false); // node-0's NIC link
    expect(fp.has('nvsw-2/p1')).toBe(true);
    expect(fp.has('nvsw-0/p1')).toBe(false);
  });
});
