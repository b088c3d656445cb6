/**
 * NCCL Inspector (v4.0 JSON-lines output) → CollectiveEvent. One line is one record:
 * `header` (communicator), `metadata` (writer) and either `coll_perf` (a collective, which
 * we keep) or `p2p_perf` (a send/recv, skipped and counted). The Inspector prints NaN as
 * the string "nan"; numeric fields accept it and yield NaN, except where a value is needed
 * to place the event in time.
 *
 * Times: verbose records carry `event_trace_ts.coll_start_ts/coll_stop_ts` (epoch µs);
 * otherwise the collective is placed as ending at `dump_timestamp_us`, lasting its exec time.
 */
import { PayloadError } from '../../core/errors.js';
import type { CollectiveEvent } from '../../core/records.js';

export type InspectorRecord = { kind: 'collective'; event: CollectiveEvent } | { kind: 'p2p' };

export interface InspectorBatch {
  events: CollectiveEvent[];
  /** p2p_perf records: valid, not used. */
  p2p: number;
  /** Malformed lines, each error naming `<source> line N` and the field. */
  errors: PayloadError[];
  /** Non-blank lines seen. */
  lines: number;
}

type Obj = Record<string, unknown>;

/** Parses JSON-lines text; blank lines are skipped, bad lines are collected, not thrown. */
export function parseInspectorLines(text: string, source: string, firstLine = 1): InspectorBatch {
  const batch: InspectorBatch = { events: [], p2p: 0, errors: [], lines: 0 };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    batch.lines++;
    // The line's place is named only when it is bad: building it for every good line cost as much as parsing.
    const where = new LineRef(source, firstLine + i);
    try {
      const r = parseInspectorLine(line, where);
      if (r.kind === 'p2p') batch.p2p++;
      else batch.events.push(r.event);
    } catch (e) {
      if (e instanceof PayloadError) batch.errors.push(e);
      else throw e;
    }
  }
  return batch;
}

/** `<source> line N`, formatted on demand. */
class LineRef {
  constructor(
    private readonly source: string,
    private readonly line: number,
  ) {}

  toString(): string {
    return `${this.source} line ${this.line}`;
  }
}

/** Where a record came from: a name, or something that formats to one when an error needs it. */
type Where = string | LineRef;

export function parseInspectorLine(line: string, where: Where): InspectorRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new PayloadError(`not valid JSON: ${(e as Error).message}`, String(where));
  }
  return parseInspectorRecord(value, where);
}

export function parseInspectorRecord(value: unknown, where: Where): InspectorRecord {
  const rec = object(value, where, 'record');
  if (rec.p2p_perf !== undefined) return { kind: 'p2p' };
  const header = object(rec.header, where, 'header');
  const metadata = object(rec.metadata, where, 'metadata');
  if (rec.coll_perf === undefined) throw new PayloadError('has neither coll_perf nor p2p_perf', String(where));
  const perf = object(rec.coll_perf, where, 'coll_perf');

  const comm_id = idString(header.id, where, 'header.id');
  const job = string(header.comm_name, where, 'header.comm_name');
  const rank = integer(header.rank, where, 'header.rank');
  const n_ranks = integer(header.n_ranks, where, 'header.n_ranks');
  if (rank < 0 || n_ranks <= 0 || rank >= n_ranks) {
    throw new PayloadError(`rank ${rank} is outside 0..${n_ranks - 1}`, `${String(where)}: header.rank`);
  }
  const host = string(metadata.hostname, where, 'metadata.hostname');

  const collective = string(perf.coll, where, 'coll_perf.coll');
  const seq = integer(perf.coll_sn, where, 'coll_perf.coll_sn');
  const msg_bytes = integer(perf.coll_msg_size_bytes, where, 'coll_perf.coll_msg_size_bytes');
  let exec_time_us = number(perf.coll_exec_time_us, where, 'coll_perf.coll_exec_time_us');
  const algbw_gbs = number(perf.coll_algobw_gbs, where, 'coll_perf.coll_algobw_gbs');
  const busbw_gbs = number(perf.coll_busbw_gbs, where, 'coll_perf.coll_busbw_gbs');

  let start_us: number;
  let end_us: number;
  if (perf.event_trace_ts !== undefined) {
    const ts = object(perf.event_trace_ts, where, 'coll_perf.event_trace_ts');
    start_us = number(ts.coll_start_ts, where, 'coll_perf.event_trace_ts.coll_start_ts');
    end_us = number(ts.coll_stop_ts, where, 'coll_perf.event_trace_ts.coll_stop_ts');
    if (!Number.isFinite(start_us)) throw new PayloadError('must be a time in µs, not nan', `${String(where)}: coll_perf.event_trace_ts.coll_start_ts`);
    if (!Number.isFinite(end_us)) throw new PayloadError('must be a time in µs, not nan', `${String(where)}: coll_perf.event_trace_ts.coll_stop_ts`);
    if (end_us < start_us) throw new PayloadError('ends before coll_start_ts', `${String(where)}: coll_perf.event_trace_ts.coll_stop_ts`);
    if (!Number.isFinite(exec_time_us)) exec_time_us = end_us - start_us;
  } else {
    end_us = number(metadata.dump_timestamp_us, where, 'metadata.dump_timestamp_us');
    if (!Number.isFinite(end_us)) throw new PayloadError('must be a time in µs, not nan', `${String(where)}: metadata.dump_timestamp_us`);
    if (!Number.isFinite(exec_time_us)) {
      throw new PayloadError('is nan and there is no event_trace_ts to time the collective', `${String(where)}: coll_perf.coll_exec_time_us`);
    }
    start_us = end_us - exec_time_us;
  }
  if (exec_time_us < 0) throw new PayloadError('must not be negative', `${String(where)}: coll_perf.coll_exec_time_us`);

  return {
    kind: 'collective',
    event: { job, comm_id, rank, n_ranks, host, collective, seq, msg_bytes, start_us, end_us, exec_time_us, algbw_gbs, busbw_gbs },
  };
}

// Field paths (`<where>: <field>`) are built only for an error: per good record they were a dozen string allocations.
function fieldError(message: string, where: Where, field: string): PayloadError {
  return new PayloadError(message, `${String(where)}: ${field}`);
}

function object(v: unknown, where: Where, field: string): Obj {
  if (v === undefined) throw fieldError('missing', where, field);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw fieldError('not an object', where, field);
  return v as Obj;
}

function string(v: unknown, where: Where, field: string): string {
  if (v === undefined) throw fieldError('missing', where, field);
  if (typeof v !== 'string' || v === '') throw fieldError('not a non-empty string', where, field);
  return v;
}

/** The communicator hash is a hex string; accept a number too. */
function idString(v: unknown, where: Where, field: string): string {
  if (typeof v === 'number' && Number.isInteger(v)) return v.toString(16);
  return string(v, where, field);
}

function integer(v: unknown, where: Where, field: string): number {
  if (v === undefined) throw fieldError('missing', where, field);
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw fieldError('not an integer', where, field);
  return n;
}

/** Numbers, or the Inspector's "nan" (also "inf"/"-inf") → NaN / ±Infinity. */
function number(v: unknown, where: Where, field: string): number {
  if (v === undefined) throw fieldError('missing', where, field);
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'nan' || s === '-nan') return NaN;
    if (s === 'inf' || s === 'infinity') return Infinity;
    if (s === '-inf' || s === '-infinity') return -Infinity;
    if (s !== '' && Number.isFinite(Number(s))) return Number(s);
  }
  throw fieldError('not a number', where, field);
}
