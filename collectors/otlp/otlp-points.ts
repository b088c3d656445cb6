/**
 * Validates an OTLP ExportMetricsServiceRequest (the OTLP/JSON object shape; the protobuf
 * decoder produces the same shape) and flattens its gauge and sum data points. Errors are
 * PayloadErrors whose `where` is the JSON path of the offending field, so a sender can fix
 * it: `resourceMetrics[0].scopeMetrics[0].metrics[2].gauge.dataPoints[0].timeUnixNano`.
 *
 * Per the OTLP JSON mapping, 64-bit integers arrive as decimal strings (numbers accepted
 * too), enums as integers, unknown fields are ignored. Explicit-bucket histograms are
 * flattened too (switch buffer histograms estimate queue depth); exponential histograms and
 * summaries are validated only as far as being objects, and counted as skipped.
 */
import { PayloadError } from '../../core/errors.js';

export interface OtlpNumberPoint {
  /** JSON path of the data point, for messages. */
  path: string;
  resource: Record<string, string>;
  metric: string;
  kind: 'gauge' | 'sum';
  /** 0 unspecified, 1 delta, 2 cumulative (sums only; 0 for gauges). */
  temporality: number;
  monotonic: boolean;
  /** Attribute values as strings: devices disagree on `tc` being stringValue or intValue. */
  attributes: Record<string, string>;
  time_ms: number;
  start_ms?: number;
  value: number;
}

export interface OtlpHistogramPoint {
  path: string;
  resource: Record<string, string>;
  metric: string;
  /** 1 delta (Cumulus default), 2 cumulative, 0 unspecified. */
  temporality: number;
  attributes: Record<string, string>;
  time_ms: number;
  start_ms?: number;
  /** Upper bounds of the buckets but the last (which is unbounded). */
  bounds: number[];
  /** bounds.length + 1 counts. */
  counts: number[];
}

export interface FlattenedMetrics {
  points: OtlpNumberPoint[];
  histograms: OtlpHistogramPoint[];
  /** Data points of kinds we do not normalise (exponential histograms, summaries) or with no recorded value. */
  skipped: number;
}

/** Data point flag bit 0: NO_RECORDED_VALUE (the series went stale). */
const FLAG_NO_RECORDED_VALUE = 1;

type Obj = Record<string, unknown>;

export function flattenOtlpMetrics(body: unknown): FlattenedMetrics {
  const points: OtlpNumberPoint[] = [];
  const histograms: OtlpHistogramPoint[] = [];
  let skipped = 0;
  const root = object(body, '');
  array(root.resourceMetrics, 'resourceMetrics').forEach((rmRaw, i) => {
    const rmPath = `resourceMetrics[${i}]`;
    const rm = object(rmRaw, rmPath);
    const resource = rm.resource === undefined ? {} : object(rm.resource, `${rmPath}.resource`);
    const resourceAttrs = attributes(resource.attributes, `${rmPath}.resource.attributes`);
    array(rm.scopeMetrics, `${rmPath}.scopeMetrics`).forEach((smRaw, j) => {
      const smPath = `${rmPath}.scopeMetrics[${j}]`;
      const sm = object(smRaw, smPath);
      array(sm.metrics, `${smPath}.metrics`).forEach((mRaw, k) => {
        const mPath = `${smPath}.metrics[${k}]`;
        const m = object(mRaw, mPath);
        const name = m.name;
        if (typeof name !== 'string' || name === '') throw new PayloadError('missing or not a string', `${mPath}.name`);
        if (m.gauge !== undefined && m.gauge !== null) {
          const g = object(m.gauge, `${mPath}.gauge`);
          skipped += numberPoints(g.dataPoints, `${mPath}.gauge.dataPoints`, { resource: resourceAttrs, metric: name, kind: 'gauge', temporality: 0, monotonic: false }, points);
        } else if (m.sum !== undefined && m.sum !== null) {
          const s = object(m.sum, `${mPath}.sum`);
          const temporality = s.aggregationTemporality === undefined ? 0 : enumValue(s.aggregationTemporality, `${mPath}.sum.aggregationTemporality`);
          if (s.isMonotonic !== undefined && typeof s.isMonotonic !== 'boolean') {
            throw new PayloadError('not a boolean', `${mPath}.sum.isMonotonic`);
          }
          const monotonic = s.isMonotonic === true;
          skipped += numberPoints(s.dataPoints, `${mPath}.sum.dataPoints`, { resource: resourceAttrs, metric: name, kind: 'sum', temporality, monotonic }, points);
        } else if (m.histogram !== undefined && m.histogram !== null) {
          const h = object(m.histogram, `${mPath}.histogram`);
          const temporality = h.aggregationTemporality === undefined ? 0 : enumValue(h.aggregationTemporality, `${mPath}.histogram.aggregationTemporality`);
          skipped += histogramPoints(h.dataPoints, `${mPath}.histogram.dataPoints`, (p) =>
            histograms.push({ ...p, resource: resourceAttrs, metric: name, temporality }),
          );
        } else {
          for (const kind of ['exponentialHistogram', 'summary']) {
            const h = m[kind];
            if (h === undefined || h === null) continue;
            skipped += array(object(h, `${mPath}.${kind}`).dataPoints, `${mPath}.${kind}.dataPoints`).length;
          }
        }
      });
    });
  });
  return { points, histograms, skipped };
}

type PointContext = Pick<OtlpNumberPoint, 'resource' | 'metric' | 'kind' | 'temporality' | 'monotonic'>;

/**
 * Validates number data points and appends each recorded one to `out`; returns how many were
 * skipped. Hot path: each point is built as one object literal of a fixed shape (no spreads),
 * and times are converted without BigInt.
 */
