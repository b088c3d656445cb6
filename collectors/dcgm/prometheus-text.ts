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
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped', 'info', 'stateset', 'gaugehistogram', 'unknown']);

/** Lenient parse: every good line is kept, every bad one becomes an error naming its line. */
export function parsePrometheusText(text: string, source = 'metrics'): PromParseResult {
  const result: PromParseResult = { samples: [], families: new Map(), errors: [] };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.replace(/\r$/, '');
    try {
      parseLine(line, lineNo, result);
    } catch (e) {
      if (e instanceof PayloadError) result.errors.push(e);
      else throw e;
    }
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
    out.samples.push(parseSample(trimmed, lineNo, where));
  }
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
  switch (s.toLowerCase()) {
    case 'nan':
      return NaN;
    case '+inf':
    case 'inf':
      return Infinity;
    case '-inf':
      return -Infinity;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}

function skipSpaces(line: string, pos: number): number {
  while (line[pos] === ' ' || line[pos] === '\t') pos++;
  return pos;
}

function unescapeHelp(s: string): string {
  return s.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}
