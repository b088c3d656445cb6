/**
 * How the schema is laid out: one node (embedded chDB or a single server), or a ClickHouse
 * cluster. Migrations write their DDL through a layout, so one set of migrations emits both:
 *
 * - one node: plain `CREATE TABLE t … ENGINE = MergeTree`, exactly as before cluster mode existed;
 * - cluster: every statement `ON CLUSTER '<name>'`; with `replicated`, every MergeTree-family
 *   engine becomes its Replicated* twin keyed `'<zk path>/{shard}/<table>', '{replica}'`
 *   (server macros fill in shard and replica); with `distributed`, each table's data lives in
 *   `<table>_local` on every shard and `<table>` is a Distributed table over them.
 *
 * Queries and inserts always name `<table>`: the table itself on one node, the Distributed
 * table on a sharded cluster. So the same queries run in every mode.
 */

export interface ClusterOptions {
  /** Cluster name as in the servers' remote_servers (or a macro such as `{cluster}`). */
  name: string;
  /** Replicated*MergeTree engines (needs ZooKeeper or ClickHouse Keeper). */
  replicated: boolean;
  /** Keeper path prefix of the replicated tables; `/{shard}/<table>` is appended. */
  zookeeper_path: string;
  /** Data in `<table>_local` per shard, read and written through Distributed `<table>`. */
  distributed: boolean;
}

export const DEFAULT_ZOOKEEPER_PATH = '/clickhouse/tables/fabricscope';

/**
 * Rows of one record must land on one shard: FINAL and ReplacingMergeTree collapse versions
 * only within a shard, and a series read from one shard is cheapest. Hence a hash of the id
 * for derived records, of the port or GPU for samples (their rollups follow them), of the job
 * for collective events (a call's ranks stay together).
 */
export const SHARDING_KEYS: Readonly<Record<string, string>> = {
  port_samples: 'cityHash64(port)',
  port_samples_1s: 'cityHash64(port)',
  port_samples_10s: 'cityHash64(port)',
  port_samples_1m: 'cityHash64(port)',
  port_samples_5m: 'cityHash64(port)',
  gpu_samples: 'cityHash64(gpu)',
  collective_events: 'cityHash64(job)',
  collective_calls: 'cityHash64(job)',
  congestion_episodes: 'cityHash64(id)',
  stalls: 'cityHash64(id)',
  stalls_by_id: 'cityHash64(id)',
  alerts: 'cityHash64(id)',
};

/** Names, macros and paths are spliced into DDL: only these characters pass. */
const CLUSTER_NAME = /^[A-Za-z0-9_.{}-]{1,128}$/;
const ZOOKEEPER_PATH = /^\/[A-Za-z0-9_./{}-]{0,254}$/;

export class SchemaLayout {
  /** One node: DDL exactly as the migrations were first written. */
  static readonly SINGLE_NODE = new SchemaLayout(undefined);

  private constructor(readonly cluster: ClusterOptions | undefined) {}

  static forCluster(options: ClusterOptions): SchemaLayout {
    if (!CLUSTER_NAME.test(options.name)) {
      throw new RangeError(`cluster name "${options.name}" may contain only letters, digits, _ . - and {macros}`);
    }
    if (options.replicated && !ZOOKEEPER_PATH.test(options.zookeeper_path)) {
      throw new RangeError(
        `ZooKeeper path "${options.zookeeper_path}" must start with / and contain only letters, digits, _ . - / and {macros}`,
      );
    }
    return new SchemaLayout({ ...options, zookeeper_path: options.zookeeper_path.replace(/\/+$/, '') });
  }

  get replicated(): boolean {
    return this.cluster?.replicated ?? false;
  }

  get distributed(): boolean {
    return this.cluster?.distributed ?? false;
  }

  /** ` ON CLUSTER '<name>'`, or nothing on one node. */
  get onCluster(): string {
    return this.cluster ? ` ON CLUSTER '${this.cluster.name}'` : '';
  }

  /** The table that holds the rows: `<table>_local` when distributed, else `<table>`. */
  storage(table: string): string {
    return this.distributed ? `${table}_local` : table;
  }

  /** `CREATE TABLE IF NOT EXISTS <storage table> [ON CLUSTER …]`. */
  createTable(table: string): string {
    return `CREATE TABLE IF NOT EXISTS ${this.storage(table)}${this.onCluster}`;
  }

  /**
   * The engine clause of `table`: `family` is `MergeTree`, `ReplacingMergeTree`,
   * `AggregatingMergeTree`…, `args` its own arguments (a version column).
   */
  engine(table: string, family: string, args = ''): string {
    if (!this.replicated) return `ENGINE = ${family}${args ? `(${args})` : ''}`;
    const path = `'${this.cluster!.zookeeper_path}/{shard}/${table}', '{replica}'`;
    return `ENGINE = Replicated${family}(${path}${args ? `, ${args}` : ''})`;
  }

  /** `ALTER TABLE t [ON CLUSTER …] <action>` for every table that carries `table`'s columns. */
  alterColumns(table: string, action: string): string[] {
    const targets = this.distributed ? [this.storage(table), table] : [table];
    return targets.map((t) => `ALTER TABLE ${t}${this.onCluster} ${action}`);
  }

  /** `ALTER TABLE <storage table> [ON CLUSTER …] <action>`: settings and TTLs of the stored data. */
  alterStorage(table: string, action: string): string {
    return `ALTER TABLE ${this.storage(table)}${this.onCluster} ${action}`;
  }

  /**
   * The Distributed table over `table`'s local tables; none unless distributed. `key` defaults
   * to the table's own sharding key (a table rebuilt under another name passes the original's).
   */
  distributedTable(table: string, key = SHARDING_KEYS[table]): string[] {
    if (!this.distributed) return [];
    if (!key) throw new RangeError(`no sharding key for table ${table}`);
    return [
      `CREATE TABLE IF NOT EXISTS ${table}${this.onCluster} AS ${this.storage(table)}
ENGINE = Distributed('${this.cluster!.name}', currentDatabase(), ${this.storage(table)}, ${key})`,
    ];
  }

  /** Describes the layout for logs. */
  describe(): string {
    if (!this.cluster) return 'single node';
    const parts = [`cluster ${this.cluster.name}`];
    if (this.replicated) parts.push(`replicated under ${this.cluster.zookeeper_path}`);
    if (this.distributed) parts.push('distributed');
    return parts.join(', ');
  }
}
