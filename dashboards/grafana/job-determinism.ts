/**
 * Job determinism: does every collective call of a job take as long as the last one? A call
 * lasts from its first rank's start to its last rank's end (what the job waits for); jitter is
 * the spread of those durations within an interval.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARD_UIDS, baseDashboard, stallDrillDownUrl } from './common-dashboard.js';
import { sqlVariable } from './datasource.js';
import { barChartPanel, linkColumn, tablePanel, timeSeriesPanel } from './panels.js';

/** One row per collective call of the selected job in the range. */
const CALLS = `
  SELECT comm_id, seq,
         min(start) AS call_start,
         toUnixTimestamp64Micro(max(end)) - toUnixTimestamp64Micro(min(start)) AS duration_us,
         avg(busbw_gbs) AS busbw_gbs
  FROM collective_events
  WHERE job = '\${job}' AND $__timeFilter(start)
  GROUP BY comm_id, seq`;

/** Drill-down framing: 10 s either side of the stall. */
const STALL_LINK_COLUMNS = `toUnixTimestamp64Milli(start) - 10000 AS from_ms, toUnixTimestamp64Milli(end) + 10000 AS to_ms`;

export const JOB_VARIABLE_SQL = `SELECT DISTINCT job FROM collective_events WHERE $__timeFilter(start) ORDER BY job`;

export const DETERMINISM_SQL = {
  durations: `
SELECT $__timeInterval(call_start) AS time,
       quantile(0.5)(duration_us) AS p50,
       quantile(0.9)(duration_us) AS p90,
       quantile(0.99)(duration_us) AS p99,
       max(duration_us) AS max
FROM (${CALLS})
GROUP BY time
ORDER BY time`,
  jitter: `
SELECT $__timeInterval(call_start) AS time,
       (quantile(0.99)(duration_us) - quantile(0.5)(duration_us)) / greatest(quantile(0.5)(duration_us), 1) AS p99_over_p50,
       stddevPop(duration_us) / greatest(avg(duration_us), 1) AS coefficient_of_variation
FROM (${CALLS})
GROUP BY time
ORDER BY time`,
  busbw: `
SELECT $__timeInterval(call_start) AS time, avg(busbw_gbs) AS mean_busbw, min(busbw_gbs) AS worst_busbw
FROM (${CALLS})
GROUP BY time
ORDER BY time`,
  stallsOverTime: `
SELECT $__timeInterval(start) AS time, rc_kind AS root_cause, count() AS stalls
FROM stalls FINAL
WHERE job = '\${job}' AND $__timeFilter(start)
GROUP BY time, root_cause
ORDER BY time`,
  culprits: `
SELECT concat(rc_kind, ' @ ', rc_location) AS culprit,
       count() AS stalls,
       round(sum((duration_us - expected_us) * n_ranks) / 1e6, 3) AS gpu_seconds_lost
FROM stalls FINAL
WHERE job = '\${job}' AND $__timeFilter(start)
GROUP BY culprit
ORDER BY gpu_seconds_lost DESC
LIMIT 10`,
  stalls: `
SELECT id, job, start, collective, seq, duration_us, expected_us,
       round(duration_us / greatest(expected_us, 1), 2) AS slowdown,
       rc_kind AS root_cause, rc_location AS location, rc_confidence AS confidence,
       ${STALL_LINK_COLUMNS}
FROM stalls FINAL
WHERE job = '\${job}' AND $__timeFilter(start)
ORDER BY start DESC
LIMIT 500`,
};

export function jobDeterminism(): dashboard.DashboardBuilder {
  const q = DETERMINISM_SQL;
  return baseDashboard(DASHBOARD_UIDS.determinism, 'fabricscope · Job determinism', 'Collective durations, jitter and bus bandwidth of a job, and its stalls with their root causes.')
    .withVariable(sqlVariable('job', 'Job', JOB_VARIABLE_SQL))
    .withPanel(timeSeriesPanel('Collective call duration', q.durations, { unit: 'µs', description: 'First rank start to last rank end, per call.' }).span(12).height(8))
    .withPanel(timeSeriesPanel('Jitter', q.jitter, { unit: 'percentunit', description: 'Spread of call durations within each interval.' }).span(12).height(8))
    .withPanel(timeSeriesPanel('Bus bandwidth', q.busbw, { unit: 'suffix: GB/s' }).span(12).height(8))
    .withPanel(timeSeriesPanel('Stalls by root cause', q.stallsOverTime, { unit: 'short' }).drawStyle(common.GraphDrawStyle.Bars).span(12).height(8))
    .withPanel(barChartPanel('Culprits by GPU time lost', q.culprits, { unit: 's' }).span(8).height(10))
    .withPanel(
      tablePanel('Stalls', q.stalls, { description: 'Click a stall id for its drill-down.' })
        .overrideByName('id', linkColumn('Stall drill-down', stallDrillDownUrl))
        .overrideByName('duration_us', [{ id: 'unit', value: 'µs' }])
        .overrideByName('expected_us', [{ id: 'unit', value: 'µs' }])
        .overrideByName('confidence', [{ id: 'unit', value: 'percentunit' }])
        .overrideByName('from_ms', [{ id: 'custom.hidden', value: true }])
        .overrideByName('to_ms', [{ id: 'custom.hidden', value: true }])
        .span(16)
        .height(10),
    );
}
