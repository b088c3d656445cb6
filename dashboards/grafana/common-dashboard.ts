/** What every fabricscope dashboard shares: uid prefix, tags, the datasource variable, links between them. */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { datasourceVariable } from './datasource.js';

export const DASHBOARD_TAG = 'fabricscope';

/** Stable uids: links between dashboards and bookmarks rely on them. */
export const DASHBOARD_UIDS = {
  fabric: 'fabricscope-fabric',
  determinism: 'fabricscope-determinism',
  stall: 'fabricscope-stall',
  gpus: 'fabricscope-gpus',
  alerts: 'fabricscope-alerts',
} as const;

export function baseDashboard(uid: string, title: string, description: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags([DASHBOARD_TAG])
    .timezone('utc')
    .time({ from: 'now-1h', to: 'now' })
    .refresh('30s')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .withVariable(datasourceVariable())
    .link(
      new dashboard.DashboardLinkBuilder('fabricscope')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags([DASHBOARD_TAG])
        .asDropdown(true)
        .keepTime(true)
        .includeVars(false),
    );
}

/**
 * URL of the stall drill-down for a table row with `job`, `id`, `from_ms` and `to_ms`
 * columns (Grafana data-link syntax), framed on the stall with some context either side.
 */
export const stallDrillDownUrl = `/d/${DASHBOARD_UIDS.stall}?var-job=\${__data.fields.job}&var-stall=\${__data.fields.id}&from=\${__data.fields.from_ms}&to=\${__data.fields.to_ms}`;
