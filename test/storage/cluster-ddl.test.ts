/**
 * Cluster mode by configuration: the DDL the migrations emit for each layout, asserted on the
 * statement text (no ClickHouse cluster is available to run it), and the single-node DDL
 * byte for byte as it was before cluster mode existed (it still runs on chDB: see
 * clickhouse-store.test.ts, which migrates a fresh chDB with it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../cli/args.js';
import { loadConfig } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { createStore, layoutOf } from '../../storage/create-store.js';
import { SchemaLayout } from '../../storage/schema/layout.js';
import { MIGRATIONS } from '../../storage/schema/migrations.js';
import { rebuildStatements } from '../../storage/schema/0008-port-rollup-granules.js';
import { tempDataDir } from './fixtures.js';

const ddl = (layout: SchemaLayout): string[] => MIGRATIONS.flatMap((m) => m.statements(layout).map((s) => s.trim()));
const oneLine = (s: string) => s.replace(/\s+/g, ' ');

/** Every MergeTree-family table, with the engine family and arguments it has on one node. */
const ENGINES = {
  port_samples: ['MergeTree', ''],
  gpu_samples: ['MergeTree', ''],
  collective_events: ['MergeTree', ''],
  congestion_episodes: ['ReplacingMergeTree', 'version'],
  stalls: ['ReplacingMergeTree', 'version'],
  alerts: ['ReplacingMergeTree', 'updated'],
  port_samples_1s: ['AggregatingMergeTree', ''],
  port_samples_1m: ['AggregatingMergeTree', ''],
  stalls_by_id: ['ReplacingMergeTree', 'version'],
  collective_calls: ['AggregatingMergeTree', ''],
  port_samples_5m: ['AggregatingMergeTree', ''],
  port_samples_10s: ['AggregatingMergeTree', ''],
} as const;
const SHARD_BY = {
  port_samples: 'cityHash64(port)',
  gpu_samples: 'cityHash64(gpu)',
  collective_events: 'cityHash64(job)',
  congestion_episodes: 'cityHash64(id)',
  stalls: 'cityHash64(id)',
  alerts: 'cityHash64(id)',
  port_samples_1s: 'cityHash64(port)',
  port_samples_1m: 'cityHash64(port)',
  stalls_by_id: 'cityHash64(id)',
  collective_calls: 'cityHash64(job)',
  port_samples_5m: 'cityHash64(port)',
  port_samples_10s: 'cityHash64(port)',
} as const;
const TABLES = Object.keys(ENGINES) as Array<keyof typeof ENGINES>;

