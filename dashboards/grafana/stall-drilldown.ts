/**
 * Stall drill-down: one stalled collective call. Which rank was late or slow, which ports
 * of the path were congested while it ran, and the evidence behind its root cause. The
 * ports are those the evidence names plus those with a congestion episode overlapping the
 * call; links from other dashboards frame the time range on the stall.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARD_UIDS, baseDashboard } from './common-dashboard.js';
import { sqlVariable } from './datasource.js';
import { JOB_VARIABLE_SQL } from './job-determinism.js';
import { barChartPanel, statPanel, tablePanel, timeSeriesPanel } from './panels.js';

const STALL = `SELECT * FROM stalls FINAL WHERE id = '\${stall}'`;
const PORT_NAME = `'^(leaf|spine|nvsw)-[0-9]+/p[0-9]+$'`;

/** Ports on the stall's path that the evidence names or that were congested during it. */
const PATH_PORTS = `
  SELECT JSONExtractString(e, 'location') AS port
  FROM stalls FINAL ARRAY JOIN JSONExtractArrayRaw(rc_evidence) AS e
  WHERE id = '\${stall}' AND match(port, ${PORT_NAME})
  UNION DISTINCT
  SELECT port FROM congestion_episodes FINAL
  WHERE start <= (SELECT max(end) FROM stalls FINAL WHERE id = '\${stall}')
    AND end >= (SELECT min(start) FROM stalls FINAL WHERE id = '\${stall}')`;

export const STALL_VARIABLE_SQL = `SELECT id FROM stalls FINAL WHERE job = '\${job}' AND $__timeFilter(start) ORDER BY start DESC LIMIT 1000`;

export const STALL_SQL = {
  rootCause: `SELECT concat(rc_kind, ' @ ', rc_location) AS root_cause FROM (${STALL})`,
  slowdown: `SELECT round(duration_us / greatest(expected_us, 1), 2) AS slowdown FROM (${STALL})`,
  confidence: `SELECT rc_confidence AS confidence FROM (${STALL})`,
  summary: `
SELECT id, job, collective, seq, start, end, duration_us, expected_us, slowest_rank, rc_kind AS root_cause, rc_location AS location
FROM (${STALL})`,
  ranks: `
SELECT concat('rank ', toString(tupleElement(r, 'rank')), ' · ', tupleElement(r, 'gpu')) AS rank,
       tupleElement(r, 'start_us') - arrayMin(x -> tupleElement(x, 'start_us'), ranks) AS entered_late_us,
       tupleElement(r, 'exec_time_us') AS in_collective_us
FROM stalls FINAL ARRAY JOIN ranks AS r
WHERE id = '\${stall}'
ORDER BY tupleElement(r, 'rank')`,
  evidence: `
SELECT JSONExtractString(e, 'signal') AS signal,
       JSONExtractString(e, 'location') AS location,
       JSONExtractFloat(e, 'value') AS value,
       JSONExtractFloat(e, 'reference') AS reference,
       JSONExtractString(e, 'unit') AS unit,
       JSONExtractString(e, 'note') AS note
FROM stalls FINAL ARRAY JOIN JSONExtractArrayRaw(rc_evidence) AS e
WHERE id = '\${stall}'`,
  pathQueues: `
SELECT $__timeInterval_ms(ts) AS time, port, max(queue_bytes) AS queue_bytes
FROM port_samples
WHERE $__timeFilter(ts) AND port IN (${PATH_PORTS})
GROUP BY time, port
ORDER BY time`,
  pathPortsDuringStall: `
SELECT port,
       max(queue_bytes) AS peak_queue_bytes,
       sum(ecn_marked_pkts) AS ecn_marked_pkts,
       sum(pfc_rx_pause_us) AS pfc_paused_us,
       sum(credit_stall_us) AS credit_stalled_us,
       sum(link_errors) AS link_errors,
       countIf(NOT oper_up) AS down_samples
FROM port_samples
WHERE port IN (${PATH_PORTS})
  AND ts >= (SELECT min(start) FROM stalls FINAL WHERE id = '\${stall}') - INTERVAL 1 SECOND
  AND ts <= (SELECT max(end) FROM stalls FINAL WHERE id = '\${stall}') + INTERVAL 1 SECOND
GROUP BY port
ORDER BY peak_queue_bytes DESC`,
  rankClocks: `
SELECT $__timeInterval(ts) AS time, gpu, avg(metrics['DCGM_FI_DEV_SM_CLOCK']) AS sm_clock_mhz
FROM gpu_samples
WHERE $__timeFilter(ts)
  AND gpu IN (SELECT tupleElement(r, 'gpu') FROM stalls FINAL ARRAY JOIN ranks AS r WHERE id = '\${stall}')
GROUP BY time, gpu
ORDER BY time`,
};

export function stallDrillDown(): dashboard.DashboardBuilder {
  const q = STALL_SQL;
  return baseDashboard(DASHBOARD_UIDS.stall, 'fabricscope · Stall drill-down', "One stalled collective call: its ranks' timings, its path's ports and the evidence for its root cause.")
    .time({ from: 'now-15m', to: 'now' })
    .withVariable(sqlVariable('job', 'Job', JOB_VARIABLE_SQL))
    .withVariable(sqlVariable('stall', 'Stall', STALL_VARIABLE_SQL))
    .withPanel(statPanel('Root cause', q.rootCause).span(12).height(4))
    .withPanel(statPanel('Slowdown vs baseline', q.slowdown, { unit: 'x', decimals: 2 }).span(6).height(4))
    .withPanel(statPanel('Confidence', q.confidence, { unit: 'percentunit' }).span(6).height(4))
    .withPanel(tablePanel('Stall', q.summary).overrideByName('duration_us', [{ id: 'unit', value: 'µs' }]).overrideByName('expected_us', [{ id: 'unit', value: 'µs' }]).span(24).height(4))
    .withPanel(
      barChartPanel("Ranks' timings", q.ranks, { unit: 'µs', description: 'How late each rank entered the call, and how long it then spent in it.' })
        .stacking(common.StackingMode.Normal)
        .span(12)
        .height(14),
    )
    .withPanel(tablePanel('Evidence', q.evidence).span(12).height(7))
    .withPanel(tablePanel("Path's ports during the stall", q.pathPortsDuringStall).overrideByName('peak_queue_bytes', [{ id: 'unit', value: 'bytes' }]).span(12).height(7))
    .withPanel(timeSeriesPanel("Queue depth of the path's ports", q.pathQueues, { unit: 'bytes' }).span(12).height(8))
    .withPanel(timeSeriesPanel("SM clocks of the ranks' GPUs", q.rankClocks, { unit: 'rotmhz' }).span(12).height(8));
}
