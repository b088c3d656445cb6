/**
 * OTLP data points as the normaliser takes them, and the OTLP/JSON decoder that produces them
 * (the protobuf wire reader in otlp-wire-reader.ts produces the same). The JSON decoder
 * validates an ExportMetricsServiceRequest object and flattens its gauge, sum and histogram
 * data points. Errors are PayloadErrors whose `where` is the JSON path of the offending
 * field, so a sender can fix it:
 * `resourceMetrics[0].scopeMetrics[0].metrics[2].gauge.dataPoints[0].timeUnixNano`.
 *
 * Per the OTLP JSON mapping, 64-bit integers arrive as decimal strings (numbers accepted
 * too), enums as integers, unknown fields are ignored. Explicit-bucket histograms are
 * flattened too (switch buffer histograms estimate queue depth); exponential histograms and
 * summaries are validated only as far as being objects, and counted as skipped.
 *
 * Hot path: a point's path is kept as (metric path, index) and only spelled out on demand;
 * attribute maps are interned (attribute-sets.ts); resource attributes and metric fields
 * are resolved once per resource and metric.
 */
import { PayloadError } from '../../core/errors.js';
import { AttributeInterner, NO_ATTRIBUTES, type Attributes } from './attribute-sets.js';

export type { Attributes } from './attribute-sets.js';

export type NumberKind = 'gauge' | 'sum';

export class OtlpNumberPoint {
  constructor(
    /** Path of the metric's gauge or sum, e.g. `resourceMetrics[0].scopeMetrics[0].metrics[2].sum`. */
    readonly at: string,
    readonly index: number,
    readonly resource: Attributes,
    readonly metric: string,
    readonly kind: NumberKind,
    /** 0 unspecified, 1 delta, 2 cumulative (sums only; 0 for gauges). Set after the points by the JSON reader (it follows them on the wire). */
    public temporality: number,
    public monotonic: boolean,
    /** Attribute values as strings: devices disagree on `tc` being stringValue or intValue. */
    readonly attributes: Attributes,
    readonly time_ms: number,
    readonly start_ms: number | undefined,
    readonly value: number,
  ) {}

  /** JSON path of the data point, for messages. */
  get path(): string {
    return `${this.at}.dataPoints[${this.index}]`;
  }
}

export class OtlpHistogramPoint {
  constructor(
    readonly at: string,
    readonly index: number,
    readonly resource: Attributes,
    readonly metric: string,
    /** 1 delta (Cumulus default), 2 cumulative, 0 unspecified. */
    readonly temporality: number,
    readonly attributes: Attributes,
    readonly time_ms: number,
    readonly start_ms: number | undefined,
    /** Upper bounds of the buckets but the last (which is unbounded). */
    readonly bounds: number[],
    /** bounds.length + 1 counts. */
    readonly counts: number[],
  ) {}

  get path(): string {
    return `${this.at}.dataPoints[${this.index}]`;
  }
}

export interface FlattenedMetrics {
  points: OtlpNumberPoint[];
  histograms: OtlpHistogramPoint[];
  /** Data points of kinds we do not normalise (exponential histograms, summaries) or with no recorded value. */
  skipped: number;
}

/** Data point flag bit 0: NO_RECORDED_VALUE (the series went stale). */
export const FLAG_NO_RECORDED_VALUE = 1;

/**
 * Checks shared by both encodings once a histogram point is decoded; returns false when it
 * is to be skipped (no recorded value, no buckets).
 */
export function checkHistogram(at: string, index: number, flags: number, bounds: readonly number[], counts: readonly number[]): boolean {
  const path = () => `${at}.dataPoints[${index}]`;
  if (flags & FLAG_NO_RECORDED_VALUE || counts.length === 0) return false;
  if (counts.length !== bounds.length + 1) {
    throw new PayloadError(`has ${counts.length} buckets for ${bounds.length} explicitBounds (expected ${bounds.length + 1})`, `${path()}.bucketCounts`);
  }
  for (let j = 1; j < bounds.length; j++) {
    if (!(bounds[j]! > bounds[j - 1]!)) throw new PayloadError('must be strictly increasing', `${path()}.explicitBounds[${j}]`);
  }
  return true;
}

