/**
 * Port-sample normalisation beyond one payload: Cumulus classes exported separately and merged
 * per (port, timestamp), SONiC/SAI counter names, egress-buffer histograms, state eviction.
 */
import { describe, expect, it } from 'vitest';
import { flattenOtlpMetrics } from '../../collectors/otlp/otlp-points.js';
import { PortSampleNormaliser } from '../../collectors/otlp/port-samples.js';
import { queueDepthEstimate, queueMeanEstimate } from '../../collectors/otlp/queue-histogram.js';
import type { PortSample } from '../../core/records.js';

const T0 = 1_767_225_600_000;
const ns = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
type Attr = Record<string, string | number>;
const kv = (a: Attr) =>
  Object.entries(a).map(([key, v]) => ({ key, value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v } }));

/** One OTLP/JSON request of a switch: gauges, cumulative sums and histograms. */
function request(host: string, metrics: unknown[]): unknown {
  return { resourceMetrics: [{ resource: { attributes: kv({ 'host.name': host }) }, scopeMetrics: [{ metrics }] }] };
}
const gauge = (name: string, points: Array<[Attr, number, number]>) => ({
  name,
  gauge: { dataPoints: points.map(([a, t, v]) => ({ attributes: kv(a), timeUnixNano: ns(t), asDouble: v })) },
});
const counter = (name: string, points: Array<[Attr, number, number]>) => ({
  name,
  sum: {
    aggregationTemporality: 2,
    isMonotonic: true,
    dataPoints: points.map(([a, t, v]) => ({ attributes: kv(a), startTimeUnixNano: ns(T0 - 60_000), timeUnixNano: ns(t), asInt: String(v) })),
  },
});
const histogram = (name: string, temporality: number, points: Array<[Attr, number, number[], number[]]>) => ({
  name,
  unit: 'bytes',
  histogram: {
    aggregationTemporality: temporality,
    dataPoints: points.map(([a, t, bounds, counts]) => ({
      attributes: kv(a),
      startTimeUnixNano: ns(T0 - 60_000),
      timeUnixNano: ns(t),
      bucketCounts: counts.map(String),
      explicitBounds: bounds,
    })),
  },
});

function feed(n: PortSampleNormaliser, body: unknown): PortSample[] {
  const flat = flattenOtlpMetrics(body);
  const r = n.normalise(flat.points, flat.histograms);
  r.commit();
  return r.samples;
}

/** Cumulus buffer-stats and interface-stats exports of one port at one instant. */
const bufferStats = (t: number, queue: number) =>
  request('leaf-0', [gauge('nvswitch_interface_shared_buffer_port_tc_curr_occupancy', [[{ interface: 'swp1', tc: '3' }, t, queue]])]);
const interfaceStats = (t: number, octets: number, ecn: number) =>
  request('leaf-0', [
    gauge('nvswitch_interface_if_out_octets', [[{ interface: 'swp1' }, t, octets]]),
    counter('nvswitch_interface_tc_tx_ecn_marked_tc', [[{ interface: 'swp1', tc: 3 }, t, ecn]]),
    gauge('nvswitch_interface_oper_state', [[{ interface: 'swp1' }, t, 1]]),
  ]);

