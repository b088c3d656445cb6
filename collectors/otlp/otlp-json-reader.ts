/**
 * OTLP/JSON request bodies → flattened data points. Two paths with one result:
 *
 * - fast: the body's bytes are scanned once, in the shape every OTLP/JSON encoder writes
 *   (protojson and the OpenTelemetry JS serializer: `resource` before `scopeMetrics`, `name`
 *   before the data, plain strings and numbers), straight into OtlpNumberPoints; a data
 *   point's `attributes` array is interned by its raw text, so a switch's repeated attribute
 *   lists are parsed once. Histograms and other kinds go through the general decoder one
 *   metric at a time.
 * - general: JSON.parse and flattenOtlpMetrics. Anything the fast path does not expect
 *   (other field orders, escapes it does not decode itself, invalid input) sends the whole
 *   body here, which also gives every error its exact message and field path.
 */
import { PayloadError } from '../../core/errors.js';
import { AttributeBytesTable, NO_ATTRIBUTES, type Attributes } from './attribute-sets.js';
import { attributes, flattenMetric, flattenOtlpMetrics, FLAG_NO_RECORDED_VALUE, OtlpNumberPoint, type FlattenedMetrics, type NumberKind } from './otlp-points.js';

/** Decodes an OTLP/JSON ExportMetricsServiceRequest body. Throws PayloadError naming the field. */
export function readJsonMetricsRequest(body: Buffer): FlattenedMetrics {
  const fast = readFast(body);
  if (fast) return fast;
  let request: unknown;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new PayloadError(`not valid JSON: ${(e as Error).message}`, 'body');
  }
  return flattenOtlpMetrics(request);
}

/** The fast path gave up: the general path decides. */
class NotFast extends Error {}
const NOT_FAST = new NotFast();

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MAX_DEPTH = 64;

let buf: Buffer = Buffer.alloc(0);
let pos = 0;

const rawAttributes = new AttributeBytesTable();

function readFast(body: Buffer): FlattenedMetrics | undefined {
  buf = body;
  pos = 0;
  const out: FlattenedMetrics = { points: [], histograms: [], skipped: 0 };
  try {
    request(out);
    ws();
    if (pos !== buf.length) return undefined;
    return out;
  } catch (e) {
    // Errors (and their field paths) are the general path's to report.
    if (e instanceof NotFast || e instanceof PayloadError || e instanceof SyntaxError) return undefined;
    throw e;
  } finally {
    buf = Buffer.alloc(0);
  }
}

function request(out: FlattenedMetrics): void {
  objectStart();
  let seen = false;
  for (let more = firstKey(); more; more = nextKey()) {
    if (keyIs('resourceMetrics')) {
      // A repeated key: JSON.parse keeps the last one only.
      if (seen) throw NOT_FAST;
      seen = true;
      let i = 0;
      for (let more = arrayStart(); more; more = arrayNext()) resourceMetrics(`resourceMetrics[${i++}]`, out);
    } else skipValue(0);
  }
}

function resourceMetrics(path: string, out: FlattenedMetrics): void {
  objectStart();
  let resource: Attributes = NO_ATTRIBUTES;
  let scopesSeen = false;
  for (let more = firstKey(); more; more = nextKey()) {
    if (keyIs('resource')) {
      if (scopesSeen) throw NOT_FAST; // the points read so far had no resource
      resource = resourceAttributes();
    } else if (keyIs('scopeMetrics')) {
      if (scopesSeen) throw NOT_FAST;
      scopesSeen = true;
      let j = 0;
      for (let more = arrayStart(); more; more = arrayNext()) scopeMetrics(`${path}.scopeMetrics[${j++}]`, resource, out);
    } else skipValue(0);
  }
}

function resourceAttributes(): Attributes {
  let attrs: Attributes = NO_ATTRIBUTES;
  objectStart();
  for (let more = firstKey(); more; more = nextKey()) {
    if (keyIs('attributes')) attrs = attributes(parseRaw(), '');
    else skipValue(0);
  }
  return attrs;
}

function scopeMetrics(path: string, resource: Attributes, out: FlattenedMetrics): void {
  objectStart();
  let seen = false;
  for (let more = firstKey(); more; more = nextKey()) {
    if (keyIs('metrics')) {
      if (seen) throw NOT_FAST;
      seen = true;
      let k = 0;
      for (let more = arrayStart(); more; more = arrayNext()) metric(`${path}.metrics[${k++}]`, resource, out);
    } else skipValue(0);
  }
}

