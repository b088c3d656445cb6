/**
 * OTLP switch metrics → PortSample, one per (port, timestamp). A switch exports one data point
 * per metric family, port and traffic class/priority; this folds the families of one port and
 * instant into the canonical record: cumulative counters become interval deltas (summed over
 * TCs / priorities), queue gauges are summed, egress-buffer histograms give a queue-depth
 * estimate when no occupancy gauge is there. Vocabularies: port-vocabulary.ts.
 *
 * Families split across payloads. Real switches export classes separately (Cumulus sends
 * buffer-stats and interface-stats as different exports), so one (port, timestamp) may arrive
 * in pieces. Each port remembers which families it reports; a piece that lacks some of them is
 * held until the rest of its (port, timestamp) arrives and the merged record is published once.
 * A held piece is published as it is (missing gauges carried forward from the port's last
 * values, missing counters contributing nothing until their own delta arrives) when a newer
 * timestamp of the port shows up, or by `takeHeld` (a timer, and shutdown). Counter deltas are
 * per series, so no increase is ever lost or counted twice whichever way the pieces come.
 *
 * State is bounded: a port (its counter series, families and held piece) not heard from for
 * `evictAfterMs` is forgotten; it starts over like a new port if it comes back. That age is
 * wall-clock time, not event time: one sender stamping a far-future time must not make every
 * other port look old.
 *
 * Port name = `${host.name}/${interface}`; device = host.name.
 */
import type { PortSample } from '../../core/records.js';
import { CounterDeltas, type CounterTransaction, type SeriesState } from '../counter-deltas.js';
import type { Attributes, OtlpHistogramPoint, OtlpNumberPoint } from './otlp-points.js';
import { COUNTER_FIELDS, roleOf, type CounterField, type MetricRole } from './port-vocabulary.js';
import { queueDepthEstimate, queueMeanEstimate } from './queue-histogram.js';

/** Family bits: which parts of a PortSample a piece measured. */
const QUEUE = 1;
const OPER = 2;
const FIELD_BIT = Object.fromEntries(COUNTER_FIELDS.map((f, i) => [f, 4 << i])) as Record<CounterField, number>;
/**
 * The egress-buffer histogram family: the mean depth over the interval, and a bound on the
 * depth that stands in for the occupancy gauge (QUEUE) only where the port exports none.
 */
const QUEUE_MEAN = 4 << COUNTER_FIELDS.length;
/** Either family gave the piece a queue depth. */
const QUEUE_ANY = QUEUE | QUEUE_MEAN;

/** Cumulus oper_state bitmap: 1 = up. */
const OPER_UP = 1;

export interface PortNormalisation {
  /** Records ready to publish (complete ones, and held pieces this payload completed or superseded). */
  samples: PortSample[];
  /** Data points of known metrics that could not be attributed (no host.name, no interface). */
  rejected: number;
  /** First few rejection reasons, for the partialSuccess message and logs. */
  reasons: string[];
  /** (port, timestamp) groups dropped because nothing in them was newer than what was seen (resends). */
  stale: number;
  /** Keeps the state of this batch; call once `samples` are published. */
  commit(): void;
  /** Forgets this batch (the sender will retry it); held pieces it took are held again. */
  abort(): void;
}

export interface HeldSamples {
  samples: PortSample[];
  /** Puts the pieces back (their publish failed). */
  restore(): void;
}

export interface PortSampleNormaliserOptions {
  deltas?: CounterDeltas;
  /** Wall-clock age after which a silent port's state is dropped; default 15 minutes. */
  evictAfterMs?: number;
  /** Wall clock, for how long pieces were held. */
  now?: () => number;
}

interface Piece {
  sample: PortSample;
  mask: number;
  /** Wall-clock time it started waiting. */
  heldSince: number;
}

interface PortState {
  /** Families this port has been seen to report. */
  known: number;
  /** Event time of its newest piece. */
  lastTs: number;
  /** Wall-clock time it was last heard from. */
  seenAt: number;
  queue?: number;
  operUp?: boolean;
  held?: Piece;
}