const createOf = (statements: string[], table: string) => {
  const found = statements.filter((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS ${table} `) || s.startsWith(`CREATE TABLE IF NOT EXISTS ${table}\n`));
  expect(found, `one CREATE of ${table}`).toHaveLength(1);
  return found[0]!;
};

describe('single-node DDL', () => {
  it('is exactly what the migrations emitted before cluster mode existed', () => {
    const golden = JSON.parse(readFileSync(join(import.meta.dirname, 'single-node-ddl.golden.json'), 'utf8')) as Array<{
      version: number;
      name: string;
      statements: string[];
    }>;
    const now = MIGRATIONS.map((m) => ({ version: m.version, name: m.name, statements: [...m.statements(SchemaLayout.SINGLE_NODE)] }));
    expect(now).toEqual(golden);
  });

  it('mentions no cluster, replication or distribution', () => {
    for (const s of ddl(SchemaLayout.SINGLE_NODE)) expect(s).not.toMatch(/ON CLUSTER|Replicated|Distributed|_local\b/);
  });
});

describe('replicated and distributed cluster DDL', () => {
  const layout = SchemaLayout.forCluster({ name: 'fabric', replicated: true, zookeeper_path: '/ch/tables/fs/', distributed: true });
  const statements = ddl(layout);

  it('runs every statement ON CLUSTER (copies go through Distributed tables)', () => {
    for (const s of statements.filter((s) => !s.startsWith('INSERT'))) {
      expect(oneLine(s)).toMatch(
        /^((CREATE TABLE IF NOT EXISTS|CREATE MATERIALIZED VIEW IF NOT EXISTS|ALTER TABLE|TRUNCATE TABLE IF EXISTS|DROP (VIEW|TABLE) IF EXISTS) \w+|EXCHANGE TABLES \w+ AND \w+) ON CLUSTER 'fabric'( |$)/,
      );
    }
  });

  it.each(TABLES)('%s: a replicated local table under the Keeper path, one per shard', (table) => {
    const [family, args] = ENGINES[table];
    const create = createOf(statements, `${table}_local`);
    expect(create.split('\n')[0]).toBe(`CREATE TABLE IF NOT EXISTS ${table}_local ON CLUSTER 'fabric'`);
    expect(create).toContain(`\nENGINE = Replicated${family}('/ch/tables/fs/{shard}/${table}', '{replica}'${args ? `, ${args}` : ''})\n`);
  });

  it.each(TABLES)('%s: a Distributed table of that name over the local ones, sharded so a record stays on one shard', (table) => {
    expect(createOf(statements, table)).toBe(
      `CREATE TABLE IF NOT EXISTS ${table} ON CLUSTER 'fabric' AS ${table}_local\n` +
        `ENGINE = Distributed('fabric', currentDatabase(), ${table}_local, ${SHARD_BY[table]})`,
    );
  });

  it('no engine is left unreplicated, and no table is created twice', () => {
    const engines = statements.flatMap((s) => [...s.matchAll(/ENGINE = (\w+)/g)].map((m) => m[1]!));
    expect(engines.filter((e) => !e.startsWith('Replicated') && e !== 'Distributed')).toEqual([]);
    // …unless dropped in between: 0008 drops the rollup views and creates them again.
    const live = new Set<string>();
    for (const s of statements) {
      const created = /^CREATE (?:TABLE|MATERIALIZED VIEW) IF NOT EXISTS (\w+)/.exec(s)?.[1];
      const dropped = /^DROP (?:TABLE|VIEW) IF EXISTS (\w+)/.exec(s)?.[1];
      if (created) {
        expect(live.has(created), `${created} created twice`).toBe(false);
        live.add(created);
      }
      if (dropped) live.delete(dropped);
    }
  });

  it('each shard rolls up its own samples: the views read and write local tables', () => {
    for (const rollup of ['port_samples_1s', 'port_samples_1m', 'port_samples_5m', 'port_samples_10s']) {
      const view = statements.find((s) => s.startsWith(`CREATE MATERIALIZED VIEW IF NOT EXISTS ${rollup}_mv `))!;
      expect(view.split('\n')[0]).toBe(`CREATE MATERIALIZED VIEW IF NOT EXISTS ${rollup}_mv ON CLUSTER 'fabric' TO ${rollup}_local AS`);
      expect(view).toMatch(/\nFROM port_samples_local GROUP BY bucket_ts, port\)$/);
    }
    const lookup = statements.find((s) => s.startsWith('CREATE MATERIALIZED VIEW IF NOT EXISTS stalls_by_id_mv '))!;
    expect(lookup.split('\n')[0]).toBe("CREATE MATERIALIZED VIEW IF NOT EXISTS stalls_by_id_mv ON CLUSTER 'fabric' TO stalls_by_id_local AS");
    expect(lookup).toMatch(/ FROM stalls_local$/);
    const calls = statements.find((s) => s.startsWith('CREATE MATERIALIZED VIEW IF NOT EXISTS collective_calls_mv '))!;
    expect(calls.split('\n')[0]).toBe("CREATE MATERIALIZED VIEW IF NOT EXISTS collective_calls_mv ON CLUSTER 'fabric' TO collective_calls_local AS");
    expect(calls).toContain('\nFROM collective_events_local\n');
    // A new cluster schema has no samples to backfill, and an INSERT would reach one node only;
    // only 0008's copies insert, from one Distributed table into another, synchronously.
    expect(statements.filter((s) => /^INSERT/.test(s)).map((s) => s.split('\n')[0]!.split(' ').slice(0, 3).join(' '))).toEqual([
      'INSERT INTO port_samples_1s_g256',
      'INSERT INTO port_samples_1m_g256',
    ]);
  });

  it('added columns reach the local tables and the Distributed ones', () => {
    expect(statements.filter((s) => s.includes('ADD COLUMN IF NOT EXISTS n_ranks'))).toEqual([
      "ALTER TABLE stalls_local ON CLUSTER 'fabric' ADD COLUMN IF NOT EXISTS n_ranks UInt32 DEFAULT length(ranks) AFTER ranks",
      "ALTER TABLE stalls ON CLUSTER 'fabric' ADD COLUMN IF NOT EXISTS n_ranks UInt32 DEFAULT length(ranks) AFTER ranks",
    ]);
    const storedAt = statements.filter((s) => s.includes('ADD COLUMN IF NOT EXISTS stored_at')).map((s) => s.split(' ')[2]);
    expect(storedAt).toEqual(['port_samples', 'gpu_samples', 'collective_events', 'congestion_episodes', 'stalls', 'alerts'].flatMap((t) => [`${t}_local`, t]));
  });

  it('leaves deduplication to the replicated tables themselves', () => {
    expect(statements.filter((s) => s.includes('deduplication_window'))).toEqual([]);
  });

  it('puts TTLs on the tables that hold the rows', () => {
    expect(layout.alterStorage('stalls', 'REMOVE TTL')).toBe("ALTER TABLE stalls_local ON CLUSTER 'fabric' REMOVE TTL");
  });
});

describe('other cluster layouts', () => {
  it('replicated without distribution: the tables keep their names, on every replica', () => {
    const statements = ddl(SchemaLayout.forCluster({ name: '{cluster}', replicated: true, zookeeper_path: '/t', distributed: false }));
    for (const table of TABLES) {
      const [family, args] = ENGINES[table];
      expect(createOf(statements, table)).toContain(`ENGINE = Replicated${family}('/t/{shard}/${table}', '{replica}'${args ? `, ${args}` : ''})`);
    }
    expect(statements.join('\n')).not.toMatch(/Distributed|_local\b/);
  });

  it('sharded without replicas: plain engines in the local tables, which then need the non-replicated deduplication window', () => {
    const statements = ddl(SchemaLayout.forCluster({ name: 'c', replicated: false, zookeeper_path: '/unused', distributed: true }));
    expect(createOf(statements, 'stalls_local')).toContain('\nENGINE = ReplacingMergeTree(version)\n');
    const windowed = statements.filter((s) => s.includes('non_replicated_deduplication_window'));
    expect(windowed.filter((s) => s.startsWith('ALTER')).map((s) => s.split(' ')[2])).toEqual(
      ['port_samples', 'gpu_samples', 'collective_events', 'congestion_episodes', 'stalls', 'alerts', 'port_samples_1s', 'port_samples_1m'].map((t) => `${t}_local`),
    );
    // Tables created later (0006, 0007, 0008, 0009) carry the window in their CREATE.
    expect(windowed.filter((s) => s.startsWith('CREATE')).map((s) => s.split(' ')[5])).toEqual([
      'stalls_by_id_local',
      'collective_calls_local',
      'port_samples_5m_local',
      'port_samples_1s_g256_local',
      'port_samples_1m_g256_local',
      'port_samples_10s_local',
    ]);
  });
});

describe('rollups rebuilt in 256-row granules (0008)', () => {
  const cluster = SchemaLayout.forCluster({ name: 'fabric', replicated: true, zookeeper_path: '/ch', distributed: true });
  const first = (statements: string[]) => statements.map((s) => s.trim().split('\n')[0]!);

  it('on one node: new table, view dropped, copy emptied and refilled, swap, view back, old table dropped', () => {
    const statements = rebuildStatements(SchemaLayout.SINGLE_NODE, {});
    expect(first(statements.slice(0, 7))).toEqual([
      'CREATE TABLE IF NOT EXISTS port_samples_1s_g256',
      'DROP VIEW IF EXISTS port_samples_1s_mv SYNC',
      'TRUNCATE TABLE IF EXISTS port_samples_1s_g256',
      expect.stringMatching(/^INSERT INTO port_samples_1s_g256 \(ts, port, .*, stored_at\) SETTINGS insert_deduplicate = 0$/),
      'EXCHANGE TABLES port_samples_1s AND port_samples_1s_g256',
      'CREATE MATERIALIZED VIEW IF NOT EXISTS port_samples_1s_mv TO port_samples_1s AS',
      'DROP TABLE IF EXISTS port_samples_1s_g256 SYNC',
    ]);
    expect(statements[0]).toContain('\nPARTITION BY toYYYYMMDD(ts)\nORDER BY (port, ts)\nSETTINGS index_granularity = 256, ');
    expect(statements[0]).toContain('non_replicated_deduplication_window = 1000');
    expect(statements[3]).toMatch(/\nSELECT ts, port, .*, stored_at FROM port_samples_1s$/);
    expect(statements.slice(7).join('\n')).toContain('PARTITION BY toYYYYMM(ts)\nORDER BY (port, ts)\nSETTINGS index_granularity = 256');
    expect(statements).toHaveLength(14);
  });

  it('keeps the TTL the old table has', () => {
    const statements = rebuildStatements(SchemaLayout.SINGLE_NODE, { port_samples_1m: { rebuilt: false, ttl: 'stored_at + toIntervalDay(400)' } });
    expect(statements.filter((s) => s.includes('TTL')).map((s) => /TTL .*/.exec(s)![0])).toEqual(['TTL stored_at + toIntervalDay(400)']);
  });

  it('a rollup found rebuilt only gets its view back and the old table dropped', () => {
    const statements = rebuildStatements(cluster, { port_samples_1s: { rebuilt: true }, port_samples_1m: { rebuilt: false } });
    expect(first(statements).slice(0, 3)).toEqual([
      "CREATE MATERIALIZED VIEW IF NOT EXISTS port_samples_1s_mv ON CLUSTER 'fabric' TO port_samples_1s_local AS",
      "DROP TABLE IF EXISTS port_samples_1s_g256 ON CLUSTER 'fabric' SYNC",
      "DROP TABLE IF EXISTS port_samples_1s_g256_local ON CLUSTER 'fabric' SYNC",
    ]);
    expect(statements.slice(3).join('\n')).toContain('EXCHANGE TABLES port_samples_1m_local AND port_samples_1m_g256_local');
  });

  it('on a sharded cluster: replicated local tables under their own Keeper path, copied through Distributed tables sharded like the rollups, swapped on every node', () => {
    const statements = rebuildStatements(cluster, {});
    expect(statements[0]).toContain("\nENGINE = ReplicatedAggregatingMergeTree('/ch/{shard}/port_samples_1s_g256', '{replica}')\n");
    expect(statements[0]).not.toContain('non_replicated_deduplication_window');
    expect(statements[1]).toBe(
      "CREATE TABLE IF NOT EXISTS port_samples_1s_g256 ON CLUSTER 'fabric' AS port_samples_1s_g256_local\n" +
        "ENGINE = Distributed('fabric', currentDatabase(), port_samples_1s_g256_local, cityHash64(port))",
    );
    expect(first(statements).slice(2, 6)).toEqual([
      "DROP VIEW IF EXISTS port_samples_1s_mv ON CLUSTER 'fabric' SYNC",
      "TRUNCATE TABLE IF EXISTS port_samples_1s_g256_local ON CLUSTER 'fabric'",
      expect.stringMatching(/^INSERT INTO port_samples_1s_g256 .* SETTINGS insert_deduplicate = 0, insert_distributed_sync = 1$/),
      "EXCHANGE TABLES port_samples_1s_local AND port_samples_1s_g256_local ON CLUSTER 'fabric'",
    ]);
    expect(statements[4]).toMatch(/ FROM port_samples_1s$/);
  });
});

describe('cluster configuration', () => {
  const server = 'http://default:@127.0.0.1:8123/fabricscope';
  const configError = (f: () => unknown, where: string) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).where).toBe(where);
      return (e as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('reads the cluster settings from flags, environment and files like every other setting', () => {
    const config = loadConfig({
      env: { FABRICSCOPE_CLICKHOUSE_CLUSTER: 'fabric', FABRICSCOPE_CLICKHOUSE_REPLICATED: 'true' },
      flags: { clickhouse: server, clickhouse_distributed: 'true' },
    });
    expect([config.clickhouse_cluster, config.clickhouse_replicated, config.clickhouse_distributed, config.clickhouse_zookeeper_path]).toEqual([
      'fabric',
      true,
      true,
      '/clickhouse/tables/fabricscope',
    ]);
  });

  it('the on/off flags take no value on the command line, or one after =', () => {
    const { flags } = parseArgs(['sink', '--clickhouse-replicated', '--clickhouse-distributed=false', '--clickhouse-cluster', 'fabric']);
    const config = loadConfig({ flags: { ...flags, clickhouse: server } });
    expect([config.clickhouse_cluster, config.clickhouse_replicated, config.clickhouse_distributed]).toEqual(['fabric', true, false]);
  });

  it('embedded chDB refuses cluster mode before it opens anything', () => {
    const data = join(tempDataDir('cluster-refused'), 'data');
    const message = configError(() => createStore({ data, cluster: 'fabric', replicated: true }), 'clickhouse_cluster');
    expect(message).toMatch(/needs a ClickHouse server.*embedded chDB/);
    expect(existsSync(data)).toBe(false);
  });

  it('replication or distribution without a cluster is an error naming the setting', () => {
    configError(() => layoutOf({ clickhouse: server, replicated: true }), 'clickhouse_replicated');
    configError(() => layoutOf({ clickhouse: server, distributed: true }), 'clickhouse_distributed');
  });

  it('names and paths that would break the DDL are refused', () => {
    configError(() => layoutOf({ clickhouse: server, cluster: "x' ; DROP TABLE stalls; --" }), 'clickhouse_cluster');
    configError(() => layoutOf({ clickhouse: server, cluster: 'c', replicated: true, zookeeperPath: "/a'b" }), 'clickhouse_zookeeper_path');
    configError(() => layoutOf({ clickhouse: server, cluster: 'c', replicated: true, zookeeperPath: 'relative/path' }), 'clickhouse_zookeeper_path');
    expect(layoutOf({ clickhouse: server, cluster: 'c', replicated: true, distributed: true }).describe()).toBe(
      'cluster c, replicated under /clickhouse/tables/fabricscope, distributed',
    );
  });
});
