/**
 * What the engine hands to the exporters at each telemetry interval. Counters are cumulative
 * since t=0 (as the devices keep them); all times are event time.
 */
import type { CollectiveEvent } from '../core/records.js';
import type { PortCounters } from './fluid-fabric.js';

export interface PortSnapshot extends PortCounters {
  /** Full name, e.g. `leaf-3/p5`. */
  port: string;
  /** Local interface name on its switch, e.g. `p5`. */
  interface: string;
  scale_up: boolean;
}

export interface SwitchSnapshot {
  device: string;
  /** Event time of the sample and of the previous one (epoch ms). */
  ts_ms: number;
  prev_ts_ms: number;
  ports: PortSnapshot[];
}

/** One GPU's DCGM-visible state at one sample. */
export interface GpuSnapshot {
  gpu: string;
  node: number;
  index: number;
  uuid: string;
  pci_bus_id: string;
  sm_clock_mhz: number;
  mem_clock_mhz: number;
  temp_c: number;
  power_w: number;
  util_pct: number;
  /** Cumulative energy, mJ. */
  energy_mj: number;
  /** DCGM clock event reasons bitmask. */
  clock_event_reasons: number;
  /** NVLink throughput over the last interval, bytes/s (DCGM_FI_PROF_NVLINK_*_BYTES are rates). */
  nvlink_tx_bps: number;
  nvlink_rx_bps: number;
  /** Cumulative NVLink bytes since t=0. */
  nvlink_tx_bytes: number;
  nvlink_rx_bytes: number;
  /** Last XID error code, 0 when none. */
  xid: number;
}

export interface GpuIntervalSnapshot {
  ts_ms: number;
  gpus: GpuSnapshot[];
}

export interface KernelEvent {
  channel_id: number;
  start_us: number;
  stop_us: number;
  record_us: number;
}

/** One rank's completed collective call (what NCCL Inspector records). */
export interface CollectiveRecord extends CollectiveEvent {
  nnodes: number;
  gpu: string;
  kernel_events: KernelEvent[];
}
