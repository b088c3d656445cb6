/**
 * OTLP/protobuf ExportMetricsServiceRequest → flattened data points, by walking the wire
 * format straight into OtlpNumberPoint / OtlpHistogramPoint (no intermediate message tree).
 * Field numbers are opentelemetry-proto's (collector/metrics/v1, metrics/v1, common/v1,
 * resource/v1). As proto3 requires, unknown fields, and known ones with an unexpected wire
 * type, are skipped by wire type (groups included); repeated scalars are read packed or not;
 * for a oneof or a repeated singular field the last one wins.
 *
 * Data point attribute lists are interned by their wire bytes (attribute-sets.ts): a switch
 * repeats the same lists every export, so they are decoded once. Errors are PayloadErrors
 * naming the field path in the OTLP/JSON spelling, as the JSON decoder does:
 * `resourceMetrics[0].scopeMetrics[0].metrics[2].sum.dataPoints[7].timeUnixNano: invalid protobuf: truncated`.
 *
 * The reader keeps its cursor in module state: decoding is synchronous, so calls never interleave.
 */
import { PayloadError } from '../../core/errors.js';
import { AttributeBytesTable, AttributeInterner, NO_ATTRIBUTES, type Attributes } from './attribute-sets.js';
import { checkHistogram, FLAG_NO_RECORDED_VALUE, OtlpHistogramPoint, OtlpNumberPoint, type FlattenedMetrics, type NumberKind } from './otlp-points.js';

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const I32 = 5;

const TWO_32 = 4294967296;

let buf: Buffer = Buffer.alloc(0);
let view: DataView = new DataView(new ArrayBuffer(0));
let pos = 0;

/** Attribute lists whose fields are not contiguous (rare), by their bytes as a string. */
const wireAttributes = new AttributeInterner();

const byBytes = new AttributeBytesTable();

/**
 * The data point being read, and a path placeholder standing for it: a point's path is only
 * spelled out when an error needs it (building it per field would cost more than the rest).
 */
let pointAt = '';
let pointIndex = 0;
const POINT = '\u0000';
const POINT_ATTRIBUTES = `${POINT}.attributes`;
const POINT_FLAGS = `${POINT}.flags`;

function wireError(message: string, path: string): PayloadError {
  return new PayloadError(message, path.charCodeAt(0) === 0 ? pointPath(pointAt, pointIndex) + path.slice(1) : path);
}

/** Decodes a protobuf ExportMetricsServiceRequest. Throws PayloadError naming the field. */
export function readMetricsRequest(body: Uint8Array): FlattenedMetrics {
  buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  pos = 0;
  const out: FlattenedMetrics = { points: [], histograms: [], skipped: 0 };
  try {
    const end = buf.length;
    let ri = 0;
    while (pos < end) {
      const tag = readVarint(end, 'body');
      if (tag === (1 << 3 | LEN)) {
        const len = readLength(end, `resourceMetrics[${ri}]`);
        resourceMetrics(pos + len, `resourceMetrics[${ri++}]`, out);
      } else skipField(tag, end, 'body');
    }
  } finally {
    // Do not keep the caller's buffer alive.
    buf = Buffer.alloc(0);
    view = new DataView(new ArrayBuffer(0));
  }
  return out;
}

function resourceMetrics(end: number, path: string, out: FlattenedMetrics): void {
  const start = pos;
  // The resource is needed before the scopes; encoders write it first, but need not.
  let resource: Attributes = NO_ATTRIBUTES;
  while (pos < end) {
    const tag = readVarint(end, path);
    if (tag === (1 << 3 | LEN)) {
      const len = readLength(end, `${path}.resource`);
      resource = resourceAttributes(pos + len, `${path}.resource`);
    } else skipField(tag, end, path);
  }
  pos = start;
  let si = 0;
  while (pos < end) {
    const tag = readVarint(end, path);
    if (tag === (2 << 3 | LEN)) {
      const smPath = `${path}.scopeMetrics[${si++}]`;
      const len = readLength(end, smPath);
      scopeMetrics(pos + len, smPath, resource, out);
    } else skipField(tag, end, path);
  }
}

