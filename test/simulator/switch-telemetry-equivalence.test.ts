/**
 * The switch snapshot and its OTLP payload are built for speed (names resolved once, class
 * instances instead of literals, shared attribute sets). This checks them, value by value and
 * in property order, against a straightforward reference built the obvious way from the
 * fabric's own counters: any difference in what the player would send shows up here.
 */
import { ValueType } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { SimulationEngine } from '../../simulator/engine.js';
import { buildSwitchResourceMetrics, SWITCH_SERVICE_NAME } from '../../simulator/exporters/otlp-switch-payload.js';
import type { PortSnapshot, SwitchSnapshot } from '../../simulator/outputs.js';
import { EGRESS_HISTOGRAM_BOUNDS } from '../../simulator/queue-histogram.js';
import { parseScenario } from '../../simulator/scenario.js';

// Congestion, pauses (a storm still running at a sample), a degraded link and background
// load, so every counter moves, on both Spectrum and NVLink (nvsw-*) switches.
const SCENARIO = `
name: switch-telemetry-equivalence
seed: 5
duration_s: 2
start: "2026-01-01T00:00:00Z"
topology: { nodes: 4, gpus_per_node: 4, leaves: 2, spines: 2, link_gbps: 400 }
jobs: [{ id: train-a, nodes: all, collective: allreduce, message_bytes: 67108864, compute_ms: 20 }]
background: { load: 0.2 }
faults:
  - { kind: incast_congestion, target: leaf-0/p1, start_s: 0.2, duration_s: 1, severity: 1 }
  - { kind: pfc_storm, target: leaf-1/p0, start_s: 0.4, duration_s: 1, severity: 1 }
  - { kind: link_degraded, target: spine-0/p1, start_s: 0.1, duration_s: 2, severity: 0.6 }
`;

/** The snapshot as first written: spread counters per port, names sliced per port. */
function referenceSnapshots(engine: SimulationEngine, tsMs: number, prevMs: number): SwitchSnapshot[] {
  const fabric = engine.fabric;
  fabric.accrueTimeCounters();
  const byDevice = new Map<string, number[]>();
  fabric.names.forEach((name, i) => {
    const dev = name.slice(0, name.indexOf('/'));
    byDevice.set(dev, [...(byDevice.get(dev) ?? []), i]);
  });
  const out: SwitchSnapshot[] = [];
  for (const [device, idx] of byDevice) {
    const ports: PortSnapshot[] = idx.map((i) => {
      const name = fabric.names[i]!;
      return { port: name, interface: name.slice(name.indexOf('/') + 1), scale_up: device.startsWith('nvsw-'), ...fabric.counters(i) };
    });
    out.push({ device, ts_ms: tsMs, prev_ts_ms: prevMs, ports });
  }
  fabric.resetWatermarks();
  return out;
}

const hrTime = (ms: number): [number, number] => {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
};