/** What a (host, metric, attribute set) resolves to; cached, as senders repeat them every export. */
interface Series {
  role: MetricRole;
  port: string;
  device: string;
  /** The counter series key: `<port>|<metric>|<attributes but interface>`. */
  key: string;
  /** Why its points cannot be attributed to a port. */
  missing?: string;
  /** Its counter state (CounterDeltas), looked up once; again after an eviction. */
  state?: SeriesState;
}

interface MetricContext {
  host: string;
  metric: string;
  role: MetricRole | undefined;
  /** By interned attribute map (attribute-sets.ts). */
  series: Map<Attributes, Series>;
}

/** Bound on each cache (contexts, series per context): past it, the cache starts over. */
const CACHE_LIMIT = 100_000;

/** The points of one (port, timestamp) in a batch. */
interface Building {
  port: string;
  device: string;
  ts: number;
  points: OtlpNumberPoint[];
  series: Series[];
  histograms: OtlpHistogramPoint[];
  histogramSeries: Series[];
  /** The same port at another timestamp in this batch. */
  next?: Building;
}

function building(groups: Map<string, Building>, ordered: Building[], series: Series, ts: number): Building {
  const first = groups.get(series.port);
  let b = first;
  while (b !== undefined && b.ts !== ts) b = b.next;
  if (b === undefined) {
    b = { port: series.port, device: series.device, ts, points: [], series: [], histograms: [], histogramSeries: [], next: first };
    groups.set(series.port, b);
    ordered.push(b);
  }
  return b;
}

export class PortSampleNormaliser {
  private readonly deltas: CounterDeltas;
  private readonly ports = new Map<string, PortState>();
  private readonly contexts = new Map<string, MetricContext>();
  /** Held pieces displaced by a concurrent batch; published by the next takeHeld. */
  private orphans: Piece[] = [];
  private readonly evictAfterMs: number;
  private readonly now: () => number;
  private lastEviction = 0;

  constructor(options: PortSampleNormaliserOptions | CounterDeltas = {}) {
    const o = options instanceof CounterDeltas ? { deltas: options } : options;
    this.deltas = o.deltas ?? new CounterDeltas();
    this.evictAfterMs = o.evictAfterMs ?? 15 * 60_000;
    this.now = o.now ?? Date.now;
  }

  /** Ports with state (for tests and stats). */
  get portCount(): number {
    return this.ports.size;
  }

  /** Counter series with state. */
  get seriesCount(): number {
    return this.deltas.size;
  }

  normalise(points: readonly OtlpNumberPoint[], histograms: readonly OtlpHistogramPoint[] = []): PortNormalisation {
    const reasons: string[] = [];
    let rejected = 0;
    const groups = new Map<string, Building>();
    const ordered: Building[] = [];
    // Metric context and series are resolved once per metric and per attribute set, not per point.
    let context: MetricContext | undefined;
    let lastResource: Attributes | undefined;
    let lastMetric = '';
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      if (p.resource !== lastResource || p.metric !== lastMetric) {
        lastResource = p.resource;
        lastMetric = p.metric;
        context = this.context(p.resource, p.metric);
      }
      const role = context!.role;
      if (role === undefined || role.role === 'queue_histogram') continue;
      const series = context!.series.get(p.attributes) ?? this.series(context!, p.attributes);
      if (series.missing !== undefined) {
        rejected++;
        if (reasons.length < 5) reasons.push(`${p.path}: ${series.missing}`);
        continue;
      }
      const b = building(groups, ordered, series, p.time_ms);
      b.points.push(p);
      b.series.push(series);
    }
    for (const h of histograms) {
      const ctx = this.context(h.resource, h.metric);
      if (ctx.role?.role !== 'queue_histogram') continue;
      const series = ctx.series.get(h.attributes) ?? this.series(ctx, h.attributes);
      if (series.missing !== undefined) {
        rejected++;
        if (reasons.length < 5) reasons.push(`${h.path}: ${series.missing}`);
        continue;
      }
      const b = building(groups, ordered, series, h.time_ms);
      b.histograms.push(h);
      b.histogramSeries.push(series);
    }

