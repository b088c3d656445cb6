/**
 * The Store (core/store.ts) on ClickHouse: the same DDL and queries on embedded chDB and on
 * a ClickHouse server; only the connection differs (clickhouse-connection.ts).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { StorageError, isFabricscopeError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { TOPICS, type Alert, type Stall, type Topic, type TopicRecords } from '../core/records.js';
import type { AlertFilter, GpuView, StallFilter, Store } from '../core/store.js';
import { runMigrations } from './schema/migrations.js';
import {
  ALERT_COLUMNS,
  STALL_COLUMNS,
  alertOf,
  gpuOf,
  rowsOf,
  stallOf,
  type AlertRow,
  type GpuRow,
  type StallRow,
} from './rows.js';
import { stallListQuery } from './stall-query.js';

/** Tables whose rows are versions of one record (ReplacingMergeTree): read with FINAL. */
const REPLACING: ReadonlySet<Topic> = new Set<Topic>(['congestion_episodes', 'stalls', 'alerts']);

export interface ClickHouseStoreOptions {
  /** Where the data lives, for logs and errors (no credentials). */
  describe?: string;
  logger?: Logger;
}

export class ClickHouseStore implements Store {
  readonly describe: string;
  private readonly client: ClickHouseClient;
  private readonly logger?: Logger;
  private lastVersion = 0;

  constructor(client: ClickHouseClient, options: ClickHouseStoreOptions = {}) {
    this.client = client;
    this.describe = options.describe ?? 'clickhouse';
    this.logger = options.logger;
  }

  async migrate(): Promise<void> {
    await this.run('migrate', () => runMigrations(this.client, this.logger));
  }

  async insert<T extends Topic>(topic: T, rows: TopicRecords[T][]): Promise<void> {
    if (rows.length === 0) return;
    const values = rowsOf(topic, rows, this.nextVersion());
    await this.run(`insert ${topic}`, () => this.client.insert({ table: topic, values, format: 'JSONEachRow' }));
  }

  async listStalls(filter: StallFilter): Promise<Stall[]> {
    return this.run('listStalls', async () => (await this.select<StallRow>(stallListQuery(filter))).map(stallOf));
  }

  async getStall(id: string): Promise<Stall | undefined> {
    return this.run('getStall', async () => {
      const rows = await this.select<StallRow>({
        query: `SELECT ${STALL_COLUMNS} FROM stalls FINAL WHERE id = {id:String} LIMIT 1`,
        query_params: { id },
      });
      return rows[0] ? stallOf(rows[0]) : undefined;
    });
  }

  async listAlerts(filter: AlertFilter): Promise<Alert[]> {
    return this.run('listAlerts', async () => {
      const params: Record<string, unknown> = { limit: filter.limit };
      let where = '';
      if (filter.state !== undefined) {
        where = 'WHERE state = {state:String}';
        params.state = filter.state;
      }
      const rows = await this.select<AlertRow>({
        query: `SELECT ${ALERT_COLUMNS} FROM alerts FINAL ${where} ORDER BY starts DESC, id LIMIT {limit:UInt32}`,
        query_params: params,
      });
      return rows.map(alertOf);
    });
  }

  async listGpus(): Promise<GpuView[]> {
    return this.run('listGpus', async () => {
      // Latest sample per GPU: argMax by timestamp, one pass over the samples.
      const rows = await this.select<GpuRow>({
        query: `SELECT gpu AS id,
                       argMax(node, ts) AS node,
                       argMax(uuid, ts) AS uuid,
                       argMax(model, ts) AS model,
                       toUnixTimestamp64Milli(max(ts)) AS last_seen_ms,
                       argMax(metrics, ts) AS metrics
                FROM gpu_samples
                GROUP BY gpu`,
        query_params: {},
      });
      // Natural order, so node-2/gpu-0 comes before node-10/gpu-0.
      return rows.map(gpuOf).sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
    });
  }

  async counts(): Promise<Record<Topic, number>> {
    return this.run('counts', async () => {
      const query = TOPICS.map(
        (t) => `SELECT '${t}' AS topic, count() AS n FROM ${t}${REPLACING.has(t) ? ' FINAL' : ''}`,
      ).join('\nUNION ALL\n');
      const rows = await this.select<{ topic: Topic; n: number | string }>({ query, query_params: {} });
      const out = Object.fromEntries(TOPICS.map((t) => [t, 0])) as Record<Topic, number>;
      for (const r of rows) out[r.topic] = Number(r.n);
      return out;
    });
  }

  async ping(): Promise<void> {
    await this.run('ping', async () => {
      const result = await this.client.ping();
      if (!result.success) throw result.error;
    });
  }

  async close(): Promise<void> {
    await this.run('close', () => this.client.close());
  }

  private async select<R>(q: { query: string; query_params: Record<string, unknown> }): Promise<R[]> {
    const rs = await this.client.query({ query: q.query, query_params: q.query_params, format: 'JSONEachRow' });
    return rs.json<R>();
  }

  /** Every failure leaves the store as a StorageError that names the operation. */
  private async run<R>(operation: string, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (e) {
      if (isFabricscopeError(e)) throw e;
      const reason = e instanceof Error ? e.message : String(e);
      this.logger?.warn('storage operation failed', { operation, target: this.describe, error: reason });
      throw new StorageError(`${operation} failed on ${this.describe}: ${reason}`, e);
    }
  }

  /** Strictly increasing per process: orders re-inserted versions of one record. */
  private nextVersion(): number {
    this.lastVersion = Math.max(Date.now(), this.lastVersion + 1);
    return this.lastVersion;
  }
}
