/** Alerts: what fires now, what fired in the range, by rule. */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARD_UIDS, baseDashboard } from './common-dashboard.js';
import { barChartPanel, statPanel, tablePanel, timeSeriesPanel } from './panels.js';

/** Alerts active at some time in the range; an unset end (0) is still open. */
const IN_RANGE = `starts <= $__toTime AND (ends >= $__fromTime OR toUnixTimestamp64Milli(ends) = 0)`;

export const ALERT_SQL = {
  firing: `SELECT countIf(state = 'firing') AS firing FROM alerts FINAL`,
  pending: `SELECT countIf(state = 'pending') AS pending FROM alerts FINAL`,
  inRange: `SELECT count() AS alerts FROM alerts FINAL WHERE ${IN_RANGE}`,
  started: `
SELECT $__timeInterval(starts) AS time, rule, count() AS alerts
FROM alerts FINAL
WHERE $__timeFilter(starts)
GROUP BY time, rule
ORDER BY time`,
  byRule: `
SELECT rule, countIf(state = 'firing') AS firing, countIf(state = 'pending') AS pending, countIf(state = 'resolved') AS resolved
FROM alerts FINAL
WHERE ${IN_RANGE}
GROUP BY rule
ORDER BY firing DESC, rule`,
  list: `
SELECT starts, if(toUnixTimestamp64Milli(ends) = 0, NULL, ends) AS ended, state, rule, value,
       annotations['summary'] AS summary,
       arrayStringConcat(arrayMap((k, v) -> concat(k, '=', v), mapKeys(labels), mapValues(labels)), ', ') AS labels
FROM alerts FINAL
WHERE ${IN_RANGE}
ORDER BY state = 'firing' DESC, starts DESC
LIMIT 500`,
};

export function alertsDashboard(): dashboard.DashboardBuilder {
  const q = ALERT_SQL;
  return baseDashboard(DASHBOARD_UIDS.alerts, 'fabricscope · Alerts', 'Determinism and fabric alerts raised by the pipeline.')
    .withPanel(statPanel('Firing now', q.firing).span(8).height(4))
    .withPanel(statPanel('Pending now', q.pending).span(8).height(4))
    .withPanel(statPanel('Alerts in range', q.inRange).span(8).height(4))
    .withPanel(timeSeriesPanel('Alerts started, by rule', q.started, { unit: 'short' }).span(14).height(8))
    .withPanel(barChartPanel('By rule and state', q.byRule).span(10).height(8))
    .withPanel(tablePanel('Alerts', q.list).span(24).height(10));
}
