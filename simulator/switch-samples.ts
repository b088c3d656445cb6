/**
 * The objects a switch snapshot is made of, as classes rather than object literals. Only for
 * speed: V8 pretenures an object-literal site whose objects outlive a scavenge (allocates them
 * straight in the old generation), as a whole round of 3,072 port samples does, and a dead
 * old-generation parent then keeps its young children alive through the following scavenges,
 * so every round cost several times its own work in GC. Constructed instances (and arrays
 * from Array.prototype.map) carry no allocation site, so V8 never pretenures them. The own
 * properties are the literals' ones, in the same order (declaration
 * order), so the JSON and what the exporters read are unchanged.
 */
import type { PortCounters } from './fluid-fabric.js';
import type { PortSnapshot, SwitchSnapshot } from './outputs.js';

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
  constructor(port: string, localName: string, scaleUp: boolean, c: PortCounters) {
    this.port = port;
    this.interface = localName;
    this.scale_up = scaleUp;
    this.tx_bytes = c.tx_bytes;
    this.tx_packets = c.tx_packets;
    this.ecn_marked_pkts = c.ecn_marked_pkts;
    this.pfc_tx_pause_frames = c.pfc_tx_pause_frames;
    this.pfc_rx_pause_frames = c.pfc_rx_pause_frames;
    this.pfc_rx_pause_us = c.pfc_rx_pause_us;
    this.pfc_tx_pause_us = c.pfc_tx_pause_us;
    this.link_errors = c.link_errors;
    this.symbol_errors = c.symbol_errors;
    this.credit_stall_us = c.credit_stall_us;
    this.credits_available = c.credits_available;
    this.replays = c.replays;
    this.queue_bytes = c.queue_bytes;
    this.watermark_bytes = c.watermark_bytes;
    this.oper_up = c.oper_up;
    this.carrier_changes = c.carrier_changes;
    this.egress_histogram = c.egress_histogram;
  }
}
