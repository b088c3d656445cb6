import { describe, expect, it } from 'vitest';
import type { GpuSample, PortSample, RankTiming } from '../../core/records.js';
import { gpuName, nodeName } from '../../core/names.js';
import { attribute, candidatePorts } from '../../pipeline/root-cause.js';
import type { DetectedStall } from '../../pipeline/stall-detector.js';
import { gpuSample, portSample, smallTopology } from './fixtures.js';

const topo = smallTopology(); // 4 nodes × 4 GPUs, 2 leaves (D = 8), 2 spines
const NODES = [0, 1, 2];
const T = 1_000_000; // ms

/** A stall of the job on nodes 0-2: 8 ms expected, `excess` µs more; `late` delays one rank's entry. */
function stall(excess: number, late?: { rank: number; us: number }): DetectedStall {
  const ranks: RankTiming[] = [];
  for (let r = 0; r < 12; r++) {
    const start = T * 1000 + r * 5 + (late?.rank === r ? late.us : 0);
    ranks.push({ rank: r, host: nodeName(NODES[Math.floor(r / 4)]!), gpu: gpuName(NODES[Math.floor(r / 4)]!, r % 4), start_us: start, end_us: 0, exec_time_us: 0 });
  }
  const lastStart = Math.max(...ranks.map((r) => r.start_us));
  const duration = 8000 + excess;
  for (const r of ranks) {
    r.end_us = T * 1000 + duration;
    r.exec_time_us = r.end_us - r.start_us;
  }
  const last = ranks.reduce((a, b) => (b.start_us > a.start_us ? b : a));
  return {
    id: 'train-a:7', job: 'train-a', collective: 'AllReduce', seq: 7, msg_bytes: 1 << 28, n_ranks: 12,
    start_ms: T, end_ms: T + duration / 1000, duration_us: duration, expected_us: 8000, excess_us: excess,
    start_skew_us: lastStart - T * 1000, expected_skew_us: 55, last_rank: last.rank,
    last_rank_lateness_us: last.start_us - (T * 1000 + 30), slowest_rank: last.rank, ranks, missing_ranks: [], nodes: NODES,
  };
}

function telemetry(ports: Record<string, Partial<PortSample>> = {}, gpus: Record<string, Record<string, number>> = {}) {
  const p = (port: string): PortSample[] => [portSample(port, T + 100, ports[port] ?? {})];
  const g = (gpu: string): GpuSample[] => {
    const [, n, i] = gpu.match(/node-(\d+)\/gpu-(\d+)/)!;
    return [gpuSample(Number(n), Number(i), T + 500, gpus[gpu] ?? {})];
  };
  return { portSamples: p, gpuSamples: g };
}

const INCAST = { queue_bytes: 4_000_000, ecn_marked_pkts: 6000, pfc_tx_pause_frames: 40 };

describe('candidatePorts', () => {
  it("holds the job's ring ports and none of another tenant's NIC ports", () => {
    const c = candidatePorts(topo, NODES, 'AllReduce');
    expect(c).toContain('leaf-1/p1'); // node-2/nic-1, entered by rail 1 from node-1
    expect(c).toContain('leaf-0/p9'); // leaf-0 uplink to spine-1 (node-1 → node-2)
    expect(c).toContain('spine-1/p1');
    expect(c).toContain('nvsw-2/p3');
    expect(c).not.toContain('leaf-1/p6'); // node-3/nic-2: not the job's
    expect(c).not.toContain('nvsw-3/p0');
  });
});

