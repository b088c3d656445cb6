/**
 * Grafana provisioning for fabricscope: the ClickHouse datasource (connection from the
 * environment, which Grafana expands in provisioning files) and a file provider that loads
 * the dashboards from the folder they are mounted at.
 */
import { stringify } from 'yaml';
import { CLICKHOUSE_PLUGIN, PROVISIONED_UID } from './datasource.js';

/** Where the README mounts the dashboards folder inside the Grafana container. */
export const GRAFANA_DASHBOARDS_PATH = '/var/lib/grafana/dashboards/fabricscope';

export function datasourceProvisioning(): string {
  return stringify({
    apiVersion: 1,
    datasources: [
      {
        name: 'fabricscope',
        uid: PROVISIONED_UID,
        type: CLICKHOUSE_PLUGIN,
        access: 'proxy',
        isDefault: false,
        editable: true,
        jsonData: {
          host: '${FABRICSCOPE_CLICKHOUSE_HOST:-localhost}',
          port: '${FABRICSCOPE_CLICKHOUSE_PORT:-8123}',
          protocol: '${FABRICSCOPE_CLICKHOUSE_PROTOCOL:-http}',
          secure: false,
          username: '${FABRICSCOPE_CLICKHOUSE_USER:-default}',
          defaultDatabase: '${FABRICSCOPE_CLICKHOUSE_DATABASE:-default}',
          // Dashboards only read: the plugin checks statements before sending them.
          validateSql: true,
          queryTimeout: '60',
        },
        secureJsonData: { password: '${FABRICSCOPE_CLICKHOUSE_PASSWORD:-}' },
      },
    ],
  });
}

export function dashboardProvisioning(): string {
  return stringify({
    apiVersion: 1,
    providers: [
      {
        name: 'fabricscope',
        orgId: 1,
        folder: 'fabricscope',
        type: 'file',
        disableDeletion: false,
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        options: { path: GRAFANA_DASHBOARDS_PATH, foldersFromFilesStructure: false },
      },
    ],
  });
}
