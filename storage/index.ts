/** Public surface of storage/: everything else in this folder is an implementation detail. */
export { createStore, layoutOf, type StoreOptions } from './create-store.js';
export { SchemaLayout, type ClusterOptions } from './schema/layout.js';
export { ClickHouseStore, type ClickHouseStoreOptions } from './clickhouse-store.js';
export { openClickHouse, type ClickHouseTarget, type ClickHouseConnection } from './clickhouse-connection.js';
export { MIGRATIONS, runMigrations } from './schema/migrations.js';
export { DEFAULT_QUERY_LIMITS, type QueryLimits } from './query-limits.js';
export { DEFAULT_RETENTION_DAYS, applyRetention, type RetentionDays, type RetentionTable } from './schema/retention.js';