function resourceAttributes(end: number, path: string): Attributes {
  const attrs: Record<string, string> = {};
  let i = 0;
  while (pos < end) {
    const tag = readVarint(end, path);
    if (tag === (1 << 3 | LEN)) {
      const kvPath = `${path}.attributes[${i++}]`;
      const len = readLength(end, kvPath);
      keyValue(pos + len, kvPath, attrs);
    } else skipField(tag, end, path);
  }
  return attrs;
}

function scopeMetrics(end: number, path: string, resource: Attributes, out: FlattenedMetrics): void {
  let mi = 0;
  while (pos < end) {
    const tag = readVarint(end, path);
    if (tag === (2 << 3 | LEN)) {
      const mPath = `${path}.metrics[${mi++}]`;
      const len = readLength(end, mPath);
      metric(pos + len, mPath, resource, out);
    } else skipField(tag, end, path);
  }
}

/** Metric data oneof field numbers. */
const GAUGE = 5;
const SUM = 7;
const HISTOGRAM = 9;
const EXPONENTIAL_HISTOGRAM = 10;
const SUMMARY = 11;

function metric(end: number, path: string, resource: Attributes, out: FlattenedMetrics): void {
  let name: string | undefined;
  let kind = 0;
  let dataStart = 0;
  let dataEnd = 0;
  while (pos < end) {
    const tag = readVarint(end, path);
    const field = tag >>> 3;
    if ((tag & 7) !== LEN || !(field === 1 || field === GAUGE || field === SUM || field === HISTOGRAM || field === EXPONENTIAL_HISTOGRAM || field === SUMMARY)) {
      skipField(tag, end, path);
      continue;
    }
    const len = readLength(end, `${path}.${METRIC_FIELD[field]}`);
    if (field === 1) name = buf.toString('utf8', pos, pos + len);
    else {
      kind = field;
      dataStart = pos;
      dataEnd = pos + len;
    }
    pos += len;
  }
  if (name === undefined || name === '') throw wireError('missing or not a string', `${path}.name`);
  if (kind === 0) return;
  pos = dataStart;
  const at = `${path}.${METRIC_FIELD[kind]}`;
  if (kind === GAUGE) numberPoints(dataEnd, at, resource, name, 'gauge', 0, false, out);
  else if (kind === SUM || kind === HISTOGRAM) {
    // Temporality and monotonicity follow the data points on the wire: read them first.
    let temporality = 0;
    let monotonic = false;
    while (pos < dataEnd) {
      const tag = readVarint(dataEnd, at);
      if (tag === (2 << 3 | VARINT)) temporality = readVarint(dataEnd, `${at}.aggregationTemporality`);
      else if (kind === SUM && tag === (3 << 3 | VARINT)) monotonic = readVarint(dataEnd, `${at}.isMonotonic`) !== 0;
      else skipField(tag, dataEnd, at);
    }
    if (temporality > 2) throw wireError('not a valid enum value (0, 1 or 2)', `${at}.aggregationTemporality`);
    pos = dataStart;
    if (kind === SUM) numberPoints(dataEnd, at, resource, name, 'sum', temporality, monotonic, out);
    else histogramPoints(dataEnd, at, resource, name, temporality, out);
  } else {
    // Exponential histograms and summaries: only counted.
    while (pos < dataEnd) {
      const tag = readVarint(dataEnd, at);
      if (tag === (1 << 3 | LEN)) out.skipped++;
      skipField(tag, dataEnd, at);
    }
  }
  pos = end;
}

const METRIC_FIELD: Record<number, string> = {
  1: 'name', [GAUGE]: 'gauge', [SUM]: 'sum', [HISTOGRAM]: 'histogram', [EXPONENTIAL_HISTOGRAM]: 'exponentialHistogram', [SUMMARY]: 'summary',
};

