/**
 * The OTLP/JSON body reader: its fast path must give exactly what the general path
 * (JSON.parse + flattenOtlpMetrics) gives, or leave the body to it, for real serializer
 * output, other field orders and spellings, and broken bodies.
 */
import { JsonMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { readJsonMetricsRequest } from '../../collectors/otlp/otlp-json-reader.js';
import { flattenOtlpMetrics, type FlattenedMetrics } from '../../collectors/otlp/otlp-points.js';
import { switchPayload, zeroPort } from './otlp-fixtures.js';

const plain = (f: FlattenedMetrics) => ({
  points: f.points.map((p) => ({ ...p, path: p.path })),
  histograms: f.histograms.map((h) => ({ ...h, path: h.path })),
  skipped: f.skipped,
});

/** The general path's answer: points, or the error message. */
function general(body: Buffer): unknown {
  try {
    return plain(flattenOtlpMetrics(JSON.parse(body.toString('utf8'))));
  } catch (e) {
    return e instanceof SyntaxError ? 'invalid JSON' : (e as Error).message;
  }
}

function reader(body: Buffer): unknown {
  try {
    return plain(readJsonMetricsRequest(body));
  } catch (e) {
    const m = (e as Error).message;
    return m.startsWith('body: not valid JSON') ? 'invalid JSON' : m;
  }
}

function sdkExport(): ResourceMetrics {
  const descriptor = (name: string) => ({ name, description: 'd', unit: 'By', valueType: 1 });
  const at = (s: number): [number, number] => [s, 5_000_000];
  return {
    resource: resourceFromAttributes({ 'host.name': 'leaf-1', 'service.name': 'nvue' }),
    scopeMetrics: [{
      scope: { name: 'switch' },
      metrics: [
        {
          descriptor: descriptor('nvswitch_interface_if_out_octets'),
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.GAUGE,
          dataPoints: [{ attributes: { interface: 'swp1' }, startTime: at(10), endTime: at(1_767_225_600), value: 1e15 }],
        },
        {
          descriptor: descriptor('nvswitch_interface_sp_tx_pause'),
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.SUM,
          isMonotonic: true,
          dataPoints: [
            { attributes: { interface: 'swp1', tc: 3 }, startTime: at(10), endTime: at(1_767_225_600), value: 12 },
            { attributes: { interface: 'swp2', tc: 3 }, startTime: at(10), endTime: at(1_767_225_600), value: -0.5 },
          ],
        },
        {
          descriptor: descriptor('nvswitch_histogram_interface_egress_buffer'),
          aggregationTemporality: AggregationTemporality.DELTA,
          dataPointType: DataPointType.HISTOGRAM,
          dataPoints: [{
            attributes: { interface: 'swp1', tc: '0' },
            startTime: at(10),
            endTime: at(1_767_225_600),
            value: { buckets: { boundaries: [863], counts: [5, 2] }, count: 7, sum: 1 },
          }],
        },
      ],
    }],
  };
}

const realBodies = (): Buffer[] => [
  Buffer.from(JsonMetricsSerializer.serializeRequest(sdkExport())!),
  Buffer.from(JSON.stringify(switchPayload('leaf-0', 1_767_225_600_000, { swp1: zeroPort({ queue: 7, ecn: 3 }), swp2: zeroPort() }))),
];

describe('OTLP/JSON reader', () => {
  it('reads real serializer output exactly as the general path does', () => {
    for (const body of realBodies()) {
      const r = reader(body) as ReturnType<typeof plain>;
      expect(r).toEqual(general(body));
      expect(r.points.length).toBeGreaterThan(0);
    }
    const sdk = readJsonMetricsRequest(realBodies()[0]!);
    expect(sdk.points.map((p) => [p.metric, p.kind, p.temporality, p.monotonic, p.value])).toEqual([
      ['nvswitch_interface_if_out_octets', 'gauge', 0, false, 1e15],
      ['nvswitch_interface_sp_tx_pause', 'sum', 2, true, 12],
      ['nvswitch_interface_sp_tx_pause', 'sum', 2, true, -0.5],
    ]);
    expect(sdk.histograms).toHaveLength(1);
  });

  it('agrees with the general path on other orders, spellings and repeated keys', () => {
    const dp = '{"attributes":[{"key":"interface","value":{"stringValue":"swp1"}}],"timeUnixNano":"1767225600000000000","asInt":"5"}';
    const wrap = (metric: string, resource = '"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"leaf-0"}}]},') =>
      `{"resourceMetrics":[{${resource}"scopeMetrics":[{"metrics":[${metric}]}]}]}`;
    const variants = [
      wrap(`{"sum":{"dataPoints":[${dp}],"aggregationTemporality":2,"isMonotonic":true},"name":"late_name"}`),
      `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[${dp}]}}]}],"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"late"}}]}}]}`,
      wrap(`{"name":"g","gauge":{"dataPoints":[${dp}],"dataPoints":[]}}`),
      wrap(`{"name":"g","gauge":{"dataPoints":[{"timeUnixNano":"1767225600000000000","asInt":"5","asDouble":2.5}]}}`),
      wrap(`{"name":"g\\u0031","gauge":{"dataPoints":[{"timeUnixNano":"1767225600000000000","asDouble":1e3,"attributes":[{"key":"interface","value":{"stringValue":"sw\\u00e9p"}}]}]}}`),
      wrap(`{"name":"g","gauge":{"dataPoints":[{"timeUnixNano":1767225600000000000,"asDouble":"NaN"}, {"timeUnixNano":"18446744073709551616","asDouble":1}]}}`),
      wrap(`{"name":"g","gauge":null,"sum":{"dataPoints":[${dp}]}}`),
      wrap(`{"name":"g","gauge":{"dataPoints":[{"timeUnixNano":"1767225600000000000","flags":1}]}}`),
      wrap(`{"name":"h","histogram":{"dataPoints":[{"timeUnixNano":"1767225600000000000","bucketCounts":["1","2"],"explicitBounds":[5]}]},"gauge":{"dataPoints":[${dp}]}}`),
      wrap(`{"name":"g","gauge":{"dataPoints":[${dp}]}}`, ''),
      ` \n${wrap(`{"name":"g","description":"\\"q\\"","gauge":{"dataPoints":[${dp}]},"metadata":[{"key":"k","value":{"boolValue":false}}]}`)}\n `,
    ];
    for (const text of variants) {
      const body = Buffer.from(text);
      expect(reader(body), text).toEqual(general(body));
    }
  });

  it('answers every truncation and byte change of a real body as the general path does', () => {
    const body = realBodies()[1]!;
    const cut = body.subarray(0, 4_000);
    for (let n = 0; n < cut.length; n += 7) {
      const truncated = body.subarray(0, n);
      expect(reader(truncated)).toEqual(general(truncated));
    }
    const alphabet = Buffer.from('{}[]":,0-.eE tnx\\');
    for (let n = 0; n < cut.length; n += 3) {
      const changed = Buffer.from(body);
      changed[n] = alphabet[n % alphabet.length]!;
      expect(reader(changed)).toEqual(general(changed));
    }
  });

  it('gives a repeated attribute list one object across bodies, and still checks a new list whose brackets balance', () => {
    const list = (inner: string) => `[{"key":"interface","value":{"stringValue":"swp1"}}${inner}{"key":"tc","value":{"stringValue":"1"}}]`;
    const body = (attrs: string) =>
      Buffer.from(`{"resourceMetrics":[{"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"leaf-0"}}]},"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"attributes":${attrs},"timeUnixNano":"1767225600000000000","asDouble":1}]}}]}]}]}`);
    const first = readJsonMetricsRequest(body(list(','))).points[0]!;
    const again = readJsonMetricsRequest(body(list(','))).points[0]!;
    expect(first.attributes).toEqual({ interface: 'swp1', tc: '1' });
    expect(again.attributes).toBe(first.attributes);
    for (const broken of [list(' '), list(',,'), list(':')]) {
      expect(reader(body(broken))).toBe('invalid JSON');
      expect(general(body(broken))).toBe('invalid JSON');
    }
  });
});