    const tx = this.deltas.transaction();
    let stale = 0;
    const pieces: Piece[] = [];
    // Oldest first, so a batch carrying several instants of one port yields proper deltas.
    ordered.sort((a, b) => a.ts - b.ts);
    for (const b of ordered) {
      const piece = this.measure(tx, b);
      if (piece) pieces.push(piece);
      else stale++;
    }
    return { ...this.merge(pieces, tx), rejected, reasons, stale };
  }

  /** The role of a metric of a resource, and its series cache. */
  private context(resource: Attributes, metric: string): MetricContext {
    const host = resource['host.name'] ?? '';
    const key = `${host}\u0000${metric}`;
    let c = this.contexts.get(key);
    if (!c) {
      if (this.contexts.size >= CACHE_LIMIT) this.contexts.clear();
      c = { host, metric, role: roleOf(metric), series: new Map() };
      this.contexts.set(key, c);
    }
    return c;
  }

  private series(context: MetricContext, attributes: Attributes): Series {
    if (context.series.size >= CACHE_LIMIT) context.series.clear();
    const device = context.host;
    const iface = attributes['interface'];
    let s: Series;
    if (!device) s = { role: context.role!, port: '', device: '', key: '', missing: 'resource attribute host.name is missing' };
    else if (!iface) s = { role: context.role!, port: '', device: '', key: '', missing: 'attribute interface is missing' };
    else {
      const port = `${device}/${iface}`;
      s = { role: context.role!, port, device, key: seriesKey(port, context.metric, attributes) };
    }
    context.series.set(attributes, s);
    return s;
  }

  /**
   * Held pieces waiting for at least `olderThanMs` (wall clock), ready to publish as they are;
   * 0 takes all of them (shutdown).
   */
  takeHeld(olderThanMs = 0): HeldSamples {
    const now = this.now();
    const taken: Array<[string, Piece]> = [];
    for (const [port, st] of this.ports) {
      if (st.held && now - st.held.heldSince >= olderThanMs) {
        taken.push([port, st.held]);
        st.held = undefined;
      }
    }
    const orphans = this.orphans;
    this.orphans = [];
    const samples = [...orphans, ...taken.map(([, p]) => p)].map((p) => {
      const st = this.ports.get(p.sample.port);
      const sample = this.fill(p, st);
      if (st && p.mask & QUEUE_ANY) st.queue = sample.queue_bytes;
      if (st && p.mask & OPER) st.operUp = sample.oper_up;
      return sample;
    });
    return {
      samples,
      restore: () => {
        this.orphans.push(...orphans);
        for (const [port, piece] of taken) this.hold(port, piece);
      },
    };
  }

  /** Counts, deltas and gauges of one (port, timestamp); undefined when all of it is stale. */
  private measure(tx: CounterTransaction, b: Building): Piece | undefined {
    const sample = emptySample(b.port, b.device, b.ts);
    let mask = 0;
    let queue: number | undefined;
    let estimate: number | undefined;
    let mean: number | undefined;
    let oper: boolean | undefined;
    for (let i = 0; i < b.points.length; i++) {
      const p = b.points[i]!;
      const series = b.series[i]!;
      const role = series.role;
      if (series.state === undefined || series.state.removed) series.state = this.deltas.state(series.key);
      if (role.role === 'counter') {
        const delta = counterDelta(tx, series.state, p);
        if (Number.isNaN(delta)) continue;
        sample[role.field] += delta;
        if (tx.interval_ms > sample.interval_ms) sample.interval_ms = tx.interval_ms;
        mask |= FIELD_BIT[role.field];
      } else if (!isFresh(tx, series.state, p)) {
        continue;
      } else if (role.role === 'queue') {
        queue = (queue ?? 0) + p.value;
        mask |= QUEUE;
      } else if (role.role === 'oper_state') {
        oper = p.value === OPER_UP;
        mask |= OPER;
      }
    }
    for (let i = 0; i < b.histograms.length; i++) {
      const counts = bucketCounts(tx, b.histogramSeries[i]!.key, b.histograms[i]!);
      if (counts === undefined) continue;
      const e = queueDepthEstimate(b.histograms[i]!.bounds, counts);
      if (e !== undefined) estimate = (estimate ?? 0) + e;
      const m = queueMeanEstimate(b.histograms[i]!.bounds, counts);
      if (m !== undefined) mean = (mean ?? 0) + m;
    }
    if (mean !== undefined) {
      sample.queue_mean_bytes = mean;
      mask |= QUEUE_MEAN;
    }
    // The occupancy gauge is a measurement; the histogram only bounds it.
    if (queue !== undefined) {
      sample.queue_bytes = queue;
      mask |= QUEUE;
    } else if (estimate !== undefined) {
      sample.queue_bytes = estimate;
    }
    if (oper !== undefined) sample.oper_up = oper;
    return mask === 0 ? undefined : { sample, mask, heldSince: 0 };
  }

  /** Joins pieces with held ones of the same (port, timestamp); decides what is ready. */
  private merge(pieces: Piece[], tx: CounterTransaction): Pick<PortNormalisation, 'samples' | 'commit' | 'abort'> {
    const now = this.now();
    const ready: Piece[] = [];
    const taken: Array<[string, Piece]> = [];
    /** This batch's view of each port: families, gauges, held piece. */
    const view = new Map<string, PortState>();
    const viewOf = (port: string): PortState => {
      let v = view.get(port);
      if (!v) {
        const st = this.ports.get(port);
        // The held piece is worked on as a copy: abort() must put back the original.
        const held = st?.held && { ...st.held, sample: { ...st.held.sample } };
        v = { known: st?.known ?? 0, lastTs: st?.lastTs ?? 0, seenAt: now, queue: st?.queue, operUp: st?.operUp, held };
        if (st?.held) {
          // Taken now, so a concurrent batch cannot publish it too; abort() puts it back.
          taken.push([port, st.held]);
          st.held = undefined;
        }
        view.set(port, v);
      }
      return v;
    };
    const emit = (piece: Piece, v: PortState) => {
      this.fill(piece, v);
      if (piece.mask & QUEUE_ANY) v.queue = piece.sample.queue_bytes;
      if (piece.mask & OPER) v.operUp = piece.sample.oper_up;
      ready.push(piece);
    };

    for (let piece of pieces) {
      const port = piece.sample.port;
      const v = viewOf(port);
      v.known |= piece.mask;
      v.lastTs = Math.max(v.lastTs, piece.sample.ts_ms);
      const held = v.held;
      if (held && held.sample.ts_ms > piece.sample.ts_ms) {
        emit(piece, v); // a late piece of an older instant: publish it on its own
        continue;
      }
      if (held) {
        v.held = undefined;
        if (held.sample.ts_ms === piece.sample.ts_ms) piece = joinPieces(held, piece);
        else emit(held, v);
      }
      if ((piece.mask & v.known) === v.known) emit(piece, v);
      else v.held = { ...piece, heldSince: piece.heldSince || now };
    }

    return {
      samples: ready.map((p) => p.sample),
      commit: () => {
        tx.commit();
        for (const [port, v] of view) {
          const st = this.ports.get(port);
          if (st?.held) this.orphans.push(st.held); // a concurrent batch held one meanwhile
          this.ports.set(port, { ...v, lastTs: Math.max(v.lastTs, st?.lastTs ?? 0) });
        }
        this.evictIfDue(now);
      },
      abort: () => {
        for (const [port, piece] of taken) this.hold(port, piece);
      },
    };
  }

  private hold(port: string, piece: Piece): void {
    const st = this.ports.get(port);
    if (!st) return void this.orphans.push(piece);
    if (st.held) this.orphans.push(st.held);
    st.held = piece;
  }

  /** Completes a piece with the port's last known gauges for families it lacks. */
  private fill(piece: Piece, st: Pick<PortState, 'queue' | 'operUp'> | undefined): PortSample {
    if (!(piece.mask & QUEUE_ANY) && st?.queue !== undefined) piece.sample.queue_bytes = st.queue;
    if (!(piece.mask & OPER)) piece.sample.oper_up = st?.operUp ?? true;
    return piece.sample;
  }

  private evictIfDue(now: number): void {
    if (now - this.lastEviction < this.evictAfterMs / 4) return;
    this.lastEviction = now;
    const gone = new Set<string>();
    for (const [port, st] of this.ports) {
      if (now - st.seenAt < this.evictAfterMs) continue;
      if (st.held) this.orphans.push(st.held);
      this.ports.delete(port);
      gone.add(port);
    }
    // Series keys start with `<port>|`.
    if (gone.size > 0) this.deltas.evictWhere((key) => gone.has(key.slice(0, key.indexOf('|'))));
  }
}

