/**
 * The hand-written OTLP protobuf reader: against the OpenTelemetry JS serializers (the same
 * export through protobuf and through JSON must flatten to the same points), and against
 * hand-encoded edge cases of the protobuf encoding rules.
 */
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { PayloadError } from '../../core/errors.js';
import { flattenOtlpMetrics, type FlattenedMetrics } from '../../collectors/otlp/otlp-points.js';
import { otlpSchema } from '../../collectors/otlp/otlp-protobuf.js';
import { readMetricsRequest } from '../../collectors/otlp/otlp-wire-reader.js';

const Request = otlpSchema.lookupType('fabricscope.otlp.ExportMetricsServiceRequest');
const T_S = 1_767_225_600;

function sdkExport(): ResourceMetrics {
  const descriptor = (name: string) => ({ name, description: '', unit: '', valueType: 1 });
  const at = (s: number): [number, number] => [s, 123_456_789];
  return {
    resource: resourceFromAttributes({ 'host.name': 'leaf-7', rack: 3 }),
    scopeMetrics: [{
      scope: { name: 'switch', version: '1.0' },
      metrics: [
        {
          descriptor: descriptor('nvswitch_interface_shared_buffer_port_tc_curr_occupancy'),
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.GAUGE,
          dataPoints: [
            { attributes: { interface: 'swp1', tc: '3' }, startTime: at(T_S - 10), endTime: at(T_S), value: 4096.5 },
            { attributes: { interface: 'swp2', tc: 4 }, startTime: at(T_S - 10), endTime: at(T_S), value: 0 },
          ],
        },
        {
          descriptor: descriptor('nvswitch_interface_tc_tx_ecn_marked_tc'),
          aggregationTemporality: AggregationTemporality.DELTA,
          dataPointType: DataPointType.SUM,
          isMonotonic: true,
          dataPoints: [{ attributes: { interface: 'swp1', tc: '3', up: true }, startTime: at(T_S - 1), endTime: at(T_S), value: 17 }],
        },
        {
          descriptor: descriptor('nvswitch_histogram_interface_egress_buffer'),
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.HISTOGRAM,
          dataPoints: [{
            attributes: { interface: 'swp1', tc: '0' },
            startTime: at(T_S - 10),
            endTime: at(T_S),
            value: { buckets: { boundaries: [863, 1_180_511], counts: [5, 2, 1] }, count: 8, sum: 100, min: 1, max: 50 },
          }],
        },
      ],
    }],
  };
}

/** Points as plain data (paths spelled out), to compare decoders. */
const plain = (f: FlattenedMetrics) => ({
  points: f.points.map((p) => ({ ...p, path: p.path })),
  histograms: f.histograms.map((h) => ({ ...h, path: h.path })),
  skipped: f.skipped,
});

const kv = (key: string, value: Record<string, unknown>) => ({ key, value });
/** A one-gauge request; `point` fields override the defaults. */
const gaugeRequest = (point: Record<string, unknown>) => ({
  resourceMetrics: [{
    resource: { attributes: [kv('host.name', { stringValue: 'leaf-0' })] },
    scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints: [{ attributes: [kv('interface', { stringValue: 'swp1' })], timeUnixNano: '1767225600000000000', asDouble: 1, ...point }] } }] }],
  }],
});
const encode = (obj: unknown) => Request.encode(Request.fromObject(obj as Record<string, unknown>)).finish();

function errorOf(fn: () => unknown): PayloadError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PayloadError) return e;
    throw e;
  }
  throw new Error('expected a PayloadError');
}

