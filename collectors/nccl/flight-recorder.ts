/**
 * PyTorch Flight Recorder dumps (the JSON form: `_dump_nccl_trace_json` / `dump_fr_trace_json`;
 * the default on-disk form is a pickle, which is not read) → CollectiveEvents.
 *
 *   {"version": "2.5", "pg_config": {"0": {"name": "0", "desc": "default_pg", "ranks": "[0, 1]"}},
 *    "entries": [{"record_id": 0, "pg_id": 0, "process_group": ["0", "default_pg"], "collective_seq_id": 1,
 *      "profiling_name": "nccl:all_reduce", "time_created_ns": 1724779239936775119,
 *      "input_sizes": [[3, 4]], "input_dtypes": ["Float"], "state": "completed",
 *      "time_discovered_started_ns": null, "time_discovered_completed_ns": 1724779239975811724,
 *      "duration_ms": 0.5, "is_p2p": false, ...}]}
 *
 * One dump is one rank's ring buffer: the rank is the dump's `rank` field when present, else
 * the caller's (the file name `…_rank_<n>`, or `?rank=` on a POST); the host likewise. An
 * entry becomes an event once completed: job = its process group's description (or name),
 * comm_id = `<job>/pg<id>`, seq = collective_seq_id, rank = the position of the dumping rank
 * in the group's `ranks`, msg_bytes from input sizes × dtype widths, exec time from
 * `duration_ms` (timing enabled) or discovery times. P2P and coalesced entries are counted
 * and skipped. Successive dumps repeat entries; FlightRecorderDedup publishes each
 * (communicator, rank, seq) once.
 */
import { PayloadError } from '../../core/errors.js';
import type { CollectiveEvent } from '../../core/records.js';
import { busFactor } from './inspector-prometheus.js';

export interface FlightRecorderContext {
  /** Global rank of the process that dumped, when the dump does not say. */
  rank?: number;
  host?: string;
  /** Names errors: `<source>: entries[3].time_created_ns`. */
  source: string;
}

export interface FlightRecorderConversion {
  events: CollectiveEvent[];
  /** P2P, coalesced and non-NCCL entries. */
  skipped: number;
  /** Entries not completed yet (a later dump may have them completed). */
  incomplete: number;
  /** Entries that cannot be read, with their errors. */
  errors: PayloadError[];
  entries: number;
}

const COLLECTIVES: Record<string, string> = {
  all_reduce: 'AllReduce', allreduce: 'AllReduce', allreduce_coalesced: 'AllReduce', allreduce_base: 'AllReduce',
  all_gather: 'AllGather', allgather: 'AllGather', _allgather_base: 'AllGather', allgather_base: 'AllGather', allgather_into_tensor_coalesced: 'AllGather',
  reduce_scatter: 'ReduceScatter', _reduce_scatter_base: 'ReduceScatter', reduce_scatter_base: 'ReduceScatter', reduce_scatter_tensor_coalesced: 'ReduceScatter',
  broadcast: 'Broadcast', reduce: 'Reduce', all_to_all: 'AllToAll', alltoall: 'AllToAll', alltoall_base: 'AllToAll', all_to_all_single: 'AllToAll',
};

/** Element widths of torch dtypes as the recorder names them. */
const DTYPE_BYTES: Record<string, number> = {
  Float: 4, Double: 8, Half: 2, BFloat16: 2, Long: 8, Int: 4, Short: 2, Char: 1, Byte: 1, Bool: 1,
  ComplexFloat: 8, ComplexDouble: 16, Float8_e4m3fn: 1, Float8_e5m2: 1, Float8_e4m3fnuz: 1, Float8_e5m2fnuz: 1,
};

type Obj = Record<string, unknown>;

export function convertFlightRecorderDump(dump: unknown, ctx: FlightRecorderContext): FlightRecorderConversion {
  const where = (field: string) => `${ctx.source}: ${field}`;
  if (dump === null || typeof dump !== 'object' || Array.isArray(dump)) throw new PayloadError('not an object', where('dump'));
  const d = dump as Obj;
  if (!Array.isArray(d.entries)) throw new PayloadError('missing or not a list', where('entries'));
  const rank = d.rank !== undefined ? d.rank : ctx.rank;
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 0) {
    throw new PayloadError('the dumping rank is unknown: give it as the dump\'s "rank", the file name (…_rank_<n>) or ?rank=', where('rank'));
  }
  const host = typeof d.hostname === 'string' && d.hostname ? d.hostname : ctx.host || 'unknown';
  const groups = (d.pg_config ?? {}) as Record<string, Obj>;
  const out: FlightRecorderConversion = { events: [], skipped: 0, incomplete: 0, errors: [], entries: d.entries.length };
  d.entries.forEach((raw, i) => {
    try {
      const r = entry(raw, i, rank, host, groups, where);
      if (r === 'skipped') out.skipped++;
      else if (r === 'incomplete') out.incomplete++;
      else out.events.push(r);
    } catch (e) {
      if (e instanceof PayloadError) out.errors.push(e);
      else throw e;
    }
  });
  return out;
}