function metric(path: string, resource: Attributes, out: FlattenedMetrics): void {
  ws();
  const start = pos;
  objectStart();
  let name: string | undefined;
  let kinds = 0;
  for (let more = firstKey(); more; more = nextKey()) {
    if (keyIs('name')) {
      if (kinds > 0) throw NOT_FAST;
      ws();
      if (buf[pos] !== QUOTE) throw NOT_FAST;
      name = string();
    } else if (keyIs('gauge') || keyIs('sum')) {
      if (name === undefined || name === '' || kinds++ > 0) throw NOT_FAST;
      if (keyIs('gauge')) numberData(`${path}.gauge`, resource, name, 'gauge', out);
      else numberData(`${path}.sum`, resource, name, 'sum', out);
    } else if (keyIs('histogram') || keyIs('exponentialHistogram') || keyIs('summary')) {
      // Few points: the general decoder reads this metric, whole.
      if (kinds > 0) throw NOT_FAST;
      skipValue(0);
      while (nextKey()) skipValue(0);
      flattenMetric(JSON.parse(buf.toString('utf8', start, pos)), path, resource, out);
      return;
    } else skipValue(0);
  }
  if (name === undefined || name === '') throw NOT_FAST;
}

function numberData(at: string, resource: Attributes, name: string, kind: NumberKind, out: FlattenedMetrics): void {
  objectStart();
  const first = out.points.length;
  let temporality = 0;
  let monotonic = false;
  let seen = false;
  for (let more = firstKey(); more; more = nextKey()) {
    if (keyIs('dataPoints')) {
      if (seen) throw NOT_FAST;
      seen = true;
      let i = 0;
      for (let more = arrayStart(); more; more = arrayNext()) numberPoint(at, i++, resource, name, kind, out);
    } else if (kind === 'sum' && keyIs('aggregationTemporality')) {
      temporality = smallInteger();
      if (temporality > 2) throw NOT_FAST;
    } else if (kind === 'sum' && keyIs('isMonotonic')) {
      monotonic = boolean();
    } else skipValue(0);
  }
  // Temporality and monotonicity follow the points in the usual field order.
  if (temporality !== 0 || monotonic) {
    for (let n = first; n < out.points.length; n++) {
      out.points[n]!.temporality = temporality;
      out.points[n]!.monotonic = monotonic;
    }
  }
}

function numberPoint(at: string, i: number, resource: Attributes, name: string, kind: NumberKind, out: FlattenedMetrics): void {
  objectStart();
  let time_ms = -1;
  let start_ms = 0;
  let value = 0;
  let hasValue = false;
  let flags = 0;
  let attrs: Attributes = NO_ATTRIBUTES;
  for (let more = firstKey(); more; more = nextKey()) {
    if (keyIs('timeUnixNano')) time_ms = nanosToMs();
    else if (keyIs('startTimeUnixNano')) start_ms = nanosToMs();
    else if (keyIs('asDouble') || keyIs('asInt')) {
      // Both given: the general path prefers asDouble whatever the order.
      if (hasValue) throw NOT_FAST;
      value = keyIs('asInt') ? int64() : number();
      hasValue = true;
    } else if (keyIs('flags')) flags = smallInteger();
    else if (keyIs('attributes')) attrs = pointAttributes();
    else skipValue(0);
  }
  if (time_ms <= 0) throw NOT_FAST; // missing or zero: the general path names it
  if (!hasValue) {
    if (flags & FLAG_NO_RECORDED_VALUE) {
      out.skipped++;
      return;
    }
    throw NOT_FAST;
  }
  if (flags & FLAG_NO_RECORDED_VALUE || !Number.isFinite(value)) {
    out.skipped++;
    return;
  }
  out.points.push(new OtlpNumberPoint(at, i, resource, name, kind, 0, false, attrs, time_ms, start_ms > 0 ? start_ms : undefined, value));
}

/**
 * A data point's attribute list, interned by its bytes. A list seen before is found by one
 * bracket-matching scan and a compare: bytes identical to a list already checked and parsed
 * need neither again (the full check and JSON.parse cost more than the rest of the point).
 */
function pointAttributes(): Attributes {
  ws();
  const s = pos;
  const end = buf[s] === OPEN_ARRAY ? bracketedEnd(s) : -1;
  if (end > 0) {
    const known = rawAttributes.find(buf, s, end, scannedHash);
    if (known) {
      pos = end;
      return known;
    }
  }
  skipValue(0);
  if (end > 0 && pos !== end) throw NOT_FAST;
  return rawAttributes.add(buf, s, pos, attributes(JSON.parse(buf.toString('utf8', s, pos)), ''));
}

/** hashBytes (attribute-sets.ts) of what bracketedEnd last scanned, computed on the way. */
let scannedHash = 0;

/**
 * Just past the bracket closing the array or object opened at `s`, strings skipped, nothing
 * checked; -1 at the body's end. Leaves the bytes' FNV-1a hash in scannedHash (one pass, not two).
 */