describe('metric families split across payloads', () => {
  it('merges buffer-stats and interface-stats of one (port, timestamp) into one record', () => {
    const n = new PortSampleNormaliser();
    const out: PortSample[] = [];
    out.push(...feed(n, interfaceStats(T0, 1_000, 10)));
    out.push(...feed(n, bufferStats(T0, 4_096)));
    // The second half of the very first instant waited (the port now reports more families).
    out.push(...n.takeHeld().samples);
    // From now on the port is known to report both: each half waits for the other.
    for (let i = 1; i <= 3; i++) {
      const t = T0 + i * 1_000;
      const first = i % 2 ? bufferStats(t, 4_096 * (i + 1)) : interfaceStats(t, 1_000 + i * 500, 10 + i);
      const second = i % 2 ? interfaceStats(t, 1_000 + i * 500, 10 + i) : bufferStats(t, 4_096 * (i + 1));
      expect(feed(n, first)).toEqual([]);
      out.push(...feed(n, second));
    }
    // The first instant: both halves were published (the port's families were not known yet).
    expect(out.filter((s) => s.ts_ms === T0)).toHaveLength(2);
    const merged = out.filter((s) => s.ts_ms > T0);
    expect(merged.map((s) => [s.ts_ms - T0, s.queue_bytes, s.tx_bytes, s.ecn_marked_pkts, s.interval_ms])).toEqual([
      [1_000, 8_192, 500, 1, 1_000],
      [2_000, 12_288, 500, 1, 1_000],
      [3_000, 16_384, 500, 1, 1_000],
    ]);
    expect(n.takeHeld().samples).toEqual([]);
  });

  it('publishes a held half as it is when its other half never comes, carrying the last queue', () => {
    let now = 0;
    const n = new PortSampleNormaliser({ now: () => now });
    feed(n, interfaceStats(T0, 1_000, 10));
    feed(n, bufferStats(T0, 500));
    n.takeHeld();
    expect(feed(n, interfaceStats(T0 + 1_000, 3_000, 12))).toEqual([]);
    now = 900;
    expect(n.takeHeld(1_000).samples).toEqual([]); // not held long enough yet
    now = 1_000;
    const [held] = n.takeHeld(1_000).samples;
    expect(held).toMatchObject({ ts_ms: T0 + 1_000, tx_bytes: 2_000, ecn_marked_pkts: 2, queue_bytes: 500, interval_ms: 1_000 });
    // A newer instant also releases a held half, without waiting.
    expect(feed(n, interfaceStats(T0 + 2_000, 4_000, 12))).toEqual([]);
    const next = feed(n, bufferStats(T0 + 3_000, 900));
    expect(next.map((s) => [s.ts_ms - T0, s.tx_bytes, s.queue_bytes])).toEqual([[2_000, 1_000, 500]]);
  });

  it('drops an exact resend, but not the other half of the same instant', () => {
    const n = new PortSampleNormaliser();
    feed(n, interfaceStats(T0, 1_000, 10));
    expect(feed(n, interfaceStats(T0, 1_000, 10))).toEqual([]);
    const flat = flattenOtlpMetrics(interfaceStats(T0, 1_000, 10));
    expect(n.normalise(flat.points).stale).toBe(1);
    expect([...feed(n, bufferStats(T0, 64)), ...n.takeHeld().samples]).toMatchObject([{ queue_bytes: 64, ts_ms: T0 }]);
  });

  it('puts held halves back when a batch is aborted (the bus refused it)', () => {
    const n = new PortSampleNormaliser();
    feed(n, interfaceStats(T0, 1_000, 10));
    feed(n, bufferStats(T0, 1));
    n.takeHeld();
    expect(feed(n, bufferStats(T0 + 1_000, 2))).toEqual([]);
    const flat = flattenOtlpMetrics(interfaceStats(T0 + 1_000, 2_000, 11));
    const attempt = n.normalise(flat.points);
    expect(attempt.samples).toHaveLength(1);
    attempt.abort();
    const retry = feed(n, interfaceStats(T0 + 1_000, 2_000, 11));
    expect(retry).toMatchObject([{ queue_bytes: 2, tx_bytes: 1_000, ecn_marked_pkts: 1 }]);
  });
});