describe('OTLP protobuf wire reader', () => {
  it('reads the official serializer output exactly as the JSON decoder reads the JSON serializer output', () => {
    const pb = readMetricsRequest(ProtobufMetricsSerializer.serializeRequest(sdkExport())!);
    const json = flattenOtlpMetrics(JSON.parse(Buffer.from(JsonMetricsSerializer.serializeRequest(sdkExport())!).toString('utf8')));
    expect(plain(pb)).toEqual(plain(json));
    expect(pb.points).toHaveLength(3);
    expect(pb.points[0]).toMatchObject({
      path: 'resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0]',
      resource: { 'host.name': 'leaf-7', rack: '3' },
      attributes: { interface: 'swp1', tc: '3' },
      time_ms: T_S * 1000 + 123,
      value: 4096.5,
    });
    expect(pb.points[1]!.attributes).toEqual({ interface: 'swp2', tc: '4' });
    expect(pb.points[2]).toMatchObject({ kind: 'sum', temporality: 1, monotonic: true, attributes: { up: 'true' }, value: 17 });
    expect(pb.histograms[0]).toMatchObject({ temporality: 2, bounds: [863, 1_180_511], counts: [5, 2, 1] });
  });

  it('gives a repeated attribute list one shared object, across requests', () => {
    const body = ProtobufMetricsSerializer.serializeRequest(sdkExport())!;
    const a = readMetricsRequest(body);
    const b = readMetricsRequest(body);
    expect(a.points[0]!.attributes).toBe(b.points[0]!.attributes);
    expect(Object.isFrozen(a.points[0]!.attributes)).toBe(true);
  });

  it('keeps interned attribute lists apart from the request buffer, which may be reused', () => {
    const body = (iface: string) => encode(gaugeRequest({ attributes: [kv('interface', { stringValue: iface })] }));
    const first = Buffer.from(body('swpA'));
    const interned = readMetricsRequest(first).points[0]!.attributes;
    expect(interned).toEqual({ interface: 'swpA' });
    first.set(body('swpB')); // the same memory now holds another request
    expect(readMetricsRequest(Buffer.from(body('swpB'))).points[0]!.attributes).toEqual({ interface: 'swpB' });
    // Still known by its own bytes, not by whatever the old buffer holds now.
    expect(readMetricsRequest(Buffer.from(body('swpA'))).points[0]!.attributes).toBe(interned);
  });

  it('skips unknown fields of every wire type, at every level', () => {
    const point = protobuf.Writer.create()
      .uint32((99 << 3) | 0).uint64(12345678901) // varint
      .uint32((98 << 3) | 1).fixed64(7) // 64-bit
      .uint32((7 << 3) | 2).fork().uint32((1 << 3) | 2).string('interface').uint32((2 << 3) | 2).fork().uint32((1 << 3) | 2).string('swp9').ldelim().ldelim()
      .uint32((97 << 3) | 2).bytes(new Uint8Array([1, 2, 3])) // length-delimited
      .uint32((96 << 3) | 5).fixed32(9) // 32-bit
      .uint32((95 << 3) | 3).uint32((1 << 3) | 0).uint32(1).uint32((95 << 3) | 4) // a group
      .uint32((3 << 3) | 1).fixed64('1767225600000000000')
      .uint32((4 << 3) | 1).double(2.5)
      .uint32((3 << 3) | 0).uint32(5) // a known field number with the wrong wire type: skipped too
      .finish();
    const gauge = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(point).uint32((50 << 3) | 0).uint32(1).finish();
    const metric = protobuf.Writer.create().uint32((1 << 3) | 2).string('g').uint32((60 << 3) | 5).fixed32(1).uint32((5 << 3) | 2).bytes(gauge).finish();
    const scope = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(metric).uint32((70 << 3) | 1).double(1).finish();
    const rm = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(scope).uint32((80 << 3) | 2).string('x').finish();
    const req = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(rm).uint32((90 << 3) | 0).uint32(3).finish();
    const { points } = readMetricsRequest(req);
    expect(points).toHaveLength(1);
    expect(points[0]).toMatchObject({ metric: 'g', attributes: { interface: 'swp9' }, time_ms: 1_767_225_600_000, value: 2.5 });
  });

  it('reads repeated histogram fields packed and unpacked alike', () => {
    const histogramPoint = (packed: boolean) => {
      const w = protobuf.Writer.create().uint32((3 << 3) | 1).fixed64('1767225600000000000');
      if (packed) {
        w.uint32((6 << 3) | 2).fork().fixed64(5).fixed64(2).fixed64(1).ldelim();
        w.uint32((7 << 3) | 2).fork().double(863).double(1_180_511).ldelim();
      } else {
        for (const c of [5, 2, 1]) w.uint32((6 << 3) | 1).fixed64(c);
        for (const b of [863, 1_180_511]) w.uint32((7 << 3) | 1).double(b);
      }
      const h = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(w.finish()).uint32((2 << 3) | 0).uint32(1).finish();
      const m = protobuf.Writer.create().uint32((1 << 3) | 2).string('h').uint32((9 << 3) | 2).bytes(h).finish();
      const sm = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(m).finish();
      const rm = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(sm).finish();
      return readMetricsRequest(protobuf.Writer.create().uint32((1 << 3) | 2).bytes(rm).finish()).histograms;
    };
    expect(histogramPoint(true)).toEqual(histogramPoint(false));
    expect(histogramPoint(true)[0]).toMatchObject({ temporality: 1, bounds: [863, 1_180_511], counts: [5, 2, 1] });
  });

  it('converts 64-bit fixed times exactly, and reads negative sfixed64 and int64 varints', () => {
    const [p] = readMetricsRequest(encode(gaugeRequest({
      timeUnixNano: '18446744073709551615', // the largest fixed64
      startTimeUnixNano: '1767225600999999999',
      asDouble: undefined,
      asInt: '-9007199254740993',
      attributes: [kv('interface', { stringValue: 'swp1' }), kv('offset', { intValue: '-3' }), kv('big', { intValue: '-9223372036854775808' })],
    }))).points;
    expect(p!.time_ms).toBe(18_446_744_073_709);
    expect(p!.start_ms).toBe(1_767_225_600_999);
    expect(p!.value).toBe(-9007199254740992); // nearest double, as Number("-9007199254740993")
    expect(p!.attributes).toEqual({ interface: 'swp1', offset: '-3', big: '-9223372036854775808' });
  });

  it('names the field of a missing or zero time, and of a point without a value', () => {
    const path = 'resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0]';
    expect(errorOf(() => readMetricsRequest(encode(gaugeRequest({ timeUnixNano: undefined })))).message).toBe(`${path}.timeUnixNano: missing`);
    expect(errorOf(() => readMetricsRequest(encode(gaugeRequest({ asDouble: undefined })))).message).toBe(`${path}: no value: expected asDouble or asInt`);
    // Flagged "no recorded value": skipped, not an error.
    expect(readMetricsRequest(encode(gaugeRequest({ asDouble: undefined, flags: 1 }))).skipped).toBe(1);
  });

  it('refuses every truncation of a real export with an error naming where it broke', () => {
    const body = ProtobufMetricsSerializer.serializeRequest(sdkExport())!;
    const wheres = new Set<string>();
    for (let n = 1; n < body.length; n++) {
      let err: unknown;
      try {
        readMetricsRequest(body.subarray(0, n));
      } catch (e) {
        err = e;
      }
      // A cut exactly between two fields is a shorter valid message; any other cut is refused.
      if (err === undefined) continue;
      expect(err).toBeInstanceOf(PayloadError);
      const where = (err as PayloadError).where!;
      expect(where).toMatch(/^(body|resourceMetrics\[0\])/);
      wheres.add(where);
    }
    // A cut body leaves the outermost message short first; inner fields are named below.
    expect(wheres).toContain('resourceMetrics[0]');
  });

  it('names the truncated field inside a data point', () => {
    const body = encode(gaugeRequest({}));
    // The point ends with asDouble (8 bytes): cut its last byte and fix up no lengths, so the
    // enclosing messages claim more bytes than there are.
    const err = errorOf(() => readMetricsRequest(body.subarray(0, body.length - 1)));
    expect(err.message).toMatch(/invalid protobuf: truncated/);
    expect(err.where).toBe('resourceMetrics[0]');
    // With consistent lengths but a short field, the field is named.
    const inGauge = (point: Uint8Array) => {
      const g = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(point).finish();
      const m = protobuf.Writer.create().uint32((1 << 3) | 2).string('g').uint32((5 << 3) | 2).bytes(g).finish();
      const sm = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(m).finish();
      const rm = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(sm).finish();
      return protobuf.Writer.create().uint32((1 << 3) | 2).bytes(rm).finish();
    };
    const path = 'resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0]';
    const shortDouble = protobuf.Writer.create().uint32((3 << 3) | 1).fixed64(1).uint32((4 << 3) | 1).fixed32(0).finish();
    expect(errorOf(() => readMetricsRequest(inGauge(shortDouble))).message).toBe(`${path}.asDouble: invalid protobuf: truncated`);
    const shortTime = protobuf.Writer.create().uint32((4 << 3) | 1).double(1).uint32((3 << 3) | 1).fixed32(0).finish();
    expect(errorOf(() => readMetricsRequest(inGauge(shortTime))).message).toBe(`${path}.timeUnixNano: invalid protobuf: truncated`);
    const shortAttribute = protobuf.Writer.create().uint32((7 << 3) | 2).uint32(40).uint32(0).finish();
    expect(errorOf(() => readMetricsRequest(inGauge(shortAttribute))).message).toMatch(new RegExp(`^${path.replace(/[[\].]/g, '\\$&')}\\.attributes: invalid protobuf: truncated`));
  });

  it('refuses invalid wire types and unclosed groups', () => {
    expect(errorOf(() => readMetricsRequest(new Uint8Array([(1 << 3) | 7]))).message).toMatch(/wire type 7/);
    expect(errorOf(() => readMetricsRequest(new Uint8Array([(5 << 3) | 3, 0x08, 0x01]))).message).toMatch(/group 5 not closed/);
    expect(errorOf(() => readMetricsRequest(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]))).message).toMatch(/^resourceMetrics\[0\]: invalid protobuf: truncated/);
  });
});