function entry(
  raw: unknown, i: number, globalRank: number, host: string, groups: Record<string, Obj>, where: (f: string) => string,
): CollectiveEvent | 'skipped' | 'incomplete' {
  const at = (f: string) => where(`entries[${i}].${f}`);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new PayloadError('not an object', where(`entries[${i}]`));
  const e = raw as Obj;
  const name = e.profiling_name;
  if (typeof name !== 'string') throw new PayloadError('missing or not a string', at('profiling_name'));
  const op = /^nccl:(\w+)/.exec(name)?.[1];
  const collective = op ? COLLECTIVES[op] : undefined;
  if (e.is_p2p === true || collective === undefined) return 'skipped';
  if (e.state !== 'completed') return 'incomplete';
  const seq = integer(e.collective_seq_id, at('collective_seq_id'));
  const pgId = String(e.pg_id ?? '0');
  const group = groups[pgId] ?? {};
  const pg = Array.isArray(e.process_group) ? (e.process_group as unknown[]) : [];
  const job = String(group.desc ?? pg[1] ?? group.name ?? pg[0] ?? `pg${pgId}`);
  const members = parseRanks(group.ranks);
  const rank = members ? members.indexOf(globalRank) : globalRank;
  if (rank < 0) throw new PayloadError(`rank ${globalRank} is not in process group ${pgId} (${String(group.ranks)})`, at('pg_id'));
  const n_ranks = members ? members.length : rank + 1;

  const created = nanos(e.time_created_ns, at('time_created_ns'));
  const started = e.time_discovered_started_ns == null ? created : nanos(e.time_discovered_started_ns, at('time_discovered_started_ns'));
  const completed = e.time_discovered_completed_ns == null ? undefined : nanos(e.time_discovered_completed_ns, at('time_discovered_completed_ns'));
  const duration = typeof e.duration_ms === 'number' && Number.isFinite(e.duration_ms) && e.duration_ms >= 0 ? e.duration_ms * 1000 : undefined;
  if (completed === undefined && duration === undefined) return 'incomplete';
  // Discovery times are when the watchdog noticed; the measured duration, when there, is exact.
  const end_us = completed ?? started + duration!;
  const exec_time_us = duration ?? Math.max(0, end_us - started);
  const start_us = end_us - exec_time_us;
  const msg_bytes = inputBytes(e.input_sizes, e.input_dtypes, at);
  const algbw_gbs = exec_time_us > 0 ? msg_bytes / 1e9 / (exec_time_us / 1e6) : NaN;
  return {
    job, comm_id: `${job}/pg${pgId}`, rank, n_ranks, host, collective, seq, msg_bytes, start_us, end_us, exec_time_us,
    algbw_gbs, busbw_gbs: algbw_gbs * busFactor(collective, n_ranks),
  };
}

/** ns (number or decimal string; JSON numbers this large are rounded already) → µs. */
function nanos(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v / 1000;
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return Number(v.length > 3 ? v.slice(0, -3) : '0');
  throw new PayloadError('not a time in nanoseconds', where);
}

function integer(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  throw new PayloadError('not a non-negative integer', where);
}

/** `"[0, 1, 2]"` (as recorded) or a list → global ranks; undefined when absent. */
function parseRanks(v: unknown): number[] | undefined {
  if (Array.isArray(v)) return v.map(Number);
  if (typeof v !== 'string') return undefined;
  const list = v.replace(/[[\]\s]/g, '').split(',').filter(Boolean).map(Number);
  return list.every(Number.isInteger) ? list : undefined;
}

function inputBytes(sizes: unknown, dtypes: unknown, at: (f: string) => string): number {
  if (sizes === undefined) return 0;
  if (!Array.isArray(sizes)) throw new PayloadError('not a list of shapes', at('input_sizes'));
  const types = Array.isArray(dtypes) ? dtypes : [];
  let total = 0;
  sizes.forEach((shape, j) => {
    if (!Array.isArray(shape) || !shape.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)) {
      throw new PayloadError('not a list of dimensions', at(`input_sizes[${j}]`));
    }
    total += (shape as number[]).reduce((a, b) => a * b, 1) * (DTYPE_BYTES[String(types[j])] ?? 4);
  });
  return total;
}

/**
 * Which (communicator, rank, seq) were published, so re-read or overlapping dumps add only
 * new collectives. Bounded: the oldest keys go first (ring buffers move forward).
 */
export class FlightRecorderDedup {
  private readonly seen = new Set<string>();

  constructor(private readonly limit = 1_000_000) {}

  /** The events not published before (and their keys, to `remember` once they are). */
  fresh(events: readonly CollectiveEvent[]): { events: CollectiveEvent[]; keys: string[] } {
    const out: CollectiveEvent[] = [];
    const keys: string[] = [];
    const batch = new Set<string>();
    for (const e of events) {
      const key = `${e.comm_id}\u0000${e.rank}\u0000${e.seq}`;
      if (this.seen.has(key) || batch.has(key)) continue;
      batch.add(key);
      out.push(e);
      keys.push(key);
    }
    return { events: out, keys };
  }

  remember(keys: readonly string[]): void {
    for (const k of keys) this.seen.add(k);
    if (this.seen.size > this.limit) {
      let excess = this.seen.size - this.limit;
      for (const k of this.seen) {
        if (excess-- <= 0) break;
        this.seen.delete(k);
      }
    }
  }
}
