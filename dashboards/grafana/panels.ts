/**
 * Panel builders pre-set for ClickHouse SQL: each takes a title and a query and returns the
 * SDK's own panel builder, so dashboards can refine it further with the SDK's methods.
 */
import * as barchart from '@grafana/grafana-foundation-sdk/barchart';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as heatmap from '@grafana/grafana-foundation-sdk/heatmap';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { ClickHouseQueryBuilder } from './clickhouse-query.js';
import { CLICKHOUSE_DATASOURCE } from './datasource.js';

export interface PanelOptions {
  description?: string;
  unit?: string;
  decimals?: number;
}

export function timeSeriesPanel(title: string, sql: string, o: PanelOptions = {}): timeseries.PanelBuilder {
  const p = new timeseries.PanelBuilder()
    .title(title)
    .datasource(CLICKHOUSE_DATASOURCE)
    .withTarget(new ClickHouseQueryBuilder(sql).timeSeries())
    .lineWidth(1)
    .fillOpacity(8)
    .showPoints(common.VisibilityMode.Never)
    .legend(new common.VizLegendOptionsBuilder().displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom).showLegend(true))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
  return decorate(p, o);
}

export function tablePanel(title: string, sql: string, o: PanelOptions = {}): table.PanelBuilder {
  return decorate(new table.PanelBuilder().title(title).datasource(CLICKHOUSE_DATASOURCE).withTarget(new ClickHouseQueryBuilder(sql).table()), o);
}

export function statPanel(title: string, sql: string, o: PanelOptions = {}): stat.PanelBuilder {
  const p = new stat.PanelBuilder()
    .title(title)
    .datasource(CLICKHOUSE_DATASOURCE)
    .withTarget(new ClickHouseQueryBuilder(sql).table())
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  return decorate(p, o);
}

/** Rows frame heatmap: one series per row label (e.g. per port), buckets already computed. */
export function heatmapPanel(title: string, sql: string, o: PanelOptions = {}): heatmap.PanelBuilder {
  const p = new heatmap.PanelBuilder()
    .title(title)
    .datasource(CLICKHOUSE_DATASOURCE)
    .withTarget(new ClickHouseQueryBuilder(sql).timeSeries())
    .calculate(false)
    .cellGap(1)
    .color(new heatmap.HeatmapColorOptionsBuilder().mode(heatmap.HeatmapColorMode.Scheme).scheme('Oranges').scale(heatmap.HeatmapColorScale.Exponential).exponent(0.5).steps(64))
    .yAxis(new heatmap.YAxisConfigBuilder().unit(o.unit ?? 'short'));
  return decorate(p, o);
}

export function barChartPanel(title: string, sql: string, o: PanelOptions = {}): barchart.PanelBuilder {
  const p = new barchart.PanelBuilder()
    .title(title)
    .datasource(CLICKHOUSE_DATASOURCE)
    .withTarget(new ClickHouseQueryBuilder(sql).table())
    .orientation(common.VizOrientation.Horizontal)
    .showValue(common.VisibilityMode.Auto);
  return decorate(p, o);
}

interface Decoratable {
  description(d: string): unknown;
  unit(u: string): unknown;
  decimals(d: number): unknown;
}

function decorate<P extends Decoratable>(p: P, o: PanelOptions): P {
  if (o.description) p.description(o.description);
  if (o.unit) p.unit(o.unit);
  if (o.decimals !== undefined) p.decimals(o.decimals);
  return p;
}

/** A field override that makes one column of a table a link (Grafana data-link syntax). */
export const linkColumn = (title: string, url: string): dashboard.DynamicConfigValue[] => [{ id: 'links', value: [{ title, url }] }];
