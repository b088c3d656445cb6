/**
 * Payloads shaped like the real producers', for the collectors benchmark: a Cumulus-style
 * switch export (64 ports, 8 TCs), a dcgm-exporter scrape of an 8-GPU node, NCCL Inspector
 * verbose JSON lines.
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';

export const T0_S = 1_767_225_600;
export const PORTS = 64;
const TCS = 8;

/** One switch export at second `t`; counters grow with t so every run yields real deltas. */
export function switchExport(t: number): ResourceMetrics {
  const hr = (s: number): [number, number] => [s, 0];
  const metric = (name: string, perTc: boolean, kind: 'gauge' | 'sum', value: (p: number, tc: number) => number): MetricData => {
    const dataPoints = [];
    for (let p = 0; p < PORTS; p++) {
      for (let tc = 0; tc < (perTc ? TCS : 1); tc++) {
        const attributes: Record<string, string> = perTc ? { interface: `swp${p}`, tc: String(tc) } : { interface: `swp${p}` };
        dataPoints.push({ attributes, startTime: hr(T0_S - 3600), endTime: hr(t), value: value(p, tc) });
      }
    }
    const descriptor = { name, description: '', unit: '', valueType: 1 };
    return kind === 'gauge'
      ? { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE, dataPoints }
      : { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints };
  };
  const k = t - T0_S;
  return {
    resource: resourceFromAttributes({ 'host.name': 'leaf-0' }),
    scopeMetrics: [
      {
        scope: { name: 'bench' },
        metrics: [
          metric('nvswitch_interface_shared_buffer_port_tc_curr_occupancy', true, 'gauge', (p, tc) => (p * 31 + tc * 7 + k) % 100_000),
          metric('nvswitch_interface_shared_buffer_port_tc_watermark', true, 'gauge', (p, tc) => (p * 37 + tc + k) % 200_000),
          metric('nvswitch_interface_tc_tx_ecn_marked_tc', true, 'sum', (p, tc) => k * (p + tc)),
          metric('nvswitch_interface_sp_tx_pause', true, 'sum', (p, tc) => k * tc),
          metric('nvswitch_interface_sp_rx_pause', true, 'sum', (p) => k * p),
          metric('nvswitch_interface_sp_rx_pause_duration', true, 'sum', (p, tc) => k * (p + tc) * 10),
          metric('nvswitch_interface_if_out_octets', false, 'gauge', (p) => k * p * 1_000_000),
          metric('nvswitch_interface_dot3_stats_fcs_errors', false, 'gauge', () => 0),
          metric('nvswitch_interface_oper_state', false, 'gauge', () => 1),
        ],
      },
    ],
  };
}
export const POINTS_PER_EXPORT = PORTS * (6 * TCS + 3);

export function dcgmScrape(): string {
  const fields = [
    'DCGM_FI_DEV_SM_CLOCK', 'DCGM_FI_DEV_MEM_CLOCK', 'DCGM_FI_DEV_MEMORY_TEMP', 'DCGM_FI_DEV_GPU_TEMP', 'DCGM_FI_DEV_POWER_USAGE',
    'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION', 'DCGM_FI_DEV_PCIE_REPLAY_COUNTER', 'DCGM_FI_DEV_GPU_UTIL', 'DCGM_FI_DEV_MEM_COPY_UTIL',
    'DCGM_FI_DEV_ENC_UTIL', 'DCGM_FI_DEV_DEC_UTIL', 'DCGM_FI_DEV_FB_FREE', 'DCGM_FI_DEV_FB_USED', 'DCGM_FI_DEV_FB_RESERVED',
    'DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL', 'DCGM_FI_DEV_CLOCKS_EVENT_REASONS', 'DCGM_FI_PROF_GR_ENGINE_ACTIVE',
    'DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', 'DCGM_FI_PROF_DRAM_ACTIVE', 'DCGM_FI_PROF_PCIE_TX_BYTES', 'DCGM_FI_PROF_PCIE_RX_BYTES',
    'DCGM_FI_PROF_NVLINK_TX_BYTES', 'DCGM_FI_PROF_NVLINK_RX_BYTES', 'DCGM_FI_PROF_SM_ACTIVE', 'DCGM_FI_PROF_SM_OCCUPANCY',
  ];
  let text = '';
  for (const f of fields) {
    text += `# HELP ${f} ${f} help text.\n# TYPE ${f} gauge\n`;
    for (let g = 0; g < 8; g++) {
      text += `${f}{gpu="${g}",UUID="GPU-715daa1d-db6f-9e69-ab48-19015${g}bd5360",pci_bus_id="00000000:1${g}:00.0",device="nvidia${g}",modelName="NVIDIA H100 80GB HBM3",Hostname="node-${g}",DCGM_FI_DRIVER_VERSION="535.129.03",container="trainer",namespace="ml",pod="train-a-0"} ${(g * 13.5 + f.length).toFixed(6)}\n`;
    }
  }
  return text;
}

export function ncclLines(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({
      header: { id: '0x7f3c9a1b2c3d4e5f', comm_name: 'train-a', rank: i % 8, n_ranks: 8, nnodes: 1 },
      metadata: { inspector_output_format_version: 'v4.0', git_rev: 'abc', rec_mechanism: 'nccl_profiler_interface', dump_timestamp_us: 1_767_225_600_000_000 + i, hostname: 'node-0', pid: 1234 },
      coll_perf: {
        coll: 'AllReduce', coll_sn: i, coll_msg_size_bytes: 268435456, coll_exec_time_us: 1500.5, coll_timing_source: 'kernel_gpu',
        coll_algobw_gbs: 178.9, coll_busbw_gbs: 313.1,
        event_trace_ts: { coll_start_ts: 1_767_225_600_000_000 + i * 2000, coll_stop_ts: 1_767_225_600_001_500 + i * 2000, kernel_events: [{ channel_id: 0, kernel_start_ts: 1, kernel_stop_ts: 2, kernel_record_ts: 3 }] },
      },
    }));
  }
  return lines.join('\n') + '\n';
}

