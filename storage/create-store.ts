/**
 * The one way other parts obtain a store: a ClickHouse URL selects a server, otherwise
 * embedded chDB in the data directory. The caller runs `migrate()` before use.
 */
import type { Logger } from '../core/log.js';
import { openClickHouse } from './clickhouse-connection.js';
import { ClickHouseStore } from './clickhouse-store.js';
import type { QueryLimits } from './query-limits.js';
import type { RetentionDays } from './schema/retention.js';

export interface StoreOptions {
  /** Data directory of embedded chDB (default `data`). Ignored when `clickhouse` is set. */
  data?: string;
  /** ClickHouse server URL, e.g. `http://default:@localhost:8123/fabricscope`. */
  clickhouse?: string;
  logger?: Logger;
  /** Limits of every read query (execution time, result rows). */
  queryLimits?: Partial<QueryLimits>;
  /** Days to keep per table; 0 keeps forever (see DEFAULT_RETENTION_DAYS). */
  retentionDays?: Partial<RetentionDays>;
}

export function createStore(options: StoreOptions = {}): ClickHouseStore {
  const { client, describe } = openClickHouse(
    options.clickhouse
      ? { kind: 'server', url: options.clickhouse }
      : { kind: 'embedded', dataDir: options.data ?? 'data' },
  );
  options.logger?.info('store opened', { target: describe });
  return new ClickHouseStore(client, { describe, logger: options.logger?.child('store'), queryLimits: options.queryLimits,
    retentionDays: options.retentionDays,
  });
}