function joinPieces(a: Piece, b: Piece): Piece {
  const s = a.sample;
  for (const f of COUNTER_FIELDS) s[f] += b.sample[f];
  s.interval_ms = Math.max(s.interval_ms, b.sample.interval_ms);
  // A gauge beats a histogram's bound, whichever piece came first.
  if (b.mask & QUEUE || (b.mask & QUEUE_MEAN && !(a.mask & QUEUE))) s.queue_bytes = b.sample.queue_bytes;
  if (b.mask & QUEUE_MEAN) s.queue_mean_bytes = b.sample.queue_mean_bytes;
  if (b.mask & OPER) s.oper_up = b.sample.oper_up;
  return { sample: s, mask: a.mask | b.mask, heldSince: a.heldSince };
}

/** The series of a point within its port: metric and attributes other than `interface`. */
function seriesKey(port: string, metric: string, attributes: Attributes): string {
  let key = `${port}|${metric}`;
  const names = Object.keys(attributes);
  if (names.length > 1) names.sort();
  for (const k of names) if (k !== 'interface') key += `|${k}=${attributes[k]}`;
  return key;
}

/** The point's increase (NaN when stale); the interval is left in `tx.interval_ms`. */
function counterDelta(tx: CounterTransaction, st: SeriesState, p: OtlpNumberPoint): number {
  // A delta-temporality sum already carries the interval's increase; still refuse resends.
  if (p.kind === 'sum' && p.temporality === 1) {
    if (Number.isNaN(tx.observeDelta(st, { value: 0, ts_ms: p.time_ms }))) return NaN;
    tx.interval_ms = p.start_ms !== undefined ? Math.max(0, p.time_ms - p.start_ms) : 0;
    return p.value;
  }
  // A gauge that holds a counter (Cumulus) has no meaningful start time (OTLP ignores it for
  // gauges; exporters set it to the previous sample), so only a drop in value means a reset.
  return tx.observeDelta(st, { value: p.value, ts_ms: p.time_ms, start_ms: p.kind === 'sum' ? p.start_ms : undefined });
}

