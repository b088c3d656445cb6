/**
 * The one way other parts obtain a store: a ClickHouse URL selects a server, otherwise
 * embedded chDB in the data directory. The caller runs `migrate()` before use.
 */
import type { Logger } from '../core/log.js';
import { openClickHouse } from './clickhouse-connection.js';
import { ClickHouseStore } from './clickhouse-store.js';
import type { QueryLimits } from './query-limits.js';
import type { ResultCacheOptions } from './result-cache.js';
import type { StallIndexOptions } from './stall-index.js';
import type { RetentionDays } from './schema/retention.js';
import { DEFAULT_ZOOKEEPER_PATH, SchemaLayout } from './schema/layout.js';
import { ConfigError } from '../core/errors.js';
import { DEFAULT_RESULT_CACHE_ITEMS } from '../core/config.js';

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
  /** Cluster mode on a server (config `clickhouse_cluster`): DDL ON CLUSTER this name. */
  cluster?: string;
  /** With `cluster`: replicated engines under `zookeeperPath` (config `clickhouse_replicated`). */
  replicated?: boolean;
  zookeeperPath?: string;
  /** With `cluster`: local tables per shard behind Distributed ones (config `clickhouse_distributed`). */
  distributed?: boolean;
  /**
   * Items (rows, points, ranks) embedded chDB's result cache may keep (config
   * `result_cache_items`, default DEFAULT_RESULT_CACHE_ITEMS); 0 keeps none. A server gets no
   * cache whatever this says: other writers change its data without this store knowing.
   */
  resultCacheItems?: number;
}

/** How long a kept answer may outlive rows that TTL retention removed meanwhile. */
export const RESULT_CACHE_MAX_AGE_MS = 60_000;

/**
 * Embedded chDB's stall index (stall-index.ts): the listing from memory while the table holds
 * at most this many stalls (about a month at 3,000 a day, ~100 MB), the SQL listing beyond.
 */
export const STALL_INDEX_OPTIONS: StallIndexOptions = { max_stalls: 100_000, max_age_ms: RESULT_CACHE_MAX_AGE_MS };

/** The schema layout the options ask for, or a ConfigError naming the setting that is wrong. */
export function layoutOf(options: StoreOptions): SchemaLayout {
  if (options.cluster === undefined) {
    if (options.replicated) throw new ConfigError('replicated tables need a cluster: set clickhouse_cluster too', 'clickhouse_replicated');
    if (options.distributed) throw new ConfigError('distributed tables need a cluster: set clickhouse_cluster too', 'clickhouse_distributed');
    return SchemaLayout.SINGLE_NODE;
  }
  if (!options.clickhouse) {
    throw new ConfigError(
      'cluster mode needs a ClickHouse server: set clickhouse to a server URL (embedded chDB is one process on one machine, it has no cluster)',
      'clickhouse_cluster',
    );
  }
  try {
    return SchemaLayout.forCluster({
      name: options.cluster,
      replicated: options.replicated ?? false,
      zookeeper_path: options.zookeeperPath ?? DEFAULT_ZOOKEEPER_PATH,
      distributed: options.distributed ?? false,
    });
  } catch (e) {
    const setting = (e as Error).message.startsWith('ZooKeeper') ? 'clickhouse_zookeeper_path' : 'clickhouse_cluster';
    throw new ConfigError((e as Error).message, setting);
  }
}

export function createStore(options: StoreOptions = {}): ClickHouseStore {
  // Before opening anything: a wrong layout must not leave a chDB directory or a connection behind.
  const layout = layoutOf(options);
  const { client, describe, rawInsert } = openClickHouse(
    options.clickhouse
      ? { kind: 'server', url: options.clickhouse }
      : { kind: 'embedded', dataDir: options.data ?? 'data' },
  );
  options.logger?.info('store opened', { target: describe, layout: layout.describe() });
  return new ClickHouseStore(client, {
    describe,
    logger: options.logger?.child('store'),
    queryLimits: options.queryLimits,
    retentionDays: options.retentionDays,
    layout,
    rawInsert,
    resultCache: resultCacheOf(options),
    // Sound only where this store makes every write: embedded chDB, never a shared server.
    stallIndex: options.clickhouse ? undefined : STALL_INDEX_OPTIONS,
  });
}

function resultCacheOf(options: StoreOptions): ResultCacheOptions | undefined {
  const items = options.resultCacheItems ?? DEFAULT_RESULT_CACHE_ITEMS;
  if (options.clickhouse || items <= 0) return undefined;
  return { max_items: items, max_age_ms: RESULT_CACHE_MAX_AGE_MS };
}
