/**
 * Attribution with persistence and per-port learned normals: what the correlator hands the engine
 * in a real run (a window, its context two intervals either side, and the port's recent past).
 */
import { describe, expect, it } from 'vitest';
import type { PortSample, RankTiming } from '../../core/records.js';
import { gpuName, nodeName } from '../../core/names.js';
import { learnPortNormal, deviationBar } from '../../pipeline/port-normals.js';
import { attribute, type AttributionInput } from '../../pipeline/root-cause.js';
import type { DetectedStall } from '../../pipeline/stall-detector.js';
import { portSample, smallTopology } from './fixtures.js';

const topo = smallTopology(); // 4 nodes × 4 GPUs, 2 leaves (D = 8), 2 spines; uplinks p8 (spine-0), p9 (spine-1)
const NODES = [0, 1, 2];
const T = 2_000_000; // ms: the stall starts here, 8 ms long, ranks entered together

function stall(): DetectedStall {
  const ranks: RankTiming[] = [];
  for (let r = 0; r < 12; r++) {
    const node = NODES[Math.floor(r / 4)]!;
    ranks.push({ rank: r, host: nodeName(node), gpu: gpuName(node, r % 4), start_us: T * 1000 + r, end_us: T * 1000 + 12_000, exec_time_us: 12_000 - r });
  }
  return {
    id: 'train-a:40', job: 'train-a', collective: 'AllReduce', seq: 40, msg_bytes: 1 << 27, n_ranks: 12,
    start_ms: T, end_ms: T + 12, duration_us: 12_000, expected_us: 8_000, excess_us: 4_000,
    start_skew_us: 11, expected_skew_us: 10, last_rank: 11, last_rank_lateness_us: 5, slowest_rank: 11, ranks, missing_ranks: [], nodes: NODES,
  };
}

type Shape = (port: string, ts: number) => Partial<PortSample>;

/** 20 s of history, the window sample (T+100) and context (T-100 .. T+200), every port, shaped by `past` and `now`. */
function run(past: Shape, now: Shape): AttributionInput {
  const series = (port: string, from: number, to: number, shape: Shape) => {
    const out: PortSample[] = [];
    for (let ts = from; ts <= to; ts += 100) out.push(portSample(port, ts, { tx_bytes: 500_000_000, ...shape(port, ts) }));
    return out;
  };
  return {
    stall: stall(),
    topology: topo,
    portSamples: (port) => series(port, T + 100, T + 100, now),
    portContext: (port) => series(port, T - 100, T + 200, now),
    portHistory: (port) => series(port, T - 20_000, T - 200, past),
    gpuSamples: () => [],
  };
}

describe('learned port normals', () => {
  it('learns a port level and raises the bar to it', () => {
    const busy = Array.from({ length: 50 }, (_, i) => portSample('leaf-0/p8', T + i * 100, { ecn_marked_pkts: 300 + (i % 3) * 10 }));
    const normal = learnPortNormal(busy)!;
    expect(normal.ecn_per_s.median).toBe(3100);
    expect(deviationBar(normal.ecn_per_s, 500)).toBeGreaterThanOrEqual(9300); // 3 × its normal
    expect(learnPortNormal(busy.slice(0, 5))).toBeUndefined(); // too little history
  });

  it("does not blame a busy uplink that marks at its usual level (another tenant's steady load)", () => {
    const steady: Shape = (p) => (p === 'leaf-0/p9' ? { ecn_marked_pkts: 2_000, tx_bytes: 3_000_000_000 } : {});
    expect(attribute(run(steady, steady)).kind).toBe('unknown');
  });

  it('blames a link whose errors persist, not one with errors in a single sample', () => {
    const clean: Shape = () => ({});
    const persistent = attribute(run(clean, (p) => (p === 'spine-1/p1' ? { link_errors: 4_000 } : {})));
    expect(persistent).toMatchObject({ kind: 'link_degraded', location: 'spine-1/p1' });
    const once = attribute(run(clean, (p, ts) => (p === 'spine-1/p1' && ts === T + 100 ? { link_errors: 4_000 } : {})));
    expect(once.kind).toBe('unknown');
  });

  it('sees an ECMP collision under background load: bytes move from one uplink to its sibling, which marks above its normal', () => {
    // Background keeps both uplinks at 1.5 GB per interval; normally the job adds 0.3 GB to each.
    const past: Shape = (p) => (p === 'leaf-0/p8' || p === 'leaf-0/p9' ? { tx_bytes: 1_800_000_000, ecn_marked_pkts: 20 } : {});
    const now: Shape = (p) =>
      p === 'leaf-0/p8' ? { tx_bytes: 2_100_000_000, ecn_marked_pkts: 400 } : p === 'leaf-0/p9' ? { tx_bytes: 1_500_000_000 } : {};
    const rc = attribute(run(past, now));
    expect(rc).toMatchObject({ kind: 'ecmp_collision', location: 'leaf-0/p8' });
    expect(rc.evidence.find((e) => e.signal === 'uplink_tx_bytes')).toMatchObject({ location: 'leaf-0/p8', value: 2_100_000_000 });
    // A leaf whose hash always favoured p8 (a standing imbalance) is normal for it.
    const standing: Shape = (p) => (p === 'leaf-0/p8' ? { tx_bytes: 2_100_000_000, ecn_marked_pkts: 400 } : p === 'leaf-0/p9' ? { tx_bytes: 1_500_000_000 } : {});
    expect(attribute(run(standing, standing)).kind).toBe('unknown');
  });

  it('sees a collision on an uplink that already marked: DCQCN doubles its marks, not triples them', () => {
    // The job's bursts keep the uplink marking ~16k/s; collided, DCQCN holds its queue about Kmin
    // and the marks rise to ~2×, below the 3× at which a signal deviates on its own.
    const past: Shape = (p) => (p === 'leaf-0/p8' || p === 'leaf-0/p9' ? { tx_bytes: 800_000_000, ecn_marked_pkts: 1_600 } : {});
    const collided = (marks: number): Shape => (p) =>
      p === 'leaf-0/p8' ? { tx_bytes: 1_050_000_000, ecn_marked_pkts: marks } : p === 'leaf-0/p9' ? { tx_bytes: 550_000_000 } : {};
    expect(attribute(run(past, collided(3_000)))).toMatchObject({ kind: 'ecmp_collision', location: 'leaf-0/p8' });
    // The same shift of bytes with the marks at their usual level is no collision.
    expect(attribute(run(past, collided(1_700))).kind).toBe('unknown');
  });
});