describe('SONiC / SAI counter names', () => {
  it('normalises SAI queue, PFC, ECN-marked and port counters', () => {
    const n = new PortSampleNormaliser();
    const sonic = (t: number, k: number) =>
      request('leaf-2', [
        gauge('SAI_QUEUE_STAT_CURR_OCCUPANCY_BYTES', [[{ interface: 'Ethernet8', queue: '3' }, t, 1_000 * k], [{ interface: 'Ethernet8', queue: '4' }, t, 10]]),
        counter('SAI_QUEUE_STAT_WRED_ECN_MARKED_PACKETS', [[{ interface: 'Ethernet8', queue: '3' }, t, 5 * k]]),
        counter('SAI_PORT_STAT_PFC_3_TX_PKTS', [[{ interface: 'Ethernet8' }, t, 7 * k]]),
        counter('sai_port_stat_pfc_4_tx_pkts', [[{ interface: 'Ethernet8' }, t, k]]),
        counter('SAI_PORT_STAT_PFC_3_RX_PKTS', [[{ interface: 'Ethernet8' }, t, 2 * k]]),
        counter('SAI_PORT_STAT_PFC_3_RX_PAUSE_DURATION_US', [[{ interface: 'Ethernet8' }, t, 100 * k]]),
        counter('SAI_PORT_STAT_IF_OUT_OCTETS', [[{ interface: 'Ethernet8' }, t, 9_000 * k]]),
        counter('SAI_PORT_STAT_IF_IN_ERRORS', [[{ interface: 'Ethernet8' }, t, 3 * k]]),
        counter('SAI_QUEUE_STAT_WRED_DROPPED_PACKETS', [[{ interface: 'Ethernet8', queue: '3' }, t, 99 * k]]),
      ]);
    feed(n, sonic(T0, 1));
    const [s] = feed(n, sonic(T0 + 100, 3));
    expect(s).toEqual({
      ts_ms: T0 + 100, port: 'leaf-2/Ethernet8', device: 'leaf-2', interval_ms: 100, queue_bytes: 3_010, tx_bytes: 18_000,
      ecn_marked_pkts: 10, pfc_tx_pause_frames: 16, pfc_rx_pause_frames: 4, pfc_rx_pause_us: 200, credit_stall_us: 0,
      link_errors: 6, oper_up: true,
    });
  });

  it('ignores names that only look like fields (Object prototype, other SAI stats)', () => {
    const n = new PortSampleNormaliser();
    const out = feed(n, request('leaf-2', [
      gauge('constructor', [[{ interface: 'Ethernet0' }, T0, 1]]),
      gauge('SAI_PORT_STAT_PFC_9_RX_PKTS', [[{ interface: 'Ethernet0' }, T0, 1]]),
    ]));
    expect(out).toEqual([]);
  });
});

