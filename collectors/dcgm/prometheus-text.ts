/**
 * Prometheus text exposition format (0.0.4), as dcgm-exporter serves it:
 *
 *   # HELP DCGM_FI_DEV_SM_CLOCK SM clock frequency (in MHz).
 *   # TYPE DCGM_FI_DEV_SM_CLOCK gauge
 *   DCGM_FI_DEV_SM_CLOCK{gpu="0",UUID="GPU-…",Hostname="node-0"} 1410 1767225600000
 *
 * Label values may escape `\\`, `\"` and `\n`; values may be NaN, +Inf, -Inf; the trailing
 * timestamp (epoch ms) is optional. A bad line is reported with its line number and the
 * rest of the text is still parsed, so one odd series does not blank a whole GPU.
 */
import { PayloadError } from '../../core/errors.js';

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Epoch ms, when the line carries one. */
  timestamp_ms?: number;
  line: number;
}

export interface PromFamily {
  type?: string;
  help?: string;
}

export interface PromParseResult {
  samples: PromSample[];
  families: Map<string, PromFamily>;
  errors: PayloadError[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped', 'info', 'stateset', 'gaugehistogram', 'unknown']);

/** Label sets by their `{…}` text as sent: a scrape repeats each GPU's label set on every metric. */
const labelSets = new Map<string, Readonly<Record<string, string>>>();
const LABEL_SET_LIMIT = 65_536;

/**
 * Lenient parse: every good line is kept, every bad one becomes an error naming its line.
 * Hot path: one pass over the text by char codes; a sample line of the usual shape
 * (`name{labels} value[ timestamp]`) is read in place, its label set looked up by its text;
 * anything else (comments, odd spacing, errors) goes through the general line parser.
 */
export function parsePrometheusText(text: string, source = 'metrics'): PromParseResult {
  const result: PromParseResult = { samples: [], families: new Map(), errors: [] };
  let lineNo = 0;
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    const next = end + 1;
    if (end > start && text.charCodeAt(end - 1) === CR) end--;
    const sample = end > start ? fastSample(text, start, end, lineNo) : undefined;
    if (sample) result.samples.push(sample);
    else if (end > start) {
      try {
        parseLine(text.slice(start, end), lineNo, result);
      } catch (e) {
        if (e instanceof PayloadError) result.errors.push(e);
        else throw e;
      }
    }
    start = next;
  }
  return result;

  function parseLine(line: string, lineNo: number, out: PromParseResult): void {
    const where = `${source} line ${lineNo}`;
    const trimmed = line.trim();
    if (trimmed === '') return;
    if (trimmed.startsWith('#')) {
      const m = /^#\s*(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(trimmed);
      if (!m) return; // a plain comment
      const [, kind, name, rest = ''] = m;
      if (!METRIC_NAME.test(name!) || METRIC_NAME.exec(name!)![0] !== name) throw new PayloadError(`invalid metric name "${name}"`, where);
      const fam = out.families.get(name!) ?? {};
      if (kind === 'TYPE') {
        const t = rest.trim().toLowerCase();
        if (!TYPES.has(t)) throw new PayloadError(`unknown metric type "${rest.trim()}"`, where);
        fam.type = t;
      } else fam.help = unescapeHelp(rest);
      out.families.set(name!, fam);
      return;
    }
    const sample = parseSample(trimmed, lineNo, where);
    if (sample.labels !== NO_LABELS) Object.freeze(sample.labels);
    out.samples.push(sample);
  }
}

const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/** A sample line of the usual shape, read in place; undefined sends the line to the general parser. */
function fastSample(text: string, start: number, end: number, line: number): PromSample | undefined {
  let i = start;
  let c = text.charCodeAt(i);
  if (!(isAlpha(c) || c === 95 || c === 58)) return undefined; // [a-zA-Z_:]
  while (++i < end && isNameChar(text.charCodeAt(i)));
  const name = text.slice(start, i);
  let labels = NO_LABELS;
  if (text.charCodeAt(i) === OPEN_BRACE) {
    const open = i;
    for (i++; i < end; i++) {
      c = text.charCodeAt(i);
      if (c === CLOSE_BRACE) break;
      if (c !== QUOTE) continue;
      // A quoted value: skip to its closing quote, over escapes.
      for (i++; i < end; i++) {
        c = text.charCodeAt(i);
        if (c === BACKSLASH) i++;
        else if (c === QUOTE) break;
      }
    }
    if (i >= end) return undefined;
    i++;
    const block = text.slice(open, i);
    const cached = labelSets.get(block);
    if (cached) labels = cached;
    else {
      // Parsed by the general parser the first time, so its errors and escapes apply.
      let parsed: PromSample;
      try {
        parsed = parseSample(name + block + ' 0', line, '');
      } catch {
        return undefined;
      }
      if (labelSets.size >= LABEL_SET_LIMIT) labelSets.clear();
      labels = Object.freeze(parsed.labels);
      // Kept as a copy: a slice would keep the whole scrape text alive as long as the cache.
      labelSets.set(Buffer.from(block).toString(), labels);
    }
  }
  if (text.charCodeAt(i) !== SPACE) return undefined;
  const valueStart = ++i;
  while (i < end && text.charCodeAt(i) !== SPACE) i++;
  const value = parseValue(text.slice(valueStart, i));
  if (value === undefined || i === valueStart) return undefined;
  if (i === end) return { name, labels, value, timestamp_ms: undefined, line };
  const tsStart = ++i;
  let negative = false;
  if (text.charCodeAt(i) === 45) {
    negative = true;
    i++;
  }
  let ts = 0;
  for (; i < end; i++) {
    c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    ts = ts * 10 + c;
  }
  if (i === tsStart || (negative && i === tsStart + 1)) return undefined;
  return { name, labels, value, timestamp_ms: negative ? -ts : ts, line };
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isNameChar(c: number): boolean {
  return isAlpha(c) || (c >= 48 && c <= 57) || c === 95 || c === 58;
}

/** Strict parse: the first bad line throws. */
export function parsePrometheusTextStrict(text: string, source = 'metrics'): PromParseResult {
  const r = parsePrometheusText(text, source);
  if (r.errors.length > 0) throw r.errors[0]!;
  return r;
}

function parseSample(line: string, lineNo: number, where: string): PromSample {
  const nameMatch = METRIC_NAME.exec(line);
  if (!nameMatch) throw new PayloadError('expected a metric name', where);
  const name = nameMatch[0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  // Prometheus' own lexer tolerates blanks between the name and the label set.
  if (line[skipSpaces(line, pos)] === '{') pos = skipSpaces(line, pos);
  if (line[pos] === '{') {
    pos++;
    for (;;) {
      pos = skipSpaces(line, pos);
      if (line[pos] === '}') {
        pos++;
        break;
      }
      const ln = LABEL_NAME.exec(line.slice(pos));
      if (!ln) throw new PayloadError(`expected a label name at column ${pos + 1}`, where);
      const label = ln[0];
      pos = skipSpaces(line, pos + label.length);
      if (line[pos] !== '=') throw new PayloadError(`expected "=" after label ${label}`, where);
      pos = skipSpaces(line, pos + 1);
      if (line[pos] !== '"') throw new PayloadError(`expected a quoted value for label ${label}`, where);
      pos++;
      let value = '';
      for (;;) {
        const ch = line[pos];
        if (ch === undefined) throw new PayloadError(`unterminated value of label ${label}`, where);
        if (ch === '"') break;
        if (ch === '\\') {
          const next = line[pos + 1];
          if (next === 'n') value += '\n';
          else if (next === '\\' || next === '"') value += next;
          else throw new PayloadError(`invalid escape "\\${next ?? ''}" in label ${label}`, where);
          pos += 2;
        } else {
          value += ch;
          pos++;
        }
      }
      pos++;
      if (label in labels) throw new PayloadError(`duplicate label ${label}`, where);
      labels[label] = value;
      pos = skipSpaces(line, pos);
      if (line[pos] === ',') pos++;
      else if (line[pos] !== '}') throw new PayloadError(`expected "," or "}" after label ${label}`, where);
    }
  }
  const rest = line.slice(pos);
  if (rest !== '' && !/^[ \t]/.test(rest)) throw new PayloadError(`unexpected "${rest[0]}" after the metric name`, where);
  const fields = rest.trim().split(/[ \t]+/).filter(Boolean);
  if (fields.length === 0) throw new PayloadError(`no value for ${name}`, where);
  if (fields.length > 2) throw new PayloadError(`unexpected text after the timestamp: "${fields.slice(2).join(' ')}"`, where);
  const value = parseValue(fields[0]!);
  if (value === undefined) throw new PayloadError(`invalid value "${fields[0]}" for ${name}`, where);
  let timestamp_ms: number | undefined;
  if (fields[1] !== undefined) {
    if (!/^-?\d+$/.test(fields[1])) throw new PayloadError(`invalid timestamp "${fields[1]}" (epoch ms expected)`, where);
    timestamp_ms = Number(fields[1]);
  }
  return { name, labels, value, timestamp_ms, line: lineNo };
}

function parseValue(s: string): number | undefined {
  if (NUMBER.test(s)) return Number(s);
  switch (s.toLowerCase()) {
    case 'nan':
      return NaN;
    case '+inf':
    case 'inf':
      return Infinity;
    case '-inf':
      return -Infinity;
  }
  return undefined;
}

function skipSpaces(line: string, pos: number): number {
  while (line[pos] === ' ' || line[pos] === '\t') pos++;
  return pos;
}

function unescapeHelp(s: string): string {
  return s.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}