const NUMBER_POINT_FIELD: Record<number, string> = {
  2: 'startTimeUnixNano', 3: 'timeUnixNano', 4: 'asDouble', 6: 'asInt', 7: 'attributes', 8: 'flags',
};

/** The data points (field 1) of a Gauge or Sum. */
function numberPoints(
  end: number, at: string, resource: Attributes, name: string, kind: NumberKind, temporality: number, monotonic: boolean, out: FlattenedMetrics,
): void {
  let i = 0;
  while (pos < end) {
    const tag = readVarint(end, at);
    if (tag !== (1 << 3 | LEN)) {
      skipField(tag, end, at);
      continue;
    }
    const len = readLength(end, `${at}.dataPoints[${i}]`);
    const pointEnd = pos + len;
    numberPoint(pointEnd, at, i++, resource, name, kind, temporality, monotonic, out);
    pos = pointEnd;
  }
}

function numberPoint(
  end: number, at: string, i: number, resource: Attributes, name: string, kind: NumberKind, temporality: number, monotonic: boolean, out: FlattenedMetrics,
): void {
  const pointStart = pos;
  pointAt = at;
  pointIndex = i;
  let time_ms = -1;
  let start_ms = 0;
  let value = 0;
  let hasValue = false;
  let flags = 0;
  // Attribute fields as runs of wire bytes: the interning key.
  let keyHead = '';
  let runStart = -1;
  let runEnd = -1;
  while (pos < end) {
    const tagPos = pos;
    const tag = readVarint(end, POINT);
    switch (tag) {
      case 3 << 3 | I64:
        time_ms = fixed64Ms(end, at, i, 3);
        break;
      case 2 << 3 | I64:
        start_ms = fixed64Ms(end, at, i, 2);
        break;
      case 4 << 3 | I64:
        need(8, end, at, i, 4);
        value = view.getFloat64(pos, true);
        pos += 8;
        hasValue = true;
        break;
      case 6 << 3 | I64: {
        need(8, end, at, i, 6);
        value = view.getInt32(pos + 4, true) * TWO_32 + view.getUint32(pos, true);
        pos += 8;
        hasValue = true;
        break;
      }
      case 7 << 3 | LEN: {
        const len = readLength(end, POINT_ATTRIBUTES);
        if (runEnd !== tagPos) {
          if (runStart >= 0) keyHead += buf.toString('latin1', runStart, runEnd);
          runStart = tagPos;
        }
        pos += len;
        runEnd = pos;
        break;
      }
      case 8 << 3 | VARINT:
        flags = readVarint(end, POINT_FLAGS);
        break;
      default:
        skipField(tag, end, POINT);
    }
  }
  if (time_ms < 0) throw wireError('missing', `${pointPath(at, i)}.timeUnixNano`);
  if (time_ms === 0) throw wireError('must be a positive time in nanoseconds', `${pointPath(at, i)}.timeUnixNano`);
  if (!hasValue) {
    if (flags & FLAG_NO_RECORDED_VALUE) {
      out.skipped++;
      return;
    }
    throw wireError('no value: expected asDouble or asInt', pointPath(at, i));
  }
  const attrs = runStart < 0
    ? NO_ATTRIBUTES
    : keyHead === ''
      ? (byBytes.find(buf, runStart, runEnd) ?? byBytes.add(buf, runStart, runEnd, decodeAttributes(pointStart, end, 7, POINT)))
      : internAttributes(keyHead + buf.toString('latin1', runStart, runEnd), pointStart, end, 7, POINT);
  if (flags & FLAG_NO_RECORDED_VALUE || !Number.isFinite(value)) {
    out.skipped++;
    return;
  }
  out.points.push(new OtlpNumberPoint(at, i, resource, name, kind, temporality, monotonic, attrs, time_ms, start_ms > 0 ? start_ms : undefined, value));
}

