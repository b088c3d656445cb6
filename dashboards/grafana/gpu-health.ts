/**
 * GPU health from dcgm-exporter fields: clocks and why they are held down (the clock-event
 * reasons bitmask, decoded), power, temperature, NVLink traffic and XIDs.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARD_UIDS, baseDashboard } from './common-dashboard.js';
import { CLICKHOUSE_DATASOURCE } from './datasource.js';
import { tablePanel, timeSeriesPanel } from './panels.js';

const GPUS = `$__conditionalAll(gpu IN (\${gpu:singlequote}), $gpu)`;
const field = (name: string) => `metrics['DCGM_FI_${name}']`;

/** DCGM_CLOCKS_EVENT_REASON_* bits (dcgm_structs.h), the ones that mean "held down". */
const REASONS: Array<[number, string]> = [
  [0x4, 'software power cap'],
  [0x8, 'hardware slowdown'],
  [0x20, 'software thermal'],
  [0x40, 'hardware thermal'],
  [0x80, 'power brake'],
  [0x2, 'application clocks'],
];

const perGpu = (expr: string, alias: string) => `
SELECT $__timeInterval(ts) AS time, gpu, ${expr} AS ${alias}
FROM gpu_samples
WHERE $__timeFilter(ts) AND ${GPUS}
GROUP BY time, gpu
ORDER BY time`;

export const GPU_VARIABLE_SQL = `SELECT DISTINCT gpu FROM gpu_samples WHERE $__timeFilter(ts) ORDER BY gpu`;

export const GPU_SQL = {
  smClock: perGpu(`avg(${field('DEV_SM_CLOCK')})`, 'sm_clock_mhz'),
  clockReasons: `
SELECT $__timeInterval(ts) AS time, reason,
       uniqExactIf(gpu, bitAnd(toUInt64(${field('DEV_CLOCKS_EVENT_REASONS')}), bit) != 0) AS gpus
FROM gpu_samples
ARRAY JOIN [${REASONS.map(([bit]) => bit).join(', ')}] AS bit, [${REASONS.map(([, name]) => `'${name}'`).join(', ')}] AS reason
WHERE $__timeFilter(ts) AND ${GPUS}
GROUP BY time, reason
ORDER BY time`,
  power: perGpu(`avg(${field('DEV_POWER_USAGE')})`, 'power_w'),
  temperature: perGpu(`max(${field('DEV_GPU_TEMP')})`, 'temp_c'),
  nvlink: perGpu(`avg(${field('PROF_NVLINK_TX_BYTES')} + ${field('PROF_NVLINK_RX_BYTES')})`, 'nvlink_bytes_per_s'),
  xid: perGpu(`max(${field('DEV_XID_ERRORS')})`, 'last_xid'),
  summary: `
SELECT gpu, any(model) AS model, max(ts) AS last_seen,
       min(${field('DEV_SM_CLOCK')}) AS min_sm_clock_mhz,
       avg(${field('DEV_SM_CLOCK')}) AS avg_sm_clock_mhz,
       max(${field('DEV_GPU_TEMP')}) AS max_temp_c,
       avg(${field('DEV_POWER_USAGE')}) AS avg_power_w,
       avg(${field('DEV_GPU_UTIL')}) AS avg_util_pct,
       countIf(bitAnd(toUInt64(${field('DEV_CLOCKS_EVENT_REASONS')}), ${REASONS.reduce((m, [bit]) => m | bit, 0)}) != 0) AS throttled_samples,
       argMax(${field('DEV_XID_ERRORS')}, ts) AS last_xid,
       countIf(${field('DEV_XID_ERRORS')} != 0) AS xid_samples
FROM gpu_samples
WHERE $__timeFilter(ts) AND ${GPUS}
GROUP BY gpu
ORDER BY min_sm_clock_mhz ASC, gpu`,
};

export function gpuHealth(): dashboard.DashboardBuilder {
  const q = GPU_SQL;
  return baseDashboard(DASHBOARD_UIDS.gpus, 'fabricscope · GPU health', 'DCGM clocks, clock-event reasons, power, temperature, NVLink traffic and XIDs.')
    .withVariable(
      new dashboard.QueryVariableBuilder('gpu')
        .label('GPU')
        .datasource(CLICKHOUSE_DATASOURCE)
        .query(GPU_VARIABLE_SQL)
        .definition(GPU_VARIABLE_SQL)
        .multi(true)
        .includeAll(true)
        .current({ text: 'All', value: '$__all' })
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged),
    )
    .withPanel(timeSeriesPanel('SM clock', q.smClock, { unit: 'rotmhz' }).span(12).height(8))
    .withPanel(timeSeriesPanel('GPUs held down, by clock-event reason', q.clockReasons, { unit: 'short', description: 'Decoded DCGM_FI_DEV_CLOCKS_EVENT_REASONS.' }).span(12).height(8))
    .withPanel(timeSeriesPanel('Power draw', q.power, { unit: 'watt' }).span(8).height(8))
    .withPanel(timeSeriesPanel('Temperature', q.temperature, { unit: 'celsius' }).span(8).height(8))
    .withPanel(timeSeriesPanel('NVLink traffic (TX + RX)', q.nvlink, { unit: 'Bps' }).span(8).height(8))
    .withPanel(timeSeriesPanel('XID (last error code)', q.xid, { unit: 'none', description: '0 when no XID error was reported.' }).span(8).height(8))
    .withPanel(
      tablePanel('GPUs, slowest clocks first', q.summary)
        .overrideByName('avg_power_w', [{ id: 'unit', value: 'watt' }])
        .overrideByName('max_temp_c', [{ id: 'unit', value: 'celsius' }])
        .span(16)
        .height(8),
    );
}
