/**
 * Fabric overview: where the Ethernet fabric queues, marks and pauses, and where the scale-up
 * links run short of credits. Reads the 1-second rollups (0003-port-rollups), so an hour is
 * 3600 rows per port instead of 36 000 raw samples; rates are sums over covered time.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARD_UIDS, baseDashboard } from './common-dashboard.js';
import { heatmapPanel, statPanel, tablePanel, timeSeriesPanel } from './panels.js';

/** Leaf and spine ports: the RoCE fabric (nvsw-* ports are scale-up). */
const SCALE_OUT = `(port LIKE 'leaf-%' OR port LIKE 'spine-%')`;
const SWITCH = `splitByChar('/', port)[1]`;

export const FABRIC_SQL = {
  stalls: `SELECT count() AS stalls FROM stalls FINAL WHERE $__timeFilter(start)`,
  gpuSecondsLost: `SELECT round(sum((duration_us - expected_us) * n_ranks) / 1e6, 3) AS gpu_seconds_lost FROM stalls FINAL WHERE $__timeFilter(start)`,
  congestedPorts: `SELECT uniqExact(port) AS ports FROM congestion_episodes FINAL WHERE $__timeFilter(start)`,
  linkErrors: `SELECT sum(link_errors) AS link_errors FROM port_samples_1s WHERE $__timeFilter(ts)`,
  queueHeatmap: `
SELECT $__timeInterval(ts) AS time, port, max(queue_bytes_max) AS queue_bytes
FROM port_samples_1s
WHERE $__timeFilter(ts) AND ${SCALE_OUT}
GROUP BY time, port
ORDER BY time, port`,
  ecnRate: `
SELECT $__timeInterval(ts) AS time, ${SWITCH} AS switch,
       sum(ecn_marked_pkts) / greatest(sum(interval_ms) / 1000 / uniqExact(port), 0.001) AS ecn_marked_pkts_per_s
FROM port_samples_1s
WHERE $__timeFilter(ts) AND ${SCALE_OUT}
GROUP BY time, switch
ORDER BY time`,
  pfcPause: `
SELECT $__timeInterval(ts) AS time, ${SWITCH} AS switch,
       least(1, max(pfc_rx_pause_us / greatest(interval_ms * 1000, 1))) AS worst_port_paused
FROM port_samples_1s
WHERE $__timeFilter(ts) AND ${SCALE_OUT}
GROUP BY time, switch
ORDER BY time`,
  topPorts: `
SELECT port,
       max(queue_bytes_max) AS peak_queue_bytes,
       round(sum(queue_bytes_sum) / greatest(sum(samples), 1)) AS avg_queue_bytes,
       round(sum(ecn_marked_pkts) / greatest(sum(interval_ms) / 1000, 0.001)) AS ecn_pkts_per_s,
       least(1, sum(pfc_rx_pause_us) / greatest(sum(interval_ms) * 1000, 1)) AS paused,
       sum(link_errors) AS link_errors
FROM port_samples_1s
WHERE $__timeFilter(ts)
GROUP BY port
ORDER BY peak_queue_bytes DESC, ecn_pkts_per_s DESC
LIMIT 15`,
  creditStalls: `
SELECT $__timeInterval(ts) AS time, port,
       least(1, sum(credit_stall_us) / greatest(sum(interval_ms) * 1000, 1)) AS credit_stalled
FROM port_samples_1s
WHERE $__timeFilter(ts) AND port LIKE 'nvsw-%'
GROUP BY time, port
ORDER BY time`,
  episodes: `
SELECT start, end, port, peak_queue_bytes, ecn_marked_pkts, pfc_rx_pause_us, credit_stall_us, arrayStringConcat(signals, ', ') AS signals
FROM congestion_episodes FINAL
WHERE $__timeFilter(start)
ORDER BY start DESC
LIMIT 200`,
};

export function fabricOverview(): dashboard.DashboardBuilder {
  const q = FABRIC_SQL;
  return baseDashboard(DASHBOARD_UIDS.fabric, 'fabricscope · Fabric overview', 'Queues, ECN marks, PFC pauses and scale-up credit stalls across the fabric.')
    .withPanel(statPanel('Stalled collectives', q.stalls, { unit: 'short' }).span(6).height(4))
    .withPanel(statPanel('GPU time lost to stalls', q.gpuSecondsLost, { unit: 's', decimals: 2 }).span(6).height(4))
    .withPanel(statPanel('Ports with congestion episodes', q.congestedPorts, { unit: 'short' }).span(6).height(4))
    .withPanel(statPanel('Link errors', q.linkErrors, { unit: 'short' }).span(6).height(4))
    .withRow(new dashboard.RowBuilder('Scale-out (RoCE)'))
    .withPanel(heatmapPanel('Egress queue depth by port', q.queueHeatmap, { unit: 'bytes', description: 'Peak queue per port and interval.' }).span(24).height(10))
    .withPanel(timeSeriesPanel('ECN-marked packets per switch', q.ecnRate, { unit: 'pps', description: 'Mean ECN marks per second per port of each switch.' }).span(12).height(8))
    .withPanel(timeSeriesPanel('PFC pause (worst port per switch)', q.pfcPause, { unit: 'percentunit', description: 'Fraction of time the most-paused port of each switch was paused.' }).span(12).height(8))
    .withPanel(tablePanel('Top congested ports', q.topPorts, { description: 'Over the selected range.' }).overrideByName('peak_queue_bytes', [{ id: 'unit', value: 'bytes' }]).overrideByName('avg_queue_bytes', [{ id: 'unit', value: 'bytes' }]).overrideByName('paused', [{ id: 'unit', value: 'percentunit' }]).span(12).height(9))
    .withPanel(tablePanel('Congestion episodes', q.episodes).overrideByName('peak_queue_bytes', [{ id: 'unit', value: 'bytes' }]).span(12).height(9))
    .withRow(new dashboard.RowBuilder('Scale-up (NVLink switch)'))
    .withPanel(timeSeriesPanel('Credit-stalled time by scale-up port', q.creditStalls, { unit: 'percentunit', description: 'Fraction of time a scale-up port waited for link credits.' }).span(24).height(8));
}