const HISTOGRAM_POINT_FIELD: Record<number, string> = {
  2: 'startTimeUnixNano', 3: 'timeUnixNano', 4: 'count', 5: 'sum', 6: 'bucketCounts', 7: 'explicitBounds', 9: 'attributes', 10: 'flags', 11: 'min', 12: 'max',
};

function histogramPoints(end: number, at: string, resource: Attributes, name: string, temporality: number, out: FlattenedMetrics): void {
  let i = 0;
  while (pos < end) {
    const tag = readVarint(end, at);
    if (tag !== (1 << 3 | LEN)) {
      skipField(tag, end, at);
      continue;
    }
    const len = readLength(end, `${at}.dataPoints[${i}]`);
    const pointEnd = pos + len;
    histogramPoint(pointEnd, at, i++, resource, name, temporality, out);
    pos = pointEnd;
  }
}

function histogramPoint(end: number, at: string, i: number, resource: Attributes, name: string, temporality: number, out: FlattenedMetrics): void {
  const pointStart = pos;
  const path = pointPath(at, i);
  let time_ms = -1;
  let start_ms = 0;
  let flags = 0;
  let hasAttributes = false;
  const counts: number[] = [];
  const bounds: number[] = [];
  while (pos < end) {
    const tag = readVarint(end, path);
    switch (tag) {
      case 3 << 3 | I64:
        time_ms = fixed64Ms(end, at, i, 3, HISTOGRAM_POINT_FIELD);
        break;
      case 2 << 3 | I64:
        start_ms = fixed64Ms(end, at, i, 2, HISTOGRAM_POINT_FIELD);
        break;
      case 6 << 3 | I64: // bucket_counts, unpacked
      case 6 << 3 | LEN: // packed
        repeatedFixed64(tag, end, `${path}.bucketCounts`, counts, false);
        break;
      case 7 << 3 | I64:
      case 7 << 3 | LEN:
        repeatedFixed64(tag, end, `${path}.explicitBounds`, bounds, true);
        break;
      case 9 << 3 | LEN:
      {
        hasAttributes = true;
        const len = readLength(end, `${path}.attributes`); // before `pos +=`, which would read pos first
        pos += len;
        break;
      }
      case 10 << 3 | VARINT:
        flags = readVarint(end, `${path}.flags`);
        break;
      default:
        skipField(tag, end, path, HISTOGRAM_POINT_FIELD);
    }
  }
  if (time_ms < 0) throw wireError('missing', `${path}.timeUnixNano`);
  if (time_ms === 0) throw wireError('must be a positive time in nanoseconds', `${path}.timeUnixNano`);
  // Histograms are few: their attributes are decoded each time, not interned.
  const attrs = hasAttributes ? decodeAttributes(pointStart, end, 9, path) : NO_ATTRIBUTES;
  if (!checkHistogram(at, i, flags, bounds, counts)) {
    out.skipped++;
    return;
  }
  out.histograms.push(new OtlpHistogramPoint(at, i, resource, name, temporality, attrs, time_ms, start_ms > 0 ? start_ms : undefined, bounds, counts));
}

/** fixed64 or double values, one (unpacked) or a packed run. */
function repeatedFixed64(tag: number, end: number, path: string, into: number[], asDouble: boolean): void {
  let stop: number;
  if ((tag & 7) === LEN) {
    const len = readLength(end, path);
    if (len % 8 !== 0) throw wireError(`invalid protobuf: packed length ${len} is not a multiple of 8`, path);
    stop = pos + len;
  } else {
    if (pos + 8 > end) throw wireError('invalid protobuf: truncated', path);
    stop = pos + 8;
  }
  for (; pos < stop; pos += 8) {
    into.push(asDouble ? view.getFloat64(pos, true) : view.getUint32(pos + 4, true) * TWO_32 + view.getUint32(pos, true));
  }
}

/** An attribute list from its wire bytes: the interned map, decoding it only the first time. */
function internAttributes(key: string, start: number, end: number, field: number, path: string): Attributes {
  return wireAttributes.get(key) ?? wireAttributes.add(key, decodeAttributes(start, end, field, path));
}