function numberPoints(raw: unknown, path: string, ctx: PointContext, out: OtlpNumberPoint[]): number {
  let skipped = 0;
  const dps = array(raw, path);
  for (let i = 0; i < dps.length; i++) {
    const p = `${path}[${i}]`;
    const dp = object(dps[i], p);
    const flags = dp.flags === undefined ? 0 : uint(dp.flags, `${p}.flags`);
    if (dp.timeUnixNano === undefined) throw new PayloadError('missing', `${p}.timeUnixNano`);
    const time_ms = nanosToMs(dp.timeUnixNano, `${p}.timeUnixNano`);
    if (time_ms === 0) throw new PayloadError('must be a positive time in nanoseconds', `${p}.timeUnixNano`);
    const start_ms = dp.startTimeUnixNano === undefined ? 0 : nanosToMs(dp.startTimeUnixNano, `${p}.startTimeUnixNano`);
    let value: number;
    if (dp.asDouble !== undefined && dp.asDouble !== null) value = double(dp.asDouble, `${p}.asDouble`);
    else if (dp.asInt !== undefined && dp.asInt !== null) value = int64ToNumber(dp.asInt, `${p}.asInt`);
    else if (flags & FLAG_NO_RECORDED_VALUE) {
      skipped++;
      continue;
    } else throw new PayloadError('no value: expected asDouble or asInt', p);
    const attrs = attributes(dp.attributes, `${p}.attributes`);
    if (flags & FLAG_NO_RECORDED_VALUE || !Number.isFinite(value)) {
      skipped++;
      continue;
    }
    out.push({
      path: p,
      resource: ctx.resource,
      metric: ctx.metric,
      kind: ctx.kind,
      temporality: ctx.temporality,
      monotonic: ctx.monotonic,
      attributes: attrs,
      time_ms,
      start_ms: start_ms > 0 ? start_ms : undefined,
      value,
    });
  }
  return skipped;
}

const DIGITS = /^\d{1,20}$/;
const SIGNED_DIGITS = /^-?\d{1,20}$/;

/** fixed64 nanoseconds (decimal string or number) → whole milliseconds, without BigInt. */
function nanosToMs(v: unknown, path: string): number {
  if (typeof v === 'string' && DIGITS.test(v)) {
    if (v.length > 20 || (v.length === 20 && v > '18446744073709551615')) throw new PayloadError('not an unsigned 64-bit integer', path);
    return v.length > 6 ? Number(v.slice(0, v.length - 6)) : 0;
  }
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return Math.floor(v / 1_000_000);
  throw new PayloadError('not an integer', path);
}

/** int64 (decimal string or number) → number (exact below 2^53, which counters stay under). */
function int64ToNumber(v: unknown, path: string): number {
  if (typeof v === 'string' && SIGNED_DIGITS.test(v)) return Number(v);
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw new PayloadError('not an integer', path);
}

type HistogramCore = Pick<OtlpHistogramPoint, 'path' | 'attributes' | 'time_ms' | 'start_ms' | 'bounds' | 'counts'>;

/** Validates explicit-bucket histogram points; `count`/`sum` may be absent (Cumulus omits them). */
function histogramPoints(raw: unknown, path: string, emit: (p: HistogramCore) => void): number {
  let skipped = 0;
  array(raw, path).forEach((dpRaw, i) => {
    const p = `${path}[${i}]`;
    const dp = object(dpRaw, p);
    const flags = dp.flags === undefined ? 0 : uint(dp.flags, `${p}.flags`);
    if (dp.timeUnixNano === undefined) throw new PayloadError('missing', `${p}.timeUnixNano`);
    const timeNs = unsigned64(dp.timeUnixNano, `${p}.timeUnixNano`);
    if (timeNs === 0n) throw new PayloadError('must be a positive time in nanoseconds', `${p}.timeUnixNano`);
    const startNs = dp.startTimeUnixNano === undefined ? 0n : unsigned64(dp.startTimeUnixNano, `${p}.startTimeUnixNano`);
    const bounds = array(dp.explicitBounds, `${p}.explicitBounds`).map((b, j) => double(b, `${p}.explicitBounds[${j}]`));
    const counts = array(dp.bucketCounts, `${p}.bucketCounts`).map((c, j) => Number(unsigned64(c, `${p}.bucketCounts[${j}]`)));
    const attrs = attributes(dp.attributes, `${p}.attributes`);
    if (flags & FLAG_NO_RECORDED_VALUE || counts.length === 0) {
      skipped++;
      return;
    }
    if (counts.length !== bounds.length + 1) {
      throw new PayloadError(`has ${counts.length} buckets for ${bounds.length} explicitBounds (expected ${bounds.length + 1})`, `${p}.bucketCounts`);
    }
    for (let j = 1; j < bounds.length; j++) {
      if (!(bounds[j]! > bounds[j - 1]!)) throw new PayloadError('must be strictly increasing', `${p}.explicitBounds[${j}]`);
    }
    emit({
      path: p,
      attributes: attrs,
      time_ms: Number(timeNs / 1_000_000n),
      start_ms: startNs > 0n ? Number(startNs / 1_000_000n) : undefined,
      bounds,
      counts,
    });
  });
  return skipped;
}

function attributes(raw: unknown, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  array(raw, path).forEach((kvRaw, i) => {
    const p = `${path}[${i}]`;
    const kv = object(kvRaw, p);
    if (typeof kv.key !== 'string') throw new PayloadError('missing or not a string', `${p}.key`);
    out[kv.key] = kv.value === undefined || kv.value === null ? '' : anyValue(kv.value, `${p}.value`);
  });
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
