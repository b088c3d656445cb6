/**
 * Switch telemetry as NVIDIA Cumulus switches export it: OTLP metrics in the `nvswitch_*`
 * vocabulary (telemetry-formats.md §2.1), one resource per switch (`host.name`). Built as SDK
 * ResourceMetrics by hand so the data points carry event time; otlp-switch-exporter.ts sends
 * them.
 */
import { ValueType } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { HrTime } from '@opentelemetry/api';
import type { PortSnapshot, SwitchSnapshot } from '../outputs.js';
import { EGRESS_HISTOGRAM_BOUNDS } from '../queue-histogram.js';

export const SWITCH_SERVICE_NAME = 'fabricscope-sim-switch';
/** The lossless RoCE traffic class (fabric-modeling.md §4: RoCE on TC 3). */
const ROCE_TC = '3';

const hrTime = (ms: number): HrTime => {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
};

type Kind = 'gauge_int' | 'gauge_double' | 'counter';
interface MetricDef {
  name: string;
  description: string;
  unit: string;
  kind: Kind;
  perTc: boolean;
  scaleUpOnly?: boolean;
  value: (p: PortSnapshot) => number;
}

const METRICS: MetricDef[] = [
  { name: 'nvswitch_interface_shared_buffer_port_tc_curr_occupancy', description: 'Current shared buffer occupancy of the egress traffic class', unit: 'bytes', kind: 'gauge_int', perTc: true, value: (p) => p.queue_bytes },
  { name: 'nvswitch_interface_shared_buffer_port_tc_watermark', description: 'Peak shared buffer occupancy of the egress traffic class since the last sample', unit: 'bytes', kind: 'gauge_int', perTc: true, value: (p) => p.watermark_bytes },
  { name: 'nvswitch_interface_tc_tx_ecn_marked_tc', description: 'Packets ECN-marked on egress in the traffic class', unit: 'packets', kind: 'counter', perTc: true, value: (p) => p.ecn_marked_pkts },
  { name: 'nvswitch_interface_sp_tx_pause', description: 'PFC pause frames transmitted for the switch priority', unit: 'frames', kind: 'counter', perTc: true, value: (p) => p.pfc_tx_pause_frames },
  { name: 'nvswitch_interface_sp_rx_pause', description: 'PFC pause frames received for the switch priority', unit: 'frames', kind: 'counter', perTc: true, value: (p) => p.pfc_rx_pause_frames },
  { name: 'nvswitch_interface_sp_rx_pause_duration', description: 'Time the switch priority was paused by its peer', unit: 'us', kind: 'counter', perTc: true, value: (p) => p.pfc_rx_pause_us },
  // Cumulus exports interface counters as gauges with asDouble (cumulative values).
  { name: 'nvswitch_interface_if_out_octets', description: 'Octets transmitted on the interface', unit: 'bytes', kind: 'gauge_double', perTc: false, value: (p) => p.tx_bytes },
  { name: 'nvswitch_interface_dot3_stats_fcs_errors', description: 'Frames received with FCS errors', unit: 'frames', kind: 'gauge_double', perTc: false, value: (p) => p.link_errors },
  { name: 'nvswitch_interface_oper_state', description: 'Interface operational state (1 up, 2 down)', unit: '', kind: 'gauge_int', perTc: false, value: (p) => (p.oper_up ? 1 : 2) },
  { name: 'fabricscope_scaleup_credit_stall_microseconds_total', description: 'Time the scale-up port had data queued but no credits to send', unit: 'us', kind: 'counter', perTc: false, scaleUpOnly: true, value: (p) => p.credit_stall_us },
];

/** What every sample of a metric shares: its descriptor and point shape, built once. */
interface PreparedMetric {
  def: MetricDef;
  descriptor: MetricData['descriptor'];
  counter: boolean;
}

const prepare = (def: MetricDef): PreparedMetric => ({
  def,
  descriptor: Object.freeze({ name: def.name, description: def.description, unit: def.unit, valueType: def.kind === 'gauge_double' ? ValueType.DOUBLE : ValueType.INT }),
  counter: def.kind === 'counter',
});
const SPECTRUM_METRICS = METRICS.filter((d) => !d.scaleUpOnly).map(prepare);
const SCALE_UP_METRICS = METRICS.map(prepare);
// Shared by every payload, so frozen: an exported payload may still be held by the exporter.
const HISTOGRAM_DESCRIPTOR = Object.freeze({ name: 'nvswitch_histogram_interface_egress_buffer', description: 'NVIDIA Ethernet Switch Histogram Interface Egress Buffer Queue Depth', unit: 'bytes', valueType: ValueType.INT });
const SCOPE = Object.freeze({ name: 'fabricscope.simulator.switch', version: '0.1.0' });

/**
 * The data-point attribute sets of one interface name, shared by every sample and switch that
 * has it (frozen: exported payloads hold them, so they must never change).
 */
interface InterfaceAttributes {
  plain: Readonly<{ interface: string }>;
  perTc: Readonly<{ interface: string; tc: string }>;
  histogram: Readonly<{ interface: string; tc: number }>;
}
const attributesByInterface = new Map<string, InterfaceAttributes>();
function interfaceAttributes(name: string): InterfaceAttributes {
  let a = attributesByInterface.get(name);
  if (!a) {
    a = {
      plain: Object.freeze({ interface: name }),
      perTc: Object.freeze({ interface: name, tc: ROCE_TC }),
      histogram: Object.freeze({ interface: name, tc: Number(ROCE_TC) }),
    };
    attributesByInterface.set(name, a);
  }
  return a;
}

