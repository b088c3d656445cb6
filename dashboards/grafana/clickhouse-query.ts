/**
 * A Grafana query target for the ClickHouse datasource plugin (grafana-clickhouse-datasource).
 * The foundation SDK ships no ClickHouse query type; its documented way for any other
 * datasource is a custom `cog.Dataquery` variant with its own builder, which this is. The
 * fields are those the plugin reads from a panel target (src/types/sql.ts): raw SQL from the
 * SQL editor, and the sqlds result format (0 time series, 1 table).
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as common from '@grafana/grafana-foundation-sdk/common';
import { CLICKHOUSE_DATASOURCE } from './datasource.js';

export enum ClickHouseFormat {
  TimeSeries = 0,
  Table = 1,
}

export class ClickHouseQuery implements cog.Dataquery {
  refId = 'A';
  datasource: common.DataSourceRef = CLICKHOUSE_DATASOURCE;
  editorType = 'sql' as const;
  rawSql = '';
  format: ClickHouseFormat = ClickHouseFormat.Table;
  queryType: 'table' | 'timeseries' = 'table';

  // Marks this class as a Dataquery variant for the SDK's panel builders.
  _implementsDataqueryVariant(): void {}
}

export class ClickHouseQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly internal = new ClickHouseQuery();

  constructor(rawSql: string) {
    this.internal.rawSql = rawSql.trim();
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }

  /** Wide or long time series: Grafana pivots (time, label, value) rows by label. */
  timeSeries(): this {
    this.internal.format = ClickHouseFormat.TimeSeries;
    this.internal.queryType = 'timeseries';
    return this;
  }

  table(): this {
    this.internal.format = ClickHouseFormat.Table;
    this.internal.queryType = 'table';
    return this;
  }

  build(): ClickHouseQuery {
    return this.internal;
  }
}
