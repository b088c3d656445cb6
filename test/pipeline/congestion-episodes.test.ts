import { describe, expect, it } from 'vitest';
import { CLOSE_GAP_MS, EpisodeTracker, episodeId } from '../../pipeline/congestion-episodes.js';
import { signalsOf } from '../../pipeline/congestion-signals.js';
import { portSample } from './fixtures.js';

const P = 'leaf-1/p3';

describe('signalsOf', () => {
  it('reads queue against the ECN Kmin level and rates per second', () => {
    expect(signalsOf(portSample(P, 0, { queue_bytes: 799_999 }))).toEqual([]);
    expect(signalsOf(portSample(P, 0, { queue_bytes: 800_000 }))).toEqual(['queue']);
    expect(signalsOf(portSample(P, 0, { ecn_marked_pkts: 4999 }))).toEqual([]); // < 50k/s
    expect(signalsOf(portSample(P, 0, { ecn_marked_pkts: 5000 }))).toEqual(['ecn']);
    expect(signalsOf(portSample(P, 0, { pfc_rx_pause_us: 20_000, credit_stall_us: 1_000 }))).toEqual(['pfc_rx', 'credit']);
    expect(signalsOf(portSample(P, 0, { credit_stall_us: 999 }))).toEqual([]);
    expect(signalsOf(portSample(P, 0, { link_errors: 3, oper_up: false }))).toEqual(['errors', 'down']);
    // The first sample of a series has no interval: rates cannot be judged.
    expect(signalsOf(portSample(P, 0, { interval_ms: 0, ecn_marked_pkts: 1e6 }))).toEqual([]);
  });
});

describe('EpisodeTracker', () => {
  it('opens on a congested sample, keeps peak and sums, closes after the clean gap', () => {
    const t = new EpisodeTracker();
    const closed = t.ingest([
      portSample(P, 1000),
      portSample(P, 1100, { queue_bytes: 1_000_000, ecn_marked_pkts: 2000 }),
      portSample(P, 1200, { queue_bytes: 3_000_000, ecn_marked_pkts: 5000, pfc_tx_pause_frames: 30 }),
      portSample(P, 1300), // one clean sample does not split the episode
      portSample(P, 1400, { queue_bytes: 900_000 }),
      portSample(P, 1500),
      portSample(P, 1600),
      portSample(P, 1700),
      portSample(P, 1800),
    ]);
    expect(closed).toEqual([]);
    expect(t.stats().open).toBe(1);
    const more = t.ingest([portSample(P, 1400 + CLOSE_GAP_MS)]);
    expect(more).toHaveLength(1);
    const ep = more[0]!;
    expect(ep).toMatchObject({ port: P, device: 'leaf-1', start_ms: 1100, end_ms: 1400, peak_queue_bytes: 3_000_000, ecn_marked_pkts: 7000, pfc_tx_pause_frames: 30 });
    expect(ep.signals.sort()).toEqual(['ecn', 'pfc_tx', 'queue']);
    expect(ep.id).toBe(episodeId(P, 1100));
    expect(episodeId(P, 1100)).toBe(episodeId(P, 1100));
    expect(episodeId(P, 1100)).not.toBe(episodeId('leaf-1/p4', 1100));
  });

  it('closes the episode of a port that went silent once the watermark passes the gap', () => {
    const t = new EpisodeTracker();
    t.ingest([portSample(P, 1000, { queue_bytes: 2_000_000 })]);
    expect(t.advance(1000 + CLOSE_GAP_MS - 1)).toEqual([]);
    expect(t.advance(1000 + CLOSE_GAP_MS)).toHaveLength(1);
  });

  it('ignores late samples of a port and counts them', () => {
    const t = new EpisodeTracker();
    t.ingest([portSample(P, 1000), portSample(P, 1100)]);
    t.ingest([portSample(P, 1050, { queue_bytes: 5_000_000 })]);
    expect(t.stats()).toMatchObject({ late_samples: 1, opened: 0 });
  });

  it('answers which episode a port was in at a time, open or closed', () => {
    const t = new EpisodeTracker();
    t.ingest([portSample(P, 1000, { queue_bytes: 2_000_000 }), portSample(P, 2000), portSample(P, 2100, { ecn_marked_pkts: 6000 })]);
    expect(t.episodeAt(P, 1000)?.id).toBe(episodeId(P, 1000));
    expect(t.episodeAt(P, 1500)).toBeUndefined();
    expect(t.episodeAt(P, 2150)).toMatchObject({ id: episodeId(P, 2100), open: true });
    expect(t.overlapping(0, 5000).map((e) => e.start_ms)).toEqual([1000, 2100]);
    expect(t.closeAll()).toHaveLength(1);
  });
});