/** One Resource per switch, as an SDK keeps one per process for all its exports. */
const resourceByDevice = new Map<string, ResourceMetrics['resource']>();
function switchResource(device: string): ResourceMetrics['resource'] {
  let r = resourceByDevice.get(device);
  if (!r) {
    r = resourceFromAttributes({ 'host.name': device, 'service.name': SWITCH_SERVICE_NAME });
    resourceByDevice.set(device, r);
  }
  return r;
}

/*
 * The payload is built from class instances and Array.prototype.map, not object and array
 * literals, for the GC reason given in ../switch-samples.ts. The own properties are the ones
 * the literals had, in the same (declaration) order.
 */

/** A data point: a number (gauges, sums) or a histogram value. */
class Point<V> {
  constructor(
    readonly attributes: Readonly<Record<string, string | number>>,
    readonly startTime: HrTime,
    readonly endTime: HrTime,
    readonly value: V,
  ) {}
}

/** A gauge (cumulative temporality, as the SDK reports gauges) or a delta histogram. */
class PointsMetric<T extends DataPointType.GAUGE | DataPointType.HISTOGRAM, V> {
  constructor(
    readonly descriptor: MetricData['descriptor'],
    readonly aggregationTemporality: AggregationTemporality,
    readonly dataPointType: T,
    readonly dataPoints: Point<V>[],
  ) {}
}

class CumulativeSumMetric {
  readonly descriptor: MetricData['descriptor'];
  readonly aggregationTemporality: AggregationTemporality;
  readonly dataPointType: DataPointType.SUM;
  readonly isMonotonic: boolean;
  readonly dataPoints: Point<number>[];
  constructor(descriptor: MetricData['descriptor'], dataPoints: Point<number>[]) {
    this.descriptor = descriptor;
    this.aggregationTemporality = AggregationTemporality.CUMULATIVE;
    this.dataPointType = DataPointType.SUM;
    this.isMonotonic = true;
    this.dataPoints = dataPoints;
  }
}

class SwitchScopeMetrics {
  readonly scope: typeof SCOPE;
  readonly metrics: MetricData[];
  constructor(metrics: MetricData[]) {
    this.scope = SCOPE;
    this.metrics = metrics;
  }
}

class SwitchResourceMetrics {
  readonly resource: ResourceMetrics['resource'];
  readonly scopeMetrics: SwitchScopeMetrics[];
  constructor(resource: ResourceMetrics['resource'], metrics: MetricData[]) {
    this.resource = resource;
    this.scopeMetrics = Array.of(new SwitchScopeMetrics(metrics));
  }
}

/** Builds the OTLP ResourceMetrics of one switch sample. `resetMs` is when counters started. */
export function buildSwitchResourceMetrics(snap: SwitchSnapshot, resetMs: number): ResourceMetrics {
  const end = hrTime(snap.ts_ms);
  const gaugeStart = hrTime(snap.prev_ts_ms);
  const counterStart = hrTime(resetMs);
  const scaleUp = snap.device.startsWith('nvsw-');
  const ports = snap.ports;
  const attributes = ports.map((p) => interfaceAttributes(p.interface));
  const metrics: MetricData[] = (scaleUp ? SCALE_UP_METRICS : SPECTRUM_METRICS).map(({ def, descriptor, counter }) => {
    const startTime = counter ? counterStart : gaugeStart;
    const dataPoints = ports.map((p, k) => new Point(def.perTc ? attributes[k]!.perTc : attributes[k]!.plain, startTime, end, def.value(p)));
    return counter ? new CumulativeSumMetric(descriptor, dataPoints) : new PointsMetric(descriptor, AggregationTemporality.CUMULATIVE, DataPointType.GAUGE, dataPoints);
  });
  if (!scaleUp) metrics.push(egressBufferHistogram(snap, attributes, gaugeStart, end));
  return new SwitchResourceMetrics(switchResource(snap.device), metrics);
}

/** Data points of a ResourceMetrics over all its metrics. */
export function dataPointCount(rm: ResourceMetrics): number {
  let n = 0;
  for (const scope of rm.scopeMetrics) for (const m of scope.metrics) n += m.dataPoints.length;
  return n;
}

/**
 * `nvswitch_histogram_interface_egress_buffer`: the time each egress queue spent in each depth
 * range during the interval (1 µs samples), with delta temporality as Cumulus exports by
 * default. It tells a queue's mean depth over the interval, which the occupancy gauge — one
 * instant per interval — cannot: a queue that builds and drains within a collective step
 * reads 0 or full depending on when the poll lands. Spectrum switches only, so not the
 * NVLink (`nvsw-*`) switches. `tc` is an integer here, unlike the buffer gauges' string, as
 * in NVIDIA's own examples (telemetry-formats.md §2.1).
 */
function egressBufferHistogram(snap: SwitchSnapshot, attributes: readonly InterfaceAttributes[], start: HrTime, end: HrTime): MetricData {
  // One bounds array for every port of the export: the serialiser only reads it.
  const boundaries = [...EGRESS_HISTOGRAM_BOUNDS];
  return new PointsMetric(
    HISTOGRAM_DESCRIPTOR,
    AggregationTemporality.DELTA,
    DataPointType.HISTOGRAM,
    snap.ports.map((p, k) => new Point(attributes[k]!.histogram, start, end, new HistogramValue(new HistogramBuckets(boundaries, p.egress_histogram)))),
  );
}

class HistogramBuckets {
  constructor(
    readonly boundaries: number[],
    readonly counts: number[],
  ) {}
}

class HistogramValue {
  readonly buckets: HistogramBuckets;
  readonly count: number;
  constructor(buckets: HistogramBuckets) {
    this.buckets = buckets;
    let count = 0;
    for (const c of buckets.counts) count += c;
    this.count = count;
  }
}
