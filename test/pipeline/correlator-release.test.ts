/**
 * When the correlator judges a held stall: once the port watermark is two switch intervals past
 * its end and every GPU has been scraped once after its end — not a whole scrape interval later.
 */
import { describe, expect, it } from 'vitest';
import type { GpuSample, PortSample, RankTiming } from '../../core/records.js';
import { gpuName, nodeName } from '../../core/names.js';
import { EpisodeTracker } from '../../pipeline/congestion-episodes.js';
import { Correlator } from '../../pipeline/correlator.js';
import { RecentSamples } from '../../pipeline/recent-samples.js';
import type { DetectedStall } from '../../pipeline/stall-detector.js';
import { Watermark } from '../../pipeline/watermark.js';
import { gpuSample, portSample, smallTopology } from './fixtures.js';

const T = 2_000_000; // ms: the stall runs T .. T+12
const NODES = [0, 1];

function stall(): DetectedStall {
  const ranks: RankTiming[] = [];
  for (let r = 0; r < 8; r++) {
    const node = NODES[Math.floor(r / 4)]!;
    ranks.push({ rank: r, host: nodeName(node), gpu: gpuName(node, r % 4), start_us: T * 1000, end_us: T * 1000 + 12_000, exec_time_us: 12_000 });
  }
  return {
    id: 'train-a:40', job: 'train-a', collective: 'AllReduce', seq: 40, msg_bytes: 1 << 27, n_ranks: 8,
    start_ms: T, end_ms: T + 12, duration_us: 12_000, expected_us: 8_000, excess_us: 4_000,
    start_skew_us: 0, expected_skew_us: 0, last_rank: 7, last_rank_lateness_us: 0, slowest_rank: 7, ranks, missing_ranks: [], nodes: NODES,
  };
}

function setup() {
  const portWatermark = new Watermark({ idleTimeoutMs: 5_000 });
  const gpuWatermark = new Watermark({ idleTimeoutMs: 10_000 });
  const portHistory = new RecentSamples<PortSample>((s) => s.ts_ms, 30_000);
  const gpuHistory = new RecentSamples<GpuSample>((s) => s.ts_ms, 30_000);
  const correlator = new Correlator({
    topology: smallTopology(),
    episodes: new EpisodeTracker(),
    portHistory,
    gpuHistory,
    portWatermark,
    gpuWatermark,
    collectiveWatermark: () => T + 12,
    switchIntervalMs: () => 100,
  });
  const ports = (ts: number) => {
    for (const port of ['leaf-0/p0', 'leaf-0/p8']) {
      portWatermark.observe('leaf-0', ts);
      portHistory.add(port, portSample(port, ts));
    }
  };
  const gpus = (ts: number, only?: number) => {
    for (const node of NODES) {
      for (let g = 0; g < 4; g++) {
        if (only !== undefined && node * 4 + g !== only) continue;
        const s = gpuSample(node, g, ts);
        gpuWatermark.observe(s.gpu, ts);
        gpuHistory.add(s.gpu, s);
      }
    }
  };
  return { correlator, ports, gpus };
}

describe('Correlator release', () => {
  it('judges a stall once every GPU has a scrape after its end, without waiting a scrape interval more', () => {
    const { correlator, ports, gpus } = setup();
    for (let ts = T - 2_000; ts <= T + 1_000; ts += 100) ports(ts);
    gpus(T - 700);
    correlator.hold([stall()]);
    expect(correlator.release()).toEqual([]);
    // Seven of eight GPUs scraped after the end: the eighth may still tell something.
    for (let i = 0; i < 7; i++) gpus(T + 300, i);
    expect(correlator.release()).toEqual([]);
    gpus(T + 300, 7);
    const out = correlator.release();
    expect(out.map((s) => s.id)).toEqual(['train-a:40']);
    expect(correlator.pendingCount).toBe(0);
  });

  it('still waits for the ports two switch intervals past the end', () => {
    const { correlator, ports, gpus } = setup();
    for (let ts = T - 2_000; ts <= T + 100; ts += 100) ports(ts);
    gpus(T - 700);
    gpus(T + 300);
    correlator.hold([stall()]);
    expect(correlator.release()).toEqual([]);
    ports(T + 200); // the sample covering the end (T+100 .. T+200) is in, not yet the one of slack
    expect(correlator.release()).toEqual([]);
    ports(T + 300);
    expect(correlator.release().map((s) => s.id)).toEqual(['train-a:40']);
  });
});
