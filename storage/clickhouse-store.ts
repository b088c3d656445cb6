/**
 * The Store (core/store.ts) on ClickHouse: the same DDL and queries on embedded chDB and on
 * a ClickHouse server; only the connection differs (clickhouse-connection.ts).
 */
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { BackpressureError, InvalidArgumentError, StorageError, isFabricscopeError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { TOPICS, type Alert, type Stall, type StoredRecords, type Topic } from '../core/records.js';
import type {
  InsertOptions,
  AlertFilter,
  GpuSeriesPoint,
  GpuView,
  JobSeriesPoint,
  JobView,
  PortState,
  TimeWindow,
  PortSeries,
  PortSeriesPoint,
  QueryStore,
  RootCauseFilter,
  RootCauseSummary,
  SeriesWindow,
  StallFilter,
  TopRootCauses,
} from '../core/store.js';
import type { RootCauseKind } from '../core/names.js';
import { RESULT_SHAPE_SETTINGS, type RawJsonInsert } from './clickhouse-connection.js';
import { runMigrations } from './schema/migrations.js';
import { SchemaLayout } from './schema/layout.js';
import { applyRetention, resolveRetention, type RetentionDays } from './schema/retention.js';
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
import { DEFAULT_QUERY_LIMITS, LIMIT_ERROR_TYPES, readOnlySettingsClause, type QueryLimits } from './query-limits.js';
import { stallListQuery, type BoundQuery } from './stall-query.js';
import { rankRootCauses } from './root-cause-ranking.js';
import { roundGpuSeconds, topRootCausesQuery, type RootCauseRankingsRow, type RootCauseRow } from './root-cause-query.js';
import {
  bucketsInClickHouse,
  gpuSeriesQuery,
  portRollupRowsQuery,
  rollupPortsOf,
  type RollupRead,
  type RollupRow,
  type RollupResolution,
  jobSeriesQuery,
  portSeriesQuery,
  seriesResolutionFor,
  type GpuFieldRow,
  type JobBucketRow,
  type PortBucketRow,
} from './series-queries.js';
import { gpuPointsOf, jobPointOf, portPointOf, portPointsOfRollupRows, rollupRowsByPort } from './series-points.js';
import { jobOf, jobsQuery, portStateOf, portStatesQuery, type JobRow, type PortStateRow } from './state-queries.js';
import { ResultCache, type ResultCacheOptions, type ResultCacheStats } from './result-cache.js';
import { LookupBatcher } from './lookup-batcher.js';
import { StallIndex, type IndexedStallRow, type StallIndexOptions } from './stall-index.js';

/**
 * Natural order of names, so node-2/gpu-0 comes before node-10/gpu-0. One collator for every
 * sort: `localeCompare` with options builds a collator per comparison, which made sorting a
 * fabric's 1,536 port states cost ~200 ms of the event loop.
 */
const naturalOrder = new Intl.Collator('en', { numeric: true }).compare;

/** The high-volume tables, whose rows are flat: written as JSONCompactEachRow on the raw path. */
const COMPACT_ROWS: ReadonlySet<Topic> = new Set<Topic>(['port_samples', 'gpu_samples', 'collective_events']);

/** Stalls one lookup query may fetch: ~17 KB of ranks each, so a batch stays a few MB. */
const STALL_LOOKUP_BATCH = 64;

/**
 * Port series one rollup query may serve: each at most a few thousand rows (bucketsInClickHouse),
 * so a batch stays well under the result-row limit. 12 series in one query took ~75 ms
 * against ~23 ms for one alone.
 */
const ROLLUP_READ_BATCH = 16;

/** Tables whose rows are versions of one record (ReplacingMergeTree): read with FINAL. */
const REPLACING: ReadonlySet<Topic> = new Set<Topic>(['congestion_episodes', 'stalls', 'alerts']);

export interface ClickHouseStoreOptions {
  /** Where the data lives, for logs and errors (no credentials). */
  describe?: string;
  logger?: Logger;
  /** Limits of every read query (defaults: DEFAULT_QUERY_LIMITS). */
  queryLimits?: Partial<QueryLimits>;
  /** Days to keep per table (defaults: DEFAULT_RETENTION_DAYS); 0 keeps forever. */
  retentionDays?: Partial<RetentionDays>;
  /** One node (default) or a cluster: what the migrations create (schema/layout.ts). */
  layout?: SchemaLayout;
  /** Embedded chDB's direct insert path (clickhouse-connection.ts); without it, inserts go through the client. */
  rawInsert?: RawJsonInsert;
  /**
   * Keep read answers in memory (result-cache.ts). Only where this store is the only writer of
   * its data (embedded chDB): invalidation comes from this store's own inserts.
   */
  resultCache?: ResultCacheOptions;
  /**
   * Answer the stall listing and the root-cause ranking from memory (stall-index.ts,
   * root-cause-ranking.ts). Only where this store is the only
   * writer of its data (embedded chDB), like the result cache.
   */
  stallIndex?: StallIndexOptions;
}

/** How many items (rows, points, ranks) an answer holds: what the result cache budgets. */
const stallItems = (s: Stall | undefined): number => (s ? 1 + s.ranks.length : 1);
const listItems = (list: readonly unknown[]): number => Math.max(1, list.length);

export class ClickHouseStore implements QueryStore {
  readonly describe: string;
  private readonly client: ClickHouseClient;
  private readonly logger?: Logger;
  private lastVersion = 0;
  private readonly limits: QueryLimits;
  private readonly readSettings: string;
  private readonly retention: RetentionDays;
  private readonly layout: SchemaLayout;
  private readonly rawInsert?: RawJsonInsert;
  private readonly cache?: ResultCache;
  private readonly stallIndex?: StallIndex;
  /** Concurrent getStall calls share queries (lookup-batcher.ts). */
  private readonly stallLookups = new LookupBatcher<string, Stall>((ids) => this.stallsById(ids), STALL_LOOKUP_BATCH);
  /** Concurrent port series over rollups share queries too, one batcher per rollup table. */
  private readonly rollupReads = {
    '1s': new LookupBatcher<string, PortSeriesPoint[]>((keys) => this.rollupPoints('1s', keys), ROLLUP_READ_BATCH),
    '10s': new LookupBatcher<string, PortSeriesPoint[]>((keys) => this.rollupPoints('10s', keys), ROLLUP_READ_BATCH),
    '1m': new LookupBatcher<string, PortSeriesPoint[]>((keys) => this.rollupPoints('1m', keys), ROLLUP_READ_BATCH),
    '5m': new LookupBatcher<string, PortSeriesPoint[]>((keys) => this.rollupPoints('5m', keys), ROLLUP_READ_BATCH),
  };

  constructor(client: ClickHouseClient, options: ClickHouseStoreOptions = {}) {
    this.client = client;
    this.describe = options.describe ?? 'clickhouse';
    this.logger = options.logger;
    this.limits = { ...DEFAULT_QUERY_LIMITS, ...options.queryLimits };
    // Built once: it also validates the limits at construction, not at the first request.
    this.readSettings = `${readOnlySettingsClause(this.limits)}, ${RESULT_SHAPE_SETTINGS}`;
    this.retention = resolveRetention(options.retentionDays);
    this.layout = options.layout ?? SchemaLayout.SINGLE_NODE;
    this.rawInsert = options.rawInsert;
    if (options.resultCache) this.cache = new ResultCache(options.resultCache);
    if (options.stallIndex) {
      // Its load is one read: it must fit the result-row limit every read runs under.
      const max_stalls = Math.min(options.stallIndex.max_stalls, this.limits.max_result_rows - 1);
      this.stallIndex = new StallIndex((q) => this.select<IndexedStallRow>(q), { ...options.stallIndex, max_stalls });
    }
  }

  /** Hits and misses of the result cache; undefined when this store keeps none. */
  resultCacheStats(): ResultCacheStats | undefined {
    return this.cache?.stats();
  }

  /** How many stalls the stall index holds; undefined when this store keeps none. */
  stallIndexSize(): number | undefined {
    return this.stallIndex?.size();
  }

  async migrate(): Promise<void> {
    await this.run('migrate', async () => {
      await runMigrations(this.client, { logger: this.logger, layout: this.layout });
      await applyRetention(this.client, this.retention, { logger: this.logger, layout: this.layout });
    });
    this.cache?.clear();
    this.stallIndex?.invalidate();
  }

  async insert<T extends Topic>(topic: T, rows: StoredRecords[T][], options: InsertOptions = {}): Promise<void> {
    if (rows.length === 0) return;
    const cache = this.cache;
    cache?.writeStarted(topic);
    try {
      await this.write(topic, rows, options);
      // Before the insert returns, so a listing after it sees what it stored.
      if (topic === 'stalls') await this.stallIndex?.refresh((rows as Stall[]).map((s) => s.id));
    } catch (e) {
      // Some of the rows may be stored: the index no longer knows what the table holds.
      if (topic === 'stalls') this.stallIndex?.invalidate();
      throw e;
    } finally {
      cache?.writeEnded(topic);
    }
  }

  private async write<T extends Topic>(topic: T, rows: StoredRecords[T][], options: InsertOptions): Promise<void> {
    const values = rowsOf(topic, rows, this.nextVersion());
    // With a token, ClickHouse drops a block it has already stored under that token (the
    // deduplication windows of migration 0005, or a replicated table's own), and so do the
    // rollup views.
    const settings: ClickHouseSettings & Record<string, string | number> = options.dedup_token
      ? { insert_deduplication_token: options.dedup_token, deduplicate_blocks_in_dependent_materialized_views: 1 }
      : {};
    const raw = this.rawInsert;
    if (raw && COMPACT_ROWS.has(topic)) {
      // Arrays in column order: no key repeated per row, ~30% less CPU to write and to parse.
      // Every row of a topic is built by one literal (rows.ts), so the first row's keys order all.
      const columns = Object.keys(values[0]!);
      const body = Buffer.from(values.map((v) => JSON.stringify(Object.values(v))).join('\n') + '\n');
      await this.run(`insert ${topic}`, () => raw(topic, body, settings, { format: 'JSONCompactEachRow', columns }));
      return;
    }
    if (raw) {
      // The same JSONEachRow lines the client would send (one JSON.stringify per row).
      const body = Buffer.from(values.map((v) => JSON.stringify(v)).join('\n') + '\n');
      await this.run(`insert ${topic}`, () => raw(topic, body, settings));
      return;
    }
    // On a sharded cluster rows go through the Distributed table, not straight into one node's
    // local table: its sharding key puts every version of a record on one shard (FINAL collapses
    // only within a shard), and each shard's replicated table then deduplicates its part of the
    // block by the same token. Synchronously, so that a returned insert is stored on the shards
    // (the Kafka sink commits offsets after it), not queued on the node that received it.
    if (this.layout.distributed) settings.insert_distributed_sync = 1;
    await this.run(`insert ${topic}`, () =>
      this.client.insert({ table: topic, values, format: 'JSONEachRow', clickhouse_settings: settings }),
    );
  }

  async listStalls(filter: StallFilter): Promise<Stall[]> {
    return this.cached('listStalls', [filter], ['stalls'], (list) => list.reduce((n, s) => n + stallItems(s), 1), async () =>
      (await this.stallIndex?.list(filter)) ?? (await this.select<StallRow>(stallListQuery(filter))).map(stallOf),
    );
  }

  async getStall(id: string): Promise<Stall | undefined> {
    return this.cached('getStall', [id], ['stalls'], stallItems, () => this.stallLookups.get(id));
  }

  /** The points of several port series (keys: JSON of a RollupRead) from one query of rollup rows. */
  private async rollupPoints(resolution: RollupResolution, keys: string[]): Promise<Map<string, PortSeriesPoint[]>> {
    const reads = keys.map((k) => JSON.parse(k) as RollupRead);
    const ports = rollupPortsOf(reads);
    const byPort = rollupRowsByPort(await this.selectCompact(portRollupRowsQuery(resolution, reads)));
    return new Map(keys.map((k, i) => [k, portPointsOfRollupRows(byPort[ports.indexOf(reads[i]!.port) + 1] ?? [], reads[i]!)]));
  }

  /**
   * The newest version of each id, from the lookup sorted by id in small granules (migration
   * 0006): one granule of ranks per id is read, not a granule of the listing order.
   */
  private async stallsById(ids: string[]): Promise<Map<string, Stall>> {
    const rows = await this.select<StallRow>({
      query: `SELECT ${STALL_COLUMNS} FROM stalls_by_id WHERE id IN {ids:Array(String)} ORDER BY id, version DESC LIMIT 1 BY id`,
      query_params: { ids },
    });
    return new Map(rows.map((r) => [r.id, stallOf(r)]));
  }

  async listAlerts(filter: AlertFilter): Promise<Alert[]> {
    return this.cached('listAlerts', [filter], ['alerts'], listItems, async () => {
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
    return this.cached('listGpus', [], ['gpu_samples'], (gpus) => gpus.reduce((n, g) => n + 1 + Object.keys(g.metrics).length, 1), async () => {
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
      return rows.map(gpuOf).sort((a, b) => naturalOrder(a.id, b.id));
    });
  }

  async topRootCauses(filter: RootCauseFilter): Promise<TopRootCauses> {
    const items = (top: TopRootCauses) => 1 + top.by_stalls.length + top.by_gpu_seconds_lost.length;
    return this.cached('topRootCauses', [filter], ['stalls'], items, async () => {
      const inWindow = await this.stallIndex?.overlapping(filter);
      const ranked = inWindow && rankRootCauses(inWindow, filter.limit);
      if (ranked) return ranked;
      const [rankings] = await this.select<RootCauseRankingsRow>(topRootCausesQuery(filter));
      return {
        by_stalls: (rankings?.by_stalls ?? []).map(rootCauseOf),
        by_gpu_seconds_lost: (rankings?.by_gpu_seconds_lost ?? []).map(rootCauseOf),
      };
    });
  }

  async portSeries(port: string, window: SeriesWindow): Promise<PortSeries> {
    return this.cached('portSeries', [port, window], ['port_samples'], (s) => listItems(s.points), async () => {
      const resolution = seriesResolutionFor(window);
      if (resolution === 'raw' || bucketsInClickHouse(window, resolution)) {
        const rows = await this.select<PortBucketRow>(portSeriesQuery(port, window, resolution));
        return { resolution, points: rows.map(portPointOf) };
      }
      const read: RollupRead = { port, from_ms: window.from_ms, to_ms: window.to_ms, step_ms: window.step_ms };
      return { resolution, points: (await this.rollupReads[resolution].get(JSON.stringify(read))) ?? [] };
    });
  }

  async gpuSeries(gpu: string, window: SeriesWindow, fields?: string[]): Promise<GpuSeriesPoint[]> {
    const items = (points: GpuSeriesPoint[]) => points.reduce((n, p) => n + 1 + Object.keys(p.metrics).length, 1);
    return this.cached('gpuSeries', [gpu, window, fields], ['gpu_samples'], items, async () =>
      gpuPointsOf(await this.select<GpuFieldRow>(gpuSeriesQuery(gpu, window, fields))),
    );
  }

  async jobSeries(job: string, window: SeriesWindow): Promise<JobSeriesPoint[]> {
    return this.cached('jobSeries', [job, window], ['collective_events'], listItems, async () =>
      (await this.select<JobBucketRow>(jobSeriesQuery(job, window))).map(jobPointOf),
    );
  }

  async portStates(window: TimeWindow): Promise<PortState[]> {
    return this.cached('portStates', [window], ['port_samples'], listItems, async () => {
      const rows = await this.select<PortStateRow>(portStatesQuery(window));
      return rows.map(portStateOf).sort((a, b) => naturalOrder(a.port, b.port));
    });
  }

  async listJobs(window: TimeWindow): Promise<JobView[]> {
    const items = (jobs: JobView[]) => jobs.reduce((n, j) => n + 1 + j.placement.length, 1);
    return this.cached('listJobs', [window], ['collective_events'], items, async () =>
      (await this.select<JobRow>(jobsQuery(window))).map(jobOf),
    );
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

  /**
   * A read answered from the result cache when this store keeps one (the key is the operation
   * and its arguments; `tables` are the topics whose inserts change the answer), else run.
   */
  private cached<R>(
    operation: string,
    args: unknown[],
    tables: readonly Topic[],
    items: (value: R) => number,
    read: () => Promise<R>,
  ): Promise<R> {
    const run = () => this.run(operation, read);
    if (!this.cache) return run();
    return this.cache.get(`${operation}:${JSON.stringify(args)}`, tables, run, items);
  }

  /** Every read goes through here: read-only, time- and size-limited, values bound. */
  private async select<R>(q: BoundQuery): Promise<R[]> {
    const rs = await this.client.query({
      query: this.readQuery(q),
      query_params: q.query_params,
      format: 'JSONEachRow',
    });
    return rs.json<R>();
  }

  /** A read's SQL with the read settings (read-only, limits, result shape) and its own. */
  private readQuery(q: BoundQuery): string {
    return `${q.query}\n${this.readSettings}${q.settings ? `, ${q.settings}` : ''}`;
  }

  /**
   * A read whose rows are arrays of numbers, as JSONCompact: one document parsed at once
   * instead of an object per line (the same read-only, limited, bound query as select).
   */
  private async selectCompact(q: BoundQuery): Promise<RollupRow[]> {
    const rs = await this.client.query({
      query: this.readQuery(q),
      query_params: q.query_params,
      format: 'JSONCompact',
    });
    return (await rs.json<RollupRow>()).data;
  }

  /**
   * Every failure leaves the store as a FabricscopeError naming the operation: a hit limit
   * says which one (the caller can narrow the request), anything else is a StorageError.
   */
  private async run<R>(operation: string, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (e) {
      if (isFabricscopeError(e)) throw e;
      const type = (e as { type?: unknown } | null)?.type;
      if (type === LIMIT_ERROR_TYPES.tooManyRows) {
        throw new InvalidArgumentError(
          `the answer would exceed ${this.limits.max_result_rows} rows; narrow the window, add filters or raise the step`,
        );
      }
      if (type === LIMIT_ERROR_TYPES.timeout) {
        this.logger?.warn('query hit the time limit', { operation, limit_s: this.limits.max_execution_time_s });
        throw new BackpressureError(
          `the query ran longer than ${this.limits.max_execution_time_s} s; narrow the window or add filters`,
        );
      }
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

const rootCauseOf = (row: RootCauseRow): RootCauseSummary => ({
  kind: row.kind as RootCauseKind,
  location: row.location,
  stalls: Number(row.stalls),
  gpu_seconds_lost: roundGpuSeconds(Number(row.gpu_seconds_lost)),
  jobs: [...row.jobs].sort(),
  first_ms: Number(row.first_ms),
  last_ms: Number(row.last_ms),
});
