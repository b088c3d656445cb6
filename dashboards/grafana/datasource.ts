/**
 * The ClickHouse datasource every dashboard queries. Dashboards refer to it through the
 * `datasource` variable, so a site with its own ClickHouse datasource picks it from a list;
 * the provisioned one (provisioning.ts) has the fixed uid the variable defaults to.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as common from '@grafana/grafana-foundation-sdk/common';

export const CLICKHOUSE_PLUGIN = 'grafana-clickhouse-datasource';
export const PROVISIONED_UID = 'fabricscope-clickhouse';
export const DATASOURCE_VARIABLE = 'datasource';

/** What panels and targets point at: whatever the `datasource` variable selects. */
export const CLICKHOUSE_DATASOURCE: common.DataSourceRef = { type: CLICKHOUSE_PLUGIN, uid: `\${${DATASOURCE_VARIABLE}}` };

export const datasourceVariable = () =>
  new dashboard.DatasourceVariableBuilder(DATASOURCE_VARIABLE)
    .label('ClickHouse')
    .type(CLICKHOUSE_PLUGIN)
    .current({ text: 'fabricscope', value: PROVISIONED_UID });

/** A dashboard variable filled by a SQL query on the datasource. */
export const sqlVariable = (name: string, label: string, sql: string) =>
  new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(CLICKHOUSE_DATASOURCE)
    .query(sql.trim())
    .definition(sql.trim())
    // Re-read the options when the time range changes: jobs and stalls come and go.
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged);