describe('attribute', () => {
  it('blames the late GPU when its late entry explains the stall, with DCGM throttling as evidence', () => {
    const s = stall(15_000, { rank: 9, us: 15_000 });
    const rc = attribute({
      stall: s,
      topology: topo,
      ...telemetry({ 'leaf-1/p1': INCAST }, { 'node-2/gpu-1': { DCGM_FI_DEV_SM_CLOCK: 1100, DCGM_FI_DEV_CLOCKS_EVENT_REASONS: 0x40 } }),
    });
    expect(rc.kind).toBe('straggler_gpu');
    expect(rc.location).toBe('node-2/gpu-1');
    expect(rc.confidence).toBeGreaterThanOrEqual(0.9);
    const signals = rc.evidence.map((e) => e.signal);
    expect(signals).toContain('start_skew_us');
    expect(signals).toContain('DCGM_FI_DEV_SM_CLOCK');
    expect(rc.evidence.find((e) => e.signal === 'DCGM_FI_DEV_CLOCKS_EVENT_REASONS')!.note).toBe('HW_THERMAL');
  });

  it('still blames the late GPU without DCGM evidence, with less confidence', () => {
    const rc = attribute({ stall: stall(15_000, { rank: 9, us: 15_000 }), topology: topo, ...telemetry() });
    expect(rc).toMatchObject({ kind: 'straggler_gpu', location: 'node-2/gpu-1' });
    expect(rc.confidence).toBeLessThan(0.85);
  });

  it('blames the congested leaf downlink on the job path when ranks entered together (incast)', () => {
    const rc = attribute({ stall: stall(12_000), topology: topo, ...telemetry({ 'leaf-1/p1': INCAST, 'spine-0/p1': { pfc_rx_pause_us: 15_000, queue_bytes: 900_000 } }), episodeAt: () => 'ep-x' });
    expect(rc).toMatchObject({ kind: 'incast_congestion', location: 'leaf-1/p1' });
    expect(rc.confidence).toBeGreaterThanOrEqual(0.8);
    expect(rc.evidence.find((e) => e.signal === 'queue_bytes')).toMatchObject({ location: 'leaf-1/p1', value: 4_000_000, reference: 800_000, note: 'episode ep-x' });
  });

  it('blames the congested egress, not the spine port its pauses stalled (a victim outscoring its cause)', () => {
    const rc = attribute({
      stall: stall(12_000),
      topology: topo,
      ...telemetry({
        'spine-0/p1': { pfc_rx_pause_us: 90_000, queue_bytes: 8_000_000 },
        'leaf-1/p8': { pfc_tx_pause_frames: 200 },
        'leaf-1/p1': { queue_bytes: 2_000_000, ecn_marked_pkts: 2000 },
      }),
    });
    expect(rc).toMatchObject({ kind: 'incast_congestion', location: 'leaf-1/p1' });
  });

  it('blames the incast port behind a congested spine downlink that queues its overflow', () => {
    // DCQCN holds the incast in the marking band at both hops: the spine downlink feeding the
    // leaf queues more than the NIC port the senders converge on, and is barely paused.
    const spineOnly = { 'spine-0/p1': { queue_bytes: 3_000_000, ecn_marked_pkts: 20_000, pfc_rx_pause_us: 2_000 } };
    const rc = attribute({
      stall: stall(12_000),
      topology: topo,
      ...telemetry({ ...spineOnly, 'leaf-1/p1': { queue_bytes: 1_200_000, ecn_marked_pkts: 8000, pfc_tx_pause_frames: 2 } }),
    });
    expect(rc).toMatchObject({ kind: 'incast_congestion', location: 'leaf-1/p1' });
    expect(rc.evidence.some((e) => e.signal === 'queue_bytes' && e.location === 'spine-0/p1')).toBe(true);
    // Without a congested port behind it, a spine downlink's queue fits no fault of its own.
    const alone = attribute({ stall: stall(12_000), topology: topo, ...telemetry(spineOnly) });
    expect(alone).toMatchObject({ kind: 'unknown', location: 'spine-0/p1' });
  });

  it('looks behind a spine downlink only at the leaf ports its traffic can leave by', () => {
    // Traffic coming down from a spine leaves the leaf towards its hosts: a busier uplink on that
    // leaf holds none of it, so it neither explains the spine's queue nor the pauses it received.
    const rc = attribute({
      stall: stall(12_000),
      topology: topo,
      ...telemetry({
        'spine-0/p1': { queue_bytes: 3_000_000, ecn_marked_pkts: 20_000, pfc_rx_pause_us: 2_000 },
        'leaf-1/p1': { queue_bytes: 1_200_000, ecn_marked_pkts: 8000, pfc_tx_pause_frames: 2 },
        'leaf-1/p8': { queue_bytes: 2_000_000, ecn_marked_pkts: 12_000 },
        'leaf-1/p9': { queue_bytes: 2_000_000, ecn_marked_pkts: 12_000 },
      }),
    });
    expect(rc).toMatchObject({ kind: 'incast_congestion', location: 'leaf-1/p1' });
  });

  it('follows pauses back to the switch port asserting them when nothing behind it is congested', () => {
    const rc = attribute({
      stall: stall(12_000),
      topology: topo,
      ...telemetry({
        'spine-0/p1': { pfc_rx_pause_us: 90_000, queue_bytes: 8_000_000 },
        'leaf-1/p8': { pfc_tx_pause_frames: 5000 },
        'leaf-1/p6': { queue_bytes: 9_000_000, ecn_marked_pkts: 20_000 }, // another tenant's: never blamed
      }),
    });
    expect(rc).toMatchObject({ kind: 'pfc_storm', location: 'leaf-1/p8' });
    expect(rc.evidence.some((e) => e.signal === 'pfc_paused_by' && e.location === 'leaf-1/p8')).toBe(true);
  });

  it("follows pauses off the job's paths to a storming NIC of another tenant", () => {
    const rc = attribute({
      stall: stall(12_000),
      topology: topo,
      ...telemetry({
        'spine-0/p1': { pfc_rx_pause_us: 90_000, queue_bytes: 8_000_000 },
        'leaf-1/p8': { pfc_tx_pause_frames: 5000 },
        'leaf-1/p6': { pfc_rx_pause_us: 95_000, queue_bytes: 9_000_000 },
      }),
    });
    expect(rc).toMatchObject({ kind: 'pfc_storm', location: 'node-3/nic-2' });
  });

  it('traces a downlink paused by its NIC to a PFC storm at that NIC', () => {
    const rc = attribute({ stall: stall(12_000), topology: topo, ...telemetry({ 'leaf-0/p5': { pfc_rx_pause_us: 95_000, queue_bytes: 6_000_000 } }) });
    expect(rc).toMatchObject({ kind: 'pfc_storm', location: 'node-1/nic-1' });
  });

  it('never blames benign congestion on a port no job transfer uses', () => {
    const rc = attribute({ stall: stall(12_000), topology: topo, ...telemetry({ 'leaf-1/p6': { queue_bytes: 9_000_000, ecn_marked_pkts: 20_000 } }) });
    expect(rc.kind).toBe('unknown');
    expect(rc.location).toBe('');
    expect(rc.evidence.every((e) => e.location !== 'leaf-1/p6')).toBe(true);
  });

  it('maps the other fault signatures on the job path', () => {
    const kindAt = (port: string, over: Partial<PortSample>) => {
      const rc = attribute({ stall: stall(12_000), topology: topo, ...telemetry({ [port]: over }) });
      return `${rc.kind}@${rc.location}`;
    };
    expect(kindAt('leaf-0/p9', { oper_up: false })).toBe('link_flap@leaf-0/p9');
    expect(kindAt('leaf-0/p9', { link_errors: 500, queue_bytes: 1_500_000 })).toBe('link_degraded@leaf-0/p9');
    expect(kindAt('nvsw-1/p2', { credit_stall_us: 60_000 })).toBe('credit_starvation@nvsw-1/p2');
    // One uplink full while its sibling idles: ECMP put the elephants on one path.
    const rc = attribute({
      stall: stall(12_000),
      topology: topo,
      ...telemetry({ 'leaf-0/p8': { queue_bytes: 3_000_000, ecn_marked_pkts: 3000, tx_bytes: 5_000_000_000 }, 'leaf-0/p9': { tx_bytes: 100_000_000 } }),
    });
    expect(rc).toMatchObject({ kind: 'ecmp_collision', location: 'leaf-0/p8' });
  });

  it('sees an ECMP collision from uplink imbalance alone when no port crosses a threshold', () => {
    const rc = attribute({
      stall: stall(3_000),
      topology: topo,
      ...telemetry({ 'leaf-0/p8': { tx_bytes: 1_800_000_000, ecn_marked_pkts: 400 }, 'leaf-0/p9': { tx_bytes: 1_000_000_000 } }),
    });
    expect(rc).toMatchObject({ kind: 'ecmp_collision', location: 'leaf-0/p8' });
    expect(rc.evidence[0]).toMatchObject({ signal: 'uplink_tx_bytes', value: 1_800_000_000, reference: 1_000_000_000 });
  });

  it('does not blame a lone burst sample among clean ones', () => {
    const samples = (port: string) =>
      [100, 200, 300, 400].map((dt) => portSample(port, T + dt, port === 'leaf-1/p1' && dt === 200 ? { queue_bytes: 1_200_000 } : {}));
    const rc = attribute({ stall: stall(12_000), topology: topo, portSamples: samples, gpuSamples: () => [] });
    expect(rc.kind).toBe('unknown');
  });

  it('says unknown with the stall evidence when nothing explains it', () => {
    const rc = attribute({ stall: stall(12_000), topology: topo, ...telemetry() });
    expect(rc.kind).toBe('unknown');
    expect(rc.evidence.map((e) => e.signal)).toEqual(['duration_us', 'start_skew_us']);
    expect(rc.confidence).toBeLessThan(0.3);
  });
});