function bracketedEnd(s: number): number {
  let depth = 0;
  let i = s;
  let h = 0x811c9dc5;
  for (;;) {
    const c = buf[i++];
    if (c === undefined) return -1;
    h = Math.imul(h ^ c, 16777619);
    if (c === QUOTE) {
      for (;;) {
        const d = buf[i++];
        if (d === undefined) return -1;
        h = Math.imul(h ^ d, 16777619);
        if (d === QUOTE) break;
        if (d === BACKSLASH) {
          const e = buf[i++];
          if (e === undefined) return -1;
          h = Math.imul(h ^ e, 16777619);
        }
      }
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) depth++;
    else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      if (--depth === 0) {
        scannedHash = h | 0;
        return i;
      }
    }
  }
}

/** fixed64 nanoseconds as a decimal string (or a safe integer) → whole milliseconds. */
function nanosToMs(): number {
  ws();
  if (buf[pos] !== QUOTE) {
    const n = number();
    if (!Number.isSafeInteger(n) || n < 0) throw NOT_FAST;
    return Math.floor(n / 1_000_000);
  }
  const s = ++pos;
  let c = buf[pos];
  while (c !== undefined && c >= 0x30 && c <= 0x39) c = buf[++pos];
  const len = pos - s;
  if (c !== QUOTE || len === 0 || len > 19) throw NOT_FAST; // 20 digits may exceed 2^64: the general path checks
  pos++;
  // All digits but the last six (the sub-millisecond part): at most 13, exact in a double.
  let ms = 0;
  for (let n = s; n < s + len - 6; n++) ms = ms * 10 + (buf[n]! - 0x30);
  return ms;
}

/** int64 as a decimal string or a JSON integer. */
function int64(): number {
  ws();
  if (buf[pos] !== QUOTE) {
    const n = number();
    if (!Number.isInteger(n)) throw NOT_FAST;
    return n;
  }
  const s = ++pos;
  if (buf[pos] === 0x2d) pos++;
  let c = buf[pos];
  while (c !== undefined && c >= 0x30 && c <= 0x39) c = buf[++pos];
  if (c !== QUOTE || pos === s || pos - s > 20) throw NOT_FAST;
  pos++;
  const n = Number(latin1(s, pos - 1));
  if (Number.isNaN(n)) throw NOT_FAST;
  return n;
}

function smallInteger(): number {
  const n = number();
  if (!Number.isInteger(n) || n < 0) throw NOT_FAST;
  return n;
}

function boolean(): boolean {
  ws();
  if (literal('true')) return true;
  if (literal('false')) return false;
  throw NOT_FAST;
}

/** A JSON number (the strict grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?). */
function number(): number {
  ws();
  const s = pos;
  let c = buf[pos];
  let negative = false;
  if (c === 0x2d) {
    negative = true;
    c = buf[++pos];
  }
  if (c === undefined || c < 0x30 || c > 0x39) throw NOT_FAST;
  let int = 0;
  if (c === 0x30) c = buf[++pos];
  else {
    while (c !== undefined && c >= 0x30 && c <= 0x39) {
      int = int * 10 + (c - 0x30);
      c = buf[++pos];
    }
  }
  if (c !== 0x2e && c !== 0x65 && c !== 0x45) {
    if (int > Number.MAX_SAFE_INTEGER) return Number(latin1(s, pos));
    return negative ? -int : int;
  }
  if (c === 0x2e) {
    const f = ++pos;
    c = buf[pos];
    while (c !== undefined && c >= 0x30 && c <= 0x39) c = buf[++pos];
    if (pos === f) throw NOT_FAST;
  }
  if (c === 0x65 || c === 0x45) {
    c = buf[++pos];
    if (c === 0x2b || c === 0x2d) c = buf[++pos];
    const e = pos;
    while (c !== undefined && c >= 0x30 && c <= 0x39) c = buf[++pos];
    if (pos === e) throw NOT_FAST;
  }
  return Number(latin1(s, pos));
}

/** A string of printable ASCII without escapes; anything else is the general path's. */
function string(): string {
  const s = ++pos;
  let c = buf[pos];
  while (c !== QUOTE) {
    if (c === undefined || c < 0x20 || c >= 0x80 || c === BACKSLASH) throw NOT_FAST;
    c = buf[++pos];
  }
  pos++;
  return latin1(s, pos - 1);
}

