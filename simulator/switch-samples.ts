/**
 * A round of switch telemetry: every switch port's counters read into two typed arrays (a
 * SwitchCounterRound, cheap to take and to hand to another thread), and the per-switch
 * snapshots the exporters and tests read, built from it.
 *
 * The snapshot objects are classes rather than object literals. Only for speed: V8 pretenures
 * an object-literal site whose objects outlive a scavenge (allocates them straight in the old
 * generation), as a whole round of 3,072 port samples does, and a dead old-generation parent
 * then keeps its young children alive through the following scavenges, so every round cost
 * several times its own work in GC. Constructed instances (and arrays from
 * Array.prototype.map) carry no allocation site, so V8 never pretenures them. The own
 * properties are the literals' ones, in the same order (declaration order), so the JSON and
 * what the exporters read are unchanged.
 */
import { PORT_COUNTER_FIELDS } from './fluid-fabric.js';
import type { PortSnapshot, SwitchSnapshot } from './outputs.js';
import { EGRESS_HISTOGRAM_BOUNDS } from './queue-histogram.js';

/** Columns of a port's counter row (PORT_COUNTER_FIELDS) and of its histogram row. */
export const COUNTER_COLUMNS = PORT_COUNTER_FIELDS.length;
export const HISTOGRAM_COLUMNS = EGRESS_HISTOGRAM_BOUNDS.length + 1;

/** The switches and their ports, in the order of a round's rows (fixed for an engine). */
export interface SwitchLayout {
  switches: { device: string; scaleUp: boolean; names: string[]; interfaces: string[] }[];
  /** Ports over all switches: the rows of a round. */
  ports: number;
}

/** One telemetry round: row k of each array is the k-th port of the layout. */
export interface SwitchCounterRound {
  /** Event time of the round and of the previous one (epoch ms). */
  ts_ms: number;
  prev_ts_ms: number;
  /** ports × COUNTER_COLUMNS, cumulative counters and gauges. */
  counters: Float64Array;
  /** ports × HISTOGRAM_COLUMNS, queue-depth µs per bin since the previous round. */
  histograms: Float64Array;
}

/** The per-switch snapshots of a round. */
export function switchSnapshotsOf(layout: SwitchLayout, round: SwitchCounterRound): SwitchSnapshot[] {
  const out = new Array<SwitchSnapshot>(layout.switches.length);
  forEachSwitchSnapshot(layout, round, (snap, s) => (out[s] = snap));
  return out;
}

/**
 * Each switch's snapshot of a round in turn, built only when visited: a reader that is done
 * with one before the next keeps a single switch's samples alive, not the round's.
 */
export function forEachSwitchSnapshot(layout: SwitchLayout, round: SwitchCounterRound, visit: (snap: SwitchSnapshot, index: number) => void): void {
  let row = 0;
  layout.switches.forEach(({ device, scaleUp, names, interfaces }, s) => {
    const first = row;
    row += names.length;
    visit(new SwitchSample(device, round.ts_ms, round.prev_ts_ms, names.map((name, k) => new PortSample(name, interfaces[k]!, scaleUp, round, first + k))), s);
  });
}

export class SwitchSample implements SwitchSnapshot {
  constructor(
    readonly device: string,
    readonly ts_ms: number,
    readonly prev_ts_ms: number,
    readonly ports: PortSnapshot[],
  ) {}
}

export class PortSample implements PortSnapshot {
  readonly port: string;
  readonly interface: string;
  readonly scale_up: boolean;
  readonly tx_bytes: number;
  readonly tx_packets: number;
  readonly ecn_marked_pkts: number;
  readonly pfc_tx_pause_frames: number;
  readonly pfc_rx_pause_frames: number;
  readonly pfc_rx_pause_us: number;
  readonly pfc_tx_pause_us: number;
  readonly link_errors: number;
  readonly symbol_errors: number;
  readonly credit_stall_us: number;
  readonly credits_available: number;
  readonly replays: number;
  readonly queue_bytes: number;
  readonly watermark_bytes: number;
  readonly oper_up: boolean;
  readonly carrier_changes: number;
  readonly egress_histogram: number[];
  /** Row `row` of the round (columns in PORT_COUNTER_FIELDS order). */
  constructor(port: string, localName: string, scaleUp: boolean, round: SwitchCounterRound, row: number) {
    const c = round.counters;
    const at = row * COUNTER_COLUMNS;
    this.port = port;
    this.interface = localName;
    this.scale_up = scaleUp;
    this.tx_bytes = c[at]!;
    this.tx_packets = c[at + 1]!;
    this.ecn_marked_pkts = c[at + 2]!;
    this.pfc_tx_pause_frames = c[at + 3]!;
    this.pfc_rx_pause_frames = c[at + 4]!;
    this.pfc_rx_pause_us = c[at + 5]!;
    this.pfc_tx_pause_us = c[at + 6]!;
    this.link_errors = c[at + 7]!;
    this.symbol_errors = c[at + 8]!;
    this.credit_stall_us = c[at + 9]!;
    this.credits_available = c[at + 10]!;
    this.replays = c[at + 11]!;
    this.queue_bytes = c[at + 12]!;
    this.watermark_bytes = c[at + 13]!;
    this.oper_up = c[at + 14] === 1;
    this.carrier_changes = c[at + 15]!;
    const h = row * HISTOGRAM_COLUMNS;
    // A sized array, not a literal: the snapshot keeps it for a whole round (see above).
    const bins = new Array<number>(HISTOGRAM_COLUMNS);
    for (let b = 0; b < HISTOGRAM_COLUMNS; b++) bins[b] = round.histograms[h + b]!;
    this.egress_histogram = bins;
  }
}