describe('egress-buffer histograms', () => {
  it('estimates queue depth as the upper bound of the highest non-empty bucket', () => {
    expect(queueDepthEstimate([863, 1_180_511, 2_360_159], [1_077_334, 0, 0, 0])).toBe(863);
    expect(queueDepthEstimate([863, 1_180_511, 2_360_159], [5, 2, 1, 0])).toBe(2_360_159);
    expect(queueDepthEstimate([863, 1_180_511], [0, 0, 4])).toBe(1_180_511); // the open bucket: its lower bound
    expect(queueDepthEstimate([863], [0, 0])).toBeUndefined();
  });

  it('uses a delta histogram (Cumulus default, doc example) per TC when there is no occupancy gauge', () => {
    const n = new PortSampleNormaliser();
    const bounds = [863, 1180511, 2360159, 3539807, 4719455, 5899103, 7078751, 8258399, 9438047];
    const [s] = feed(n, request('leaf-1', [
      histogram('nvswitch_histogram_interface_egress_buffer', 1, [
        [{ interface: 'swp1s1', tc: 0 }, T0, bounds, [1077334, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
        [{ interface: 'swp1s1', tc: 3 }, T0, bounds, [10, 4, 0, 2, 0, 0, 0, 0, 0, 0]],
      ]),
    ]));
    expect(s).toMatchObject({ port: 'leaf-1/swp1s1', queue_bytes: 863 + 3539807 });
  });

  it('turns a cumulative histogram into per-interval buckets first', () => {
    const n = new PortSampleNormaliser();
    const h = (t: number, counts: number[]) =>
      request('leaf-1', [histogram('nvswitch_histogram_interface_egress_buffer', 2, [[{ interface: 'swp2', tc: 0 }, t, [1_000, 10_000], counts]])]);
    feed(n, h(T0, [100, 50, 1]));
    const [a] = feed(n, h(T0 + 1_000, [180, 50, 1])); // only the shallow bucket grew this interval
    expect(a!.queue_bytes).toBe(1_000);
    const [b] = feed(n, h(T0 + 2_000, [180, 60, 1]));
    expect(b!.queue_bytes).toBe(10_000);
  });

  it('estimates the mean depth over the interval from bucket middles, weighted by counts', () => {
    // 60% of the interval near empty, 30% in (65 KB, 262 KB], 10% past the last bound.
    expect(queueMeanEstimate([864, 65_536, 262_144], [60, 0, 30, 10])).toBeCloseTo((60 * 432 + 30 * 163_840 + 10 * 262_144) / 100, 6);
    expect(queueMeanEstimate([864], [0, 0])).toBeUndefined();
  });

  it('keeps the occupancy gauge and adds the histogram mean when the two classes arrive apart, in either order', () => {
    const bounds = [864, 65_536, 262_144, 819_200];
    // A queue empty 60% of the interval and ~540 KB the rest: the instant polled reads 0.
    const hist = (t: number) =>
      request('leaf-0', [histogram('nvswitch_histogram_interface_egress_buffer', 1, [[{ interface: 'swp1', tc: 3 }, t, bounds, [60_000, 0, 0, 40_000, 0]]])]);
    const mean = (60_000 * 432 + 40_000 * ((262_144 + 819_200) / 2)) / 100_000;
    for (const order of ['gauge first', 'histogram first']) {
      const n = new PortSampleNormaliser();
      const first = (t: number) => (order === 'gauge first' ? bufferStats(t, 0) : hist(t));
      const second = (t: number) => (order === 'gauge first' ? hist(t) : bufferStats(t, 0));
      // The first instant teaches the port's families; from then on a sample waits for both.
      feed(n, first(T0));
      feed(n, second(T0));
      expect(feed(n, first(T0 + 100)).filter((x) => x.ts_ms === T0 + 100)).toEqual([]);
      const [s] = feed(n, second(T0 + 100));
      expect(s, order).toMatchObject({ port: 'leaf-0/swp1', queue_bytes: 0 });
      expect(s!.queue_mean_bytes, order).toBeCloseTo(mean, 6);
    }
  });

  it('rejects a histogram whose buckets do not match its bounds, naming the field', () => {
    const body = request('leaf-1', [histogram('nvswitch_histogram_interface_egress_buffer', 1, [[{ interface: 'swp2' }, T0, [1, 2], [1, 2]]])]);
    expect(() => flattenOtlpMetrics(body)).toThrow('resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0].bucketCounts');
  });
});

describe('bounded state', () => {
  it('forgets ports and counter series silent for longer than evictAfterMs (wall clock)', () => {
    let now = 0;
    const n = new PortSampleNormaliser({ evictAfterMs: 60_000, now: () => now });
    for (let p = 0; p < 50; p++) {
      feed(n, request('leaf-0', [counter('nvswitch_interface_sp_tx_pause', [[{ interface: `swp${p}`, tc: 3 }, T0, 1]])]));
    }
    expect(n.portCount).toBe(50);
    expect(n.seriesCount).toBeGreaterThanOrEqual(50);
    for (let i = 1; i <= 10; i++) {
      now = i * 20_000;
      feed(n, request('leaf-0', [counter('nvswitch_interface_sp_tx_pause', [[{ interface: 'swp0', tc: 3 }, T0 + i * 20_000, 1 + i]])]));
    }
    expect(n.portCount).toBe(1);
    expect(n.seriesCount).toBe(1);
  });

  it('is not fooled by a far-future timestamp into forgetting the other ports', () => {
    const n = new PortSampleNormaliser({ evictAfterMs: 60_000 });
    feed(n, request('leaf-0', [counter('nvswitch_interface_sp_tx_pause', [[{ interface: 'swp1', tc: 3 }, T0, 10]])]));
    feed(n, request('leaf-9', [counter('nvswitch_interface_sp_tx_pause', [[{ interface: 'swp1', tc: 3 }, T0 * 10, 1]])]));
    const [s] = feed(n, request('leaf-0', [counter('nvswitch_interface_sp_tx_pause', [[{ interface: 'swp1', tc: 3 }, T0 + 1_000, 15]])]));
    expect(s!.pfc_tx_pause_frames).toBe(5);
  });
});
