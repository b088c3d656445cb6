/**
 * H100-class GPU state as DCGM reports it: clocks, temperature, power, utilisation, energy,
 * clock event reasons and NVLink traffic. A thermal straggler throttles the SM clock, heats up
 * and raises HW_THERMAL | SW_THERMAL; the engine uses the same clock ratio to stretch compute.
 */
import { gpuName } from '../core/names.js';
import { Prng, hashHex } from './prng.js';
import type { GpuSnapshot } from './outputs.js';

export const GPU_MODEL_NAME = 'NVIDIA H100 80GB HBM3';
export const SM_CLOCK_NOMINAL_MHZ = 1980;
export const MEM_CLOCK_MHZ = 2619;
const IDLE_POWER_W = 95;
const TDP_W = 700;
const SW_THERMAL = 0x20;
const HW_THERMAL = 0x40;
/** Thermal time constant: temperature follows its target with this lag. */
const THERMAL_TAU_S = 15;
/** PCI bus ids of the eight SXM GPUs on an HGX H100 board, in GPU order. */
const HGX_BUS = ['18', '2A', '3A', '5D', '9A', 'AB', 'BA', 'DB'];

/** SM clock ratio of a thermal straggler at severity s (1 = nominal). */
export const stragglerClockRatio = (severity: number): number => 1 - 0.6 * severity;

export interface GpuState {
  name: string;
  node: number;
  index: number;
  uuid: string;
  pciBusId: string;
  tempC: number;
  energyMj: number;
  /** µs spent busy (compute or collective kernels) since the last sample. */
  busyUs: number;
  lastNvlinkTx: number;
  lastNvlinkRx: number;
}

export function createGpuStates(seed: number, nodes: number, gpusPerNode: number): GpuState[] {
  const out: GpuState[] = [];
  for (let n = 0; n < nodes; n++) {
    for (let g = 0; g < gpusPerNode; g++) {
      const h = hashHex(`gpu-uuid|${seed}|${n}|${g}`, 32);
      const bus = g < HGX_BUS.length ? HGX_BUS[g]! : (0xe0 + g).toString(16).toUpperCase().slice(-2);
      out.push({
        name: gpuName(n, g),
        node: n,
        index: g,
        uuid: `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`,
        pciBusId: `00000000:${bus}:00.0`,
        tempC: 34,
        energyMj: 0,
        busyUs: 0,
        lastNvlinkTx: 0,
        lastNvlinkRx: 0,
      });
    }
  }
  return out;
}

export interface GpuSampleInput {
  intervalUs: number;
  /** Straggler severity active at the sample time, or undefined. */
  stragglerSeverity: number | undefined;
  nvlinkTxBytes: number;
  nvlinkRxBytes: number;
}

/** Advances one GPU's slow state over an interval and returns its DCGM view. */
export function sampleGpu(gpu: GpuState, input: GpuSampleInput, noise: Prng): GpuSnapshot {
  const dtS = input.intervalUs / 1e6;
  const util = dtS > 0 ? Math.min(1, gpu.busyUs / input.intervalUs) : 0;
  const s = input.stragglerSeverity;
  const ratio = s === undefined ? 1 : stragglerClockRatio(s);
  const power = IDLE_POWER_W + (TDP_W - IDLE_POWER_W) * util * (0.35 + 0.55 * ratio) + noise.uniform(-2, 2);
  // A throttling GPU runs hot: that is why it throttles.
  const target = 36 + 32 * util + (s === undefined ? 0 : 12 + 14 * s);
  const alpha = dtS > 0 ? 1 - Math.exp(-dtS / THERMAL_TAU_S) : 0;
  gpu.tempC += (target - gpu.tempC) * (s === undefined ? alpha : Math.max(alpha, 0.5));
  gpu.energyMj += power * dtS * 1000;
  const txRate = dtS > 0 ? (input.nvlinkTxBytes - gpu.lastNvlinkTx) / dtS : 0;
  const rxRate = dtS > 0 ? (input.nvlinkRxBytes - gpu.lastNvlinkRx) / dtS : 0;
  gpu.lastNvlinkTx = input.nvlinkTxBytes;
  gpu.lastNvlinkRx = input.nvlinkRxBytes;
  gpu.busyUs = 0;
  return {
    gpu: gpu.name,
    node: gpu.node,
    index: gpu.index,
    uuid: gpu.uuid,
    pci_bus_id: gpu.pciBusId,
    sm_clock_mhz: Math.round(SM_CLOCK_NOMINAL_MHZ * ratio / 15) * 15,
    mem_clock_mhz: MEM_CLOCK_MHZ,
    temp_c: Math.round(gpu.tempC + noise.uniform(-0.4, 0.4)),
    power_w: Math.round(power * 1000) / 1000,
    util_pct: Math.round(util * 100),
    energy_mj: Math.round(gpu.energyMj),
    clock_event_reasons: s === undefined ? 0 : HW_THERMAL | SW_THERMAL,
    nvlink_tx_bps: Math.round(txRate),
    nvlink_rx_bps: Math.round(rxRate),
    nvlink_tx_bytes: Math.round(input.nvlinkTxBytes),
    nvlink_rx_bytes: Math.round(input.nvlinkRxBytes),
    xid: 0,
  };
}
