/**
 * The storage engine's own limit, in a process of its own (chDB binds one data directory per
 * process). Two modes, run one after the other by suites/ingest.ts:
 *   export DATA_DIR OUT_DIR      the telemetry rows an end-to-end run stored → files in each
 *                                input format (Native, Parquet, JSONEachRow)
 *   insert DATA_DIR OUT_DIR REPS those rows into a fresh store with the same schema (the same
 *                                migrations, so rollup views run too), REPS times per format
 * Each prints one JSON object on stdout. Inserts run with deduplication off: re-inserting the
 * same block must cost what a new block costs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { openClickHouse, runMigrations } from '../../storage/index.js';

export const TELEMETRY_TABLES = ['port_samples', 'gpu_samples', 'collective_events'] as const;

/** Input paths into chDB, fastest candidates first. `client` sends JS objects, the store's own path. */
export const FORMATS = ['native', 'parquet', 'jsoneachrow', 'jsoneachrow_client'] as const;
export type DirectFormat = (typeof FORMATS)[number];
const FILE_FORMAT: Record<Exclude<DirectFormat, 'jsoneachrow_client'>, string> = {
  native: 'Native',
  parquet: 'Parquet',
  jsoneachrow: 'JSONEachRow',
};
/** Rows per client insert, as a batching sink would send them. */
const CLIENT_BATCH = 10_000;

export interface ExportResult {
  rows: Record<string, number>;
  /** Measured values: 9 metric columns per port sample, each DCGM field, one duration per collective. */
  data_points: number;
}

export interface InsertResult {
  rows: number;
  formats: Record<DirectFormat, { wall_s: number[]; cpu_s: number[] }>;
}

const fileOf = (dir: string, table: string, format: DirectFormat) =>
  join(dir, `${table}.${format === 'jsoneachrow_client' ? 'jsoneachrow' : format}`);

/** Columns the writer supplies (not those filled by DEFAULT, such as stored_at). */
async function writtenColumns(client: ClickHouseClient, table: string): Promise<string> {
  const rs = await client.query({
    query: `SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {t:String} AND default_kind = '' ORDER BY position`,
    query_params: { t: table },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ name: string }>()).map((r) => `\`${r.name}\``).join(', ');
}

async function scalar(client: ClickHouseClient, query: string): Promise<number> {
  const rs = await client.query({ query: `SELECT (${query}) AS v`, format: 'JSONEachRow' });
  return Number((await rs.json<{ v: number | string }>())[0]?.v ?? 0);
}

async function exportRows(client: ClickHouseClient, out: string): Promise<ExportResult> {
  const rows: Record<string, number> = {};
  for (const table of TELEMETRY_TABLES) {
    const columns = await writtenColumns(client, table);
    for (const format of ['native', 'parquet', 'jsoneachrow'] as const) {
      await client.command({
        query: `SELECT ${columns} FROM ${table} INTO OUTFILE '${fileOf(out, table, format)}' TRUNCATE FORMAT ${FILE_FORMAT[format]}`,
      });
    }
    rows[table] = await scalar(client, `SELECT count() FROM ${table}`);
  }
  const data_points =
    rows.port_samples! * 9 + (await scalar(client, 'SELECT sum(length(metrics)) FROM gpu_samples')) + rows.collective_events!;
  return { rows, data_points };
}

async function insertRows(client: ClickHouseClient, dir: string, reps: number): Promise<InsertResult> {
  await runMigrations(client);
  const rs = await client.query({
    query: `SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree'`,
    format: 'JSONEachRow',
  });
  const everyTable = (await rs.json<{ name: string }>()).map((r) => r.name);
  const columns = Object.fromEntries(await Promise.all(TELEMETRY_TABLES.map(async (t) => [t, await writtenColumns(client, t)] as const)));
  // The client path starts from parsed objects, as the sink does (parsing is not the engine's cost).
  const objects = Object.fromEntries(
    TELEMETRY_TABLES.map((t) => {
      const text = readFileSync(fileOf(dir, t, 'jsoneachrow'), 'utf8');
      return [t, text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)] as const;
    }),
  );
  const settings = { insert_deduplicate: 0 as const };
  const formats = Object.fromEntries(FORMATS.map((f) => [f, { wall_s: [] as number[], cpu_s: [] as number[] }])) as InsertResult['formats'];
  for (let rep = 0; rep < reps; rep++) {
    for (const format of FORMATS) {
      for (const t of everyTable) await client.command({ query: `TRUNCATE TABLE ${t}` });
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (const table of TELEMETRY_TABLES) {
        if (format === 'jsoneachrow_client') {
          const values = objects[table]!;
          for (let i = 0; i < values.length; i += CLIENT_BATCH) {
            await client.insert({ table, values: values.slice(i, i + CLIENT_BATCH), format: 'JSONEachRow', clickhouse_settings: settings });
          }
        } else {
          await client.command({
            query: `INSERT INTO ${table} (${columns[table]}) SELECT * FROM file('${fileOf(dir, table, format)}', ${FILE_FORMAT[format]})`,
            clickhouse_settings: settings,
          });
        }
      }
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = process.cpuUsage(cpu0);
      formats[format].wall_s.push(wall);
      formats[format].cpu_s.push((cpu.user + cpu.system) / 1e6);
    }
  }
  const rows = Object.values(objects).reduce((a, v) => a + v.length, 0);
  return { rows, formats };
}

async function main(): Promise<void> {
  const [mode, dataDir, outDir, reps] = process.argv.slice(2);
  if (!dataDir || !outDir || (mode !== 'export' && mode !== 'insert')) {
    throw new Error('usage: direct-insert-child export DATA_DIR OUT_DIR | insert DATA_DIR OUT_DIR REPS');
  }
  const { client } = openClickHouse({ kind: 'embedded', dataDir });
  try {
    const result = mode === 'export' ? await exportRows(client, outDir) : await insertRows(client, outDir, Number(reps ?? 3));
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await client.close();
  }
}

// Only when run as the child, not when suites/ingest.ts imports the shapes.
if (process.argv[1]?.endsWith('direct-insert-child.js')) {
  main().catch((e: unknown) => {
    process.stderr.write(`direct-insert-child: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