/** Decodes every KeyValue field `field` of the message at [start, end). */
function decodeAttributes(start: number, end: number, field: number, path: string): Record<string, string> {
  const saved = pos;
  pos = start;
  const attrs: Record<string, string> = {};
  let j = 0;
  while (pos < end) {
    const tag = readVarint(end, path);
    if (tag === (field << 3 | LEN)) {
      const kvPath = `${path}.attributes[${j++}]`;
      const len = readLength(end, kvPath);
      keyValue(pos + len, kvPath, attrs);
    } else skipField(tag, end, path);
  }
  pos = saved;
  return attrs;
}

function keyValue(end: number, path: string, into: Record<string, string>): void {
  let key: string | undefined;
  let value = '';
  while (pos < end) {
    const tag = readVarint(end, path);
    if (tag === (1 << 3 | LEN)) {
      const len = readLength(end, `${path}.key`);
      key = buf.toString('utf8', pos, pos + len);
      pos += len;
    } else if (tag === (2 << 3 | LEN)) {
      const len = readLength(end, `${path}.value`);
      const stop = pos + len;
      value = anyValueString(stop, `${path}.value`);
      pos = stop;
    } else skipField(tag, end, path);
  }
  if (key === undefined) throw wireError('missing or not a string', `${path}.key`);
  into[key] = value;
}

/** AnyValue → string, as the JSON decoder renders it (nested values keep their OTLP/JSON form). */
function anyValueString(end: number, path: string): string {
  const v = anyValueJson(end, path);
  if (v.stringValue !== undefined) return v.stringValue as string;
  if (v.intValue !== undefined) return v.intValue as string;
  if (v.boolValue !== undefined) return String(v.boolValue);
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  if (v.bytesValue !== undefined) return v.bytesValue as string;
  if (v.arrayValue !== undefined || v.kvlistValue !== undefined) return JSON.stringify(v.arrayValue ?? v.kvlistValue);
  return '';
}

/** AnyValue in its OTLP/JSON shape (int64 as a decimal string, bytes as base64); the last oneof field wins. */
function anyValueJson(end: number, path: string): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  while (pos < end) {
    const tag = readVarint(end, path);
    switch (tag) {
      case 1 << 3 | LEN: {
        const len = readLength(end, `${path}.stringValue`);
        v = { stringValue: buf.toString('utf8', pos, pos + len) };
        pos += len;
        break;
      }
      case 2 << 3 | VARINT:
        v = { boolValue: readVarint(end, `${path}.boolValue`) !== 0 };
        break;
      case 3 << 3 | VARINT:
        v = { intValue: readVarint64(end, `${path}.intValue`).toString() };
        break;
      case 4 << 3 | I64:
        if (pos + 8 > end) throw wireError('invalid protobuf: truncated', `${path}.doubleValue`);
        v = { doubleValue: view.getFloat64(pos, true) };
        pos += 8;
        break;
      case 5 << 3 | LEN:
      case 6 << 3 | LEN: {
        const isArray = tag >>> 3 === 5;
        const p = `${path}.${isArray ? 'arrayValue' : 'kvlistValue'}`;
        const len = readLength(end, p);
        const stop = pos + len;
        const values: unknown[] = [];
        while (pos < stop) {
          const t = readVarint(stop, p);
          if (t !== (1 << 3 | LEN)) {
            skipField(t, stop, p);
            continue;
          }
          const vp = `${p}.values[${values.length}]`;
          const l = readLength(stop, vp);
          const s = pos + l;
          if (isArray) values.push(anyValueJson(s, vp));
          else {
            const kv: Record<string, string> = {};
            keyValue(s, vp, kv);
            const [k] = Object.keys(kv);
            values.push({ key: k, value: kv[k!] });
          }
          pos = s;
        }
        v = isArray ? { arrayValue: { values } } : { kvlistValue: { values } };
        break;
      }
      case 7 << 3 | LEN: {
        const len = readLength(end, `${path}.bytesValue`);
        v = { bytesValue: buf.toString('base64', pos, pos + len) };
        pos += len;
        break;
      }
      default:
        skipField(tag, end, path);
    }
  }
  return v;
}