type Obj = Record<string, unknown>;

const jsonAttributes = new AttributeInterner();

/** OTLP/JSON ExportMetricsServiceRequest (parsed) → flattened, validated data points. */
export function flattenOtlpMetrics(body: unknown): FlattenedMetrics {
  const out: FlattenedMetrics = { points: [], histograms: [], skipped: 0 };
  const root = object(body, '');
  const rms = array(root.resourceMetrics, 'resourceMetrics');
  for (let i = 0; i < rms.length; i++) {
    const rmPath = `resourceMetrics[${i}]`;
    const rm = object(rms[i], rmPath);
    const resource = rm.resource === undefined ? {} : object(rm.resource, `${rmPath}.resource`);
    const resourceAttrs = attributes(resource.attributes, `${rmPath}.resource.attributes`);
    const sms = array(rm.scopeMetrics, `${rmPath}.scopeMetrics`);
    for (let j = 0; j < sms.length; j++) {
      const smPath = `${rmPath}.scopeMetrics[${j}]`;
      const sm = object(sms[j], smPath);
      const metrics = array(sm.metrics, `${smPath}.metrics`);
      for (let k = 0; k < metrics.length; k++) flattenMetric(metrics[k], `${smPath}.metrics[${k}]`, resourceAttrs, out);
    }
  }
  return out;
}

/** One metric of a parsed request (also the JSON reader's general path for kinds it does not read itself). */
export function flattenMetric(raw: unknown, mPath: string, resource: Attributes, out: FlattenedMetrics): void {
  const m = object(raw, mPath);
  const name = m.name;
  if (typeof name !== 'string' || name === '') throw new PayloadError('missing or not a string', `${mPath}.name`);
  if (m.gauge !== undefined && m.gauge !== null) {
    const at = `${mPath}.gauge`;
    numberPoints(object(m.gauge, at).dataPoints, at, resource, name, 'gauge', 0, false, out);
  } else if (m.sum !== undefined && m.sum !== null) {
    const at = `${mPath}.sum`;
    const s = object(m.sum, at);
    const temporality = s.aggregationTemporality === undefined ? 0 : enumValue(s.aggregationTemporality, `${at}.aggregationTemporality`);
    if (s.isMonotonic !== undefined && typeof s.isMonotonic !== 'boolean') throw new PayloadError('not a boolean', `${at}.isMonotonic`);
    numberPoints(s.dataPoints, at, resource, name, 'sum', temporality, s.isMonotonic === true, out);
  } else if (m.histogram !== undefined && m.histogram !== null) {
    const at = `${mPath}.histogram`;
    const h = object(m.histogram, at);
    const temporality = h.aggregationTemporality === undefined ? 0 : enumValue(h.aggregationTemporality, `${at}.aggregationTemporality`);
    histogramPoints(h.dataPoints, at, resource, name, temporality, out);
  } else {
    for (const kind of ['exponentialHistogram', 'summary']) {
      const h = m[kind];
      if (h === undefined || h === null) continue;
      out.skipped += array(object(h, `${mPath}.${kind}`).dataPoints, `${mPath}.${kind}.dataPoints`).length;
    }
  }
}