/** Skips any JSON value, checking it as JSON.parse would. */
function skipValue(depth: number): void {
  if (depth > MAX_DEPTH) throw NOT_FAST;
  ws();
  const c = buf[pos];
  if (c === QUOTE) skipString();
  else if (c === OPEN_OBJECT) {
    pos++;
    ws();
    if (buf[pos] === CLOSE_OBJECT) {
      pos++;
      return;
    }
    for (;;) {
      ws();
      if (buf[pos] !== QUOTE) throw NOT_FAST;
      skipString();
      ws();
      if (buf[pos++] !== COLON) throw NOT_FAST;
      skipValue(depth + 1);
      ws();
      const d = buf[pos++];
      if (d === CLOSE_OBJECT) return;
      if (d !== COMMA) throw NOT_FAST;
    }
  } else if (c === OPEN_ARRAY) {
    pos++;
    ws();
    if (buf[pos] === CLOSE_ARRAY) {
      pos++;
      return;
    }
    for (;;) {
      skipValue(depth + 1);
      ws();
      const d = buf[pos++];
      if (d === CLOSE_ARRAY) return;
      if (d !== COMMA) throw NOT_FAST;
    }
  } else if (c === 0x74) {
    if (!literal('true')) throw NOT_FAST;
  } else if (c === 0x66) {
    if (!literal('false')) throw NOT_FAST;
  } else if (c === 0x6e) {
    if (!literal('null')) throw NOT_FAST;
  } else number();
}

/** Skips a string, escapes included; raw control characters and bad escapes are refused. */
function skipString(): void {
  pos++;
  for (;;) {
    const c = buf[pos++];
    if (c === QUOTE) return;
    if (c === undefined || c < 0x20) throw NOT_FAST;
    if (c === BACKSLASH) {
      const e = buf[pos++];
      if (e === 0x75) {
        for (let n = 0; n < 4; n++) if (!isHex(buf[pos++])) throw NOT_FAST;
      } else if (!(e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74)) throw NOT_FAST;
    }
  }
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

/** A value taken whole: skipped, then parsed from its text. */
function parseRaw(): unknown {
  ws();
  const s = pos;
  skipValue(0);
  return JSON.parse(buf.toString('utf8', s, pos));
}

/** Buffer#latin1Slice: what toString('latin1') calls, without its argument checks (hot path). */
interface Latin1Buffer {
  latin1Slice(start: number, end: number): string;
}

function latin1(start: number, end: number): string {
  return (buf as unknown as Latin1Buffer).latin1Slice(start, end);
}

function literal(word: string): boolean {
  for (let n = 0; n < word.length; n++) if (buf[pos + n] !== word.charCodeAt(n)) return false;
  pos += word.length;
  return true;
}

function ws(): void {
  let c = buf[pos];
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = buf[++pos];
}

function objectStart(): void {
  ws();
  if (buf[pos++] !== OPEN_OBJECT) throw NOT_FAST;
}

/** The current key's bytes, [keyStart, keyEnd): keys are compared in place, not made into strings. */
let keyStart = 0;
let keyEnd = 0;

/** Reads the first key of an object just opened; false for `{}`. */
function firstKey(): boolean {
  ws();
  if (buf[pos] === CLOSE_OBJECT) {
    pos++;
    return false;
  }
  key();
  return true;
}

/** After a value: reads the next key; false at the object's end. */
function nextKey(): boolean {
  ws();
  const c = buf[pos++];
  if (c === CLOSE_OBJECT) return false;
  if (c !== COMMA) throw NOT_FAST;
  ws();
  key();
  return true;
}

function key(): void {
  if (buf[pos] !== QUOTE) throw NOT_FAST;
  keyStart = ++pos;
  let c = buf[pos];
  while (c !== QUOTE) {
    // Escaped or non-ASCII keys are none of ours, but must be compared decoded: the general path's.
    if (c === undefined || c < 0x20 || c >= 0x80 || c === BACKSLASH) throw NOT_FAST;
    c = buf[++pos];
  }
  keyEnd = pos++;
  ws();
  if (buf[pos++] !== COLON) throw NOT_FAST;
}

/** Whether the current key is `word` (ASCII). */
function keyIs(word: string): boolean {
  if (keyEnd - keyStart !== word.length) return false;
  for (let n = 0; n < word.length; n++) if (buf[keyStart + n] !== word.charCodeAt(n)) return false;
  return true;
}

/** Opens an array: true when it has a first element. `null` is an empty array, as in the general path. */
function arrayStart(): boolean {
  ws();
  if (literal('null')) return false;
  if (buf[pos++] !== OPEN_ARRAY) throw NOT_FAST;
  ws();
  if (buf[pos] === CLOSE_ARRAY) {
    pos++;
    return false;
  }
  return true;
}

/** After an element: true when another follows. */
function arrayNext(): boolean {
  ws();
  const c = buf[pos++];
  if (c === CLOSE_ARRAY) return false;
  if (c !== COMMA) throw NOT_FAST;
  return true;
}