function pointPath(at: string, i: number): string {
  return `${at}.dataPoints[${i}]`;
}

function fieldPath(at: string, i: number, field: number, names: Record<number, string> = NUMBER_POINT_FIELD): string {
  return `${pointPath(at, i)}.${names[field] ?? `field ${field}`}`;
}

function need(n: number, end: number, at: string, i: number, field: number, names?: Record<number, string>): void {
  if (pos + n > end) throw wireError('invalid protobuf: truncated', fieldPath(at, i, field, names));
}

/** fixed64 nanoseconds → whole milliseconds, exactly, without BigInt: 2^32 ns = 4294 ms + 967296 ns. */
function fixed64Ms(end: number, at: string, i: number, field: number, names?: Record<number, string>): number {
  need(8, end, at, i, field, names);
  const lo = view.getUint32(pos, true);
  const hi = view.getUint32(pos + 4, true);
  pos += 8;
  if (hi === 0 && lo === 0) return 0;
  return hi * 4294 + Math.floor((hi * 967296 + lo) / 1_000_000);
}

/** A length prefix, checked against the enclosing message's end. */
function readLength(end: number, path: string): number {
  const len = readVarint(end, path);
  if (len > end - pos) throw wireError(`invalid protobuf: truncated (length ${len}, ${end - pos} bytes left)`, path);
  return len;
}

/** A varint of up to 64 bits as a number (exact below 2^53: tags, lengths, enums, flags). */
function readVarint(end: number, path: string): number {
  if (pos < end) {
    const b = buf[pos]!;
    if (b < 0x80) {
      pos++;
      return b;
    }
  }
  let result = 0;
  let scale = 1;
  for (let n = 0; n < 10; n++) {
    if (pos >= end) throw wireError('invalid protobuf: truncated varint', path);
    const b = buf[pos++]!;
    result += (b & 0x7f) * scale;
    if (b < 0x80) return result;
    scale *= 128;
  }
  throw wireError('invalid protobuf: varint longer than 10 bytes', path);
}

/** An int64 varint exactly (negative numbers are 10-byte two's complement). */
function readVarint64(end: number, path: string): bigint {
  let result = 0n;
  for (let n = 0; n < 10; n++) {
    if (pos >= end) throw wireError('invalid protobuf: truncated varint', path);
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << BigInt(7 * n);
    if (b < 0x80) return BigInt.asIntN(64, result);
  }
  throw wireError('invalid protobuf: varint longer than 10 bytes', path);
}

/** Skips a field by its wire type. */
function skipField(tag: number, end: number, path: string, names?: Record<number, string>): void {
  const field = Math.floor(tag / 8);
  const where = names?.[field] ? `${path}.${names[field]}` : path;
  if (field === 0) throw wireError('invalid protobuf: field number 0', where);
  switch (tag & 7) {
    case VARINT:
      readVarint(end, where);
      return;
    case I64:
      if (pos + 8 > end) throw wireError('invalid protobuf: truncated', where);
      pos += 8;
      return;
    case LEN: {
      const len = readLength(end, where);
      pos += len;
      return;
    }
    case I32:
      if (pos + 4 > end) throw wireError('invalid protobuf: truncated', where);
      pos += 4;
      return;
    case START_GROUP:
      for (;;) {
        if (pos >= end) throw wireError(`invalid protobuf: group ${field} not closed`, where);
        const t = readVarint(end, where);
        if ((t & 7) === END_GROUP) {
          if (Math.floor(t / 8) !== field) throw wireError(`invalid protobuf: group ${field} closed as ${Math.floor(t / 8)}`, where);
          return;
        }
        skipField(t, end, where);
      }
    default:
      throw wireError(`invalid protobuf: wire type ${tag & 7} of field ${field}`, where);
  }
}