/** The OTLP payload written out literally, metric by metric, from the Cumulus vocabulary. */
function referenceResourceMetrics(snap: SwitchSnapshot, resetMs: number): unknown {
  const end = hrTime(snap.ts_ms);
  const gaugeStart = hrTime(snap.prev_ts_ms);
  const counterStart = hrTime(resetMs);
  const scaleUp = snap.device.startsWith('nvsw-');
  const points = (perTc: boolean, start: [number, number], value: (p: PortSnapshot) => number) =>
    snap.ports.map((p) => ({ attributes: perTc ? { interface: p.interface, tc: '3' } : { interface: p.interface }, startTime: start, endTime: end, value: value(p) }));
  const gauge = (name: string, description: string, unit: string, valueType: ValueType, dataPoints: unknown[]) => ({
    descriptor: { name, description, unit, valueType },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints,
  });
  const sum = (name: string, description: string, unit: string, dataPoints: unknown[]) => ({
    descriptor: { name, description, unit, valueType: ValueType.INT },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints,
  });
  const metrics: unknown[] = [
    gauge('nvswitch_interface_shared_buffer_port_tc_curr_occupancy', 'Current shared buffer occupancy of the egress traffic class', 'bytes', ValueType.INT, points(true, gaugeStart, (p) => p.queue_bytes)),
    gauge('nvswitch_interface_shared_buffer_port_tc_watermark', 'Peak shared buffer occupancy of the egress traffic class since the last sample', 'bytes', ValueType.INT, points(true, gaugeStart, (p) => p.watermark_bytes)),
    sum('nvswitch_interface_tc_tx_ecn_marked_tc', 'Packets ECN-marked on egress in the traffic class', 'packets', points(true, counterStart, (p) => p.ecn_marked_pkts)),
    sum('nvswitch_interface_sp_tx_pause', 'PFC pause frames transmitted for the switch priority', 'frames', points(true, counterStart, (p) => p.pfc_tx_pause_frames)),
    sum('nvswitch_interface_sp_rx_pause', 'PFC pause frames received for the switch priority', 'frames', points(true, counterStart, (p) => p.pfc_rx_pause_frames)),
    sum('nvswitch_interface_sp_rx_pause_duration', 'Time the switch priority was paused by its peer', 'us', points(true, counterStart, (p) => p.pfc_rx_pause_us)),
    gauge('nvswitch_interface_if_out_octets', 'Octets transmitted on the interface', 'bytes', ValueType.DOUBLE, points(false, gaugeStart, (p) => p.tx_bytes)),
    gauge('nvswitch_interface_dot3_stats_fcs_errors', 'Frames received with FCS errors', 'frames', ValueType.DOUBLE, points(false, gaugeStart, (p) => p.link_errors)),
    gauge('nvswitch_interface_oper_state', 'Interface operational state (1 up, 2 down)', '', ValueType.INT, points(false, gaugeStart, (p) => (p.oper_up ? 1 : 2))),
  ];
  if (scaleUp) {
    metrics.push(sum('fabricscope_scaleup_credit_stall_microseconds_total', 'Time the scale-up port had data queued but no credits to send', 'us', points(false, counterStart, (p) => p.credit_stall_us)));
  } else {
    metrics.push({
      descriptor: { name: 'nvswitch_histogram_interface_egress_buffer', description: 'NVIDIA Ethernet Switch Histogram Interface Egress Buffer Queue Depth', unit: 'bytes', valueType: ValueType.INT },
      aggregationTemporality: AggregationTemporality.DELTA,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: snap.ports.map((p) => ({
        attributes: { interface: p.interface, tc: 3 },
        startTime: gaugeStart,
        endTime: end,
        value: { buckets: { boundaries: [...EGRESS_HISTOGRAM_BOUNDS], counts: p.egress_histogram }, count: p.egress_histogram.reduce((a, b) => a + b, 0) },
      })),
    });
  }
  return {
    resource: { 'host.name': snap.device, 'service.name': SWITCH_SERVICE_NAME },
    scopeMetrics: [{ scope: { name: 'fabricscope.simulator.switch', version: '0.1.0' }, metrics }],
  };
}

/** Everything an OTLP serialiser reads, in property order (JSON keeps insertion order). */
const asJson = (rm: ResourceMetrics) => JSON.stringify({ resource: rm.resource.attributes, scopeMetrics: rm.scopeMetrics });

describe('switch telemetry', () => {
  it('snapshots and OTLP payloads equal the straightforward reference, in values and order', () => {
    const scenario = parseScenario(SCENARIO, 'switch-telemetry-equivalence.yaml');
    const engine = new SimulationEngine(scenario);
    const reference = new SimulationEngine(scenario);
    let prevMs = engine.startMs;
    let pausedSamples = 0;
    for (let ms = 100; ms <= 1500; ms += 100) {
      engine.advanceTo(ms * 1000);
      reference.advanceTo(ms * 1000);
      const snaps = engine.switchSnapshots();
      const expected = referenceSnapshots(reference, engine.startMs + ms, prevMs);
      prevMs = engine.startMs + ms;
      expect(JSON.stringify(snaps)).toBe(JSON.stringify(expected));
      for (const snap of snaps) {
        const built = buildSwitchResourceMetrics(snap, engine.startMs);
        expect(asJson(built)).toBe(JSON.stringify(referenceResourceMetrics(snap, engine.startMs)));
        const metrics: MetricData[] = built.scopeMetrics[0]!.metrics;
        expect(metrics.every((m) => m.dataPoints.length === snap.ports.length)).toBe(true);
        pausedSamples += snap.ports.filter((p) => p.pfc_tx_pause_frames > 0).length;
      }
    }
    // The comparison covered the pause-refresh path, not only idle counters.
    expect(pausedSamples).toBeGreaterThan(0);
  });

  it('shares no mutable state between payloads: a later sample leaves an earlier one unchanged', () => {
    const engine = new SimulationEngine(parseScenario(SCENARIO, 'switch-telemetry-equivalence.yaml'));
    engine.advanceTo(300_000);
    const first = engine.switchSnapshots().map((s) => buildSwitchResourceMetrics(s, engine.startMs));
    const before = first.map(asJson);
    engine.advanceTo(600_000);
    for (const s of engine.switchSnapshots()) buildSwitchResourceMetrics(s, engine.startMs);
    expect(first.map(asJson)).toEqual(before);
  });
});