/** Validates number data points and appends each recorded one to `out.points`. */
function numberPoints(
  raw: unknown, at: string, resource: Attributes, metric: string, kind: NumberKind, temporality: number, monotonic: boolean, out: FlattenedMetrics,
): void {
  const dps = array(raw, `${at}.dataPoints`);
  const points = out.points;
  for (let i = 0; i < dps.length; i++) {
    const dp = dps[i] as Obj;
    if (dp === null || typeof dp !== 'object' || Array.isArray(dp)) throw new PayloadError('not an object', pointPath(at, i));
    const flags = dp.flags === undefined ? 0 : uint(dp.flags, `${pointPath(at, i)}.flags`);
    const time = dp.timeUnixNano;
    if (time === undefined) throw new PayloadError('missing', `${pointPath(at, i)}.timeUnixNano`);
    const time_ms = nanosToMs(time, at, i, 'timeUnixNano');
    if (time_ms === 0) throw new PayloadError('must be a positive time in nanoseconds', `${pointPath(at, i)}.timeUnixNano`);
    const start = dp.startTimeUnixNano;
    const start_ms = start === undefined ? 0 : nanosToMs(start, at, i, 'startTimeUnixNano');
    let value: number;
    const asDouble = dp.asDouble;
    const asInt = dp.asInt;
    if (typeof asDouble === 'number') value = asDouble;
    else if (asDouble !== undefined && asDouble !== null) value = double(asDouble, `${pointPath(at, i)}.asDouble`);
    else if (asInt !== undefined && asInt !== null) value = int64ToNumber(asInt, at, i);
    else if (flags & FLAG_NO_RECORDED_VALUE) {
      out.skipped++;
      continue;
    } else throw new PayloadError('no value: expected asDouble or asInt', pointPath(at, i));
    const attrs = pointAttributes(dp.attributes, at, i);
    if (flags & FLAG_NO_RECORDED_VALUE || !Number.isFinite(value)) {
      out.skipped++;
      continue;
    }
    points.push(new OtlpNumberPoint(at, i, resource, metric, kind, temporality, monotonic, attrs, time_ms, start_ms > 0 ? start_ms : undefined, value));
  }
}

function pointPath(at: string, i: number): string {
  return `${at}.dataPoints[${i}]`;
}

/**
 * A data point's attribute list → its interned map. The interning key is the list's keys and
 * string values as sent; lists with other value kinds (rare) are converted every time.
 */
function pointAttributes(raw: unknown, at: string, i: number): Attributes {
  if (raw === undefined || raw === null) return NO_ATTRIBUTES;
  if (!Array.isArray(raw)) throw new PayloadError('not an array', `${pointPath(at, i)}.attributes`);
  let key = '';
  for (let j = 0; j < raw.length; j++) {
    const kv = raw[j] as { key?: unknown; value?: { stringValue?: unknown; intValue?: unknown } } | null;
    const v = typeof kv === 'object' && kv !== null && typeof kv.key === 'string' ? kv.value : undefined;
    if (typeof v !== 'object' || v === null) return attributes(raw, `${pointPath(at, i)}.attributes`);
    const s = v.stringValue;
    if (typeof s === 'string') key += `${kv!.key as string}\u0000s${s}\u0001`;
    else if (s === undefined && (typeof v.intValue === 'string' || typeof v.intValue === 'number')) key += `${kv!.key as string}\u0000i${v.intValue}\u0001`;
    else return attributes(raw, `${pointPath(at, i)}.attributes`);
  }
  return jsonAttributes.get(key) ?? jsonAttributes.add(key, attributes(raw, `${pointPath(at, i)}.attributes`));
}

const DIGITS = /^\d{1,20}$/;
const SIGNED_DIGITS = /^-?\d{1,20}$/;

/** fixed64 nanoseconds (decimal string or number) → whole milliseconds, without BigInt. */
function nanosToMs(v: unknown, at: string, i: number, field: string): number {
  if (typeof v === 'string' && DIGITS.test(v)) {
    if (v.length === 20 && v > '18446744073709551615') throw new PayloadError('not an unsigned 64-bit integer', `${pointPath(at, i)}.${field}`);
    return v.length > 6 ? Number(v.slice(0, v.length - 6)) : 0;
  }
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return Math.floor(v / 1_000_000);
  throw new PayloadError('not an integer', `${pointPath(at, i)}.${field}`);
}

/** int64 (decimal string or number) → number (exact below 2^53, which counters stay under). */
function int64ToNumber(v: unknown, at: string, i: number): number {
  if (typeof v === 'string' && SIGNED_DIGITS.test(v)) return Number(v);
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw new PayloadError('not an integer', `${pointPath(at, i)}.asInt`);
}