/** A gauge point is fresh when newer than its series' last one (not a resend). */
function isFresh(tx: CounterTransaction, st: SeriesState, p: OtlpNumberPoint): boolean {
  return !Number.isNaN(tx.observeDelta(st, { value: 0, ts_ms: p.time_ms }));
}

/** This interval's bucket counts: as sent (delta), or per-bucket increases (cumulative). */
function bucketCounts(tx: CounterTransaction, series: string, h: OtlpHistogramPoint): number[] | undefined {
  const key = `${series}|le=${h.bounds.join(',')}`;
  if (h.temporality !== 2) return tx.observe(key, { value: 0, ts_ms: h.time_ms }) === undefined ? undefined : h.counts;
  const out: number[] = [];
  for (let i = 0; i < h.counts.length; i++) {
    const d = tx.observe(`${key}#${i}`, { value: h.counts[i]!, ts_ms: h.time_ms, start_ms: h.start_ms });
    if (d === undefined) return undefined;
    out.push(d.delta);
  }
  return out;
}

function emptySample(port: string, device: string, ts_ms: number): PortSample {
  return {
    ts_ms,
    port,
    device,
    interval_ms: 0,
    queue_bytes: 0,
    tx_bytes: 0,
    ecn_marked_pkts: 0,
    pfc_tx_pause_frames: 0,
    pfc_rx_pause_frames: 0,
    pfc_rx_pause_us: 0,
    credit_stall_us: 0,
    link_errors: 0,
    oper_up: true,
  };
}