/** Validates explicit-bucket histogram points; `count`/`sum` may be absent (Cumulus omits them). */
function histogramPoints(raw: unknown, at: string, resource: Attributes, metric: string, temporality: number, out: FlattenedMetrics): void {
  const dps = array(raw, `${at}.dataPoints`);
  for (let i = 0; i < dps.length; i++) {
    const p = pointPath(at, i);
    const dp = object(dps[i], p);
    const flags = dp.flags === undefined ? 0 : uint(dp.flags, `${p}.flags`);
    if (dp.timeUnixNano === undefined) throw new PayloadError('missing', `${p}.timeUnixNano`);
    const time_ms = nanosToMs(dp.timeUnixNano, at, i, 'timeUnixNano');
    if (time_ms === 0 && unsigned64(dp.timeUnixNano, `${p}.timeUnixNano`) === 0n) {
      throw new PayloadError('must be a positive time in nanoseconds', `${p}.timeUnixNano`);
    }
    const start_ms = dp.startTimeUnixNano === undefined ? 0 : nanosToMs(dp.startTimeUnixNano, at, i, 'startTimeUnixNano');
    const bounds = array(dp.explicitBounds, `${p}.explicitBounds`).map((b, j) => double(b, `${p}.explicitBounds[${j}]`));
    const counts = array(dp.bucketCounts, `${p}.bucketCounts`).map((c, j) => Number(unsigned64(c, `${p}.bucketCounts[${j}]`)));
    const attrs = attributes(dp.attributes, `${p}.attributes`);
    if (!checkHistogram(at, i, flags, bounds, counts)) {
      out.skipped++;
      continue;
    }
    out.histograms.push(new OtlpHistogramPoint(at, i, resource, metric, temporality, attrs, time_ms, start_ms > 0 ? start_ms : undefined, bounds, counts));
  }
}

/** An OTLP/JSON KeyValue list → attribute map, validated. */
export function attributes(raw: unknown, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  const list = array(raw, path);
  for (let i = 0; i < list.length; i++) {
    const p = `${path}[${i}]`;
    const kv = object(list[i], p);
    if (typeof kv.key !== 'string') throw new PayloadError('missing or not a string', `${p}.key`);
    out[kv.key] = kv.value === undefined || kv.value === null ? '' : anyValue(kv.value, `${p}.value`);
  }
  return out;
}

/** AnyValue → string (attributes are labels to us; nested values keep their JSON form). */
function anyValue(raw: unknown, path: string): string {
  const v = object(raw, path);
  if (v.stringValue !== undefined) {
    if (typeof v.stringValue !== 'string') throw new PayloadError('not a string', `${path}.stringValue`);
    return v.stringValue;
  }
  if (v.intValue !== undefined) return signed64(v.intValue, `${path}.intValue`).toString();
  if (v.boolValue !== undefined) {
    if (typeof v.boolValue !== 'boolean') throw new PayloadError('not a boolean', `${path}.boolValue`);
    return String(v.boolValue);
  }
  if (v.doubleValue !== undefined) return String(double(v.doubleValue, `${path}.doubleValue`));
  if (v.bytesValue !== undefined) return String(v.bytesValue);
  if (v.arrayValue !== undefined || v.kvlistValue !== undefined) return JSON.stringify(v.arrayValue ?? v.kvlistValue);
  return '';
}

function object(v: unknown, path: string): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new PayloadError('not an object', path || 'body');
  return v as Obj;
}

/** Repeated fields: absent means empty, as in proto3. */
function array(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new PayloadError('not an array', path);
  return v;
}

function unsigned64(v: unknown, path: string): bigint {
  if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v);
  throw new PayloadError('not an integer', path);
}

function signed64(v: unknown, path: string): bigint {
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw new PayloadError('not an integer', path);
}

function uint(v: unknown, path: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  throw new PayloadError('not an integer', path);
}

function enumValue(v: unknown, path: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 2) return v;
  throw new PayloadError('not a valid enum value (0, 1 or 2)', path);
}

/** Doubles are JSON numbers; proto3 JSON also allows "NaN", "Infinity", "-Infinity". */
function double(v: unknown, path: string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw new PayloadError('not a number', path);
}
