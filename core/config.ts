/**
 * One validated configuration for every command. Values come from, lowest to highest
 * precedence: defaults, a config file (`--config F`, YAML or JSON), environment variables
 * (`FABRICSCOPE_<NAME>`, e.g. FABRICSCOPE_OTLP_HTTP_PORT) and command-line flags
 * (`--otlp-http-port`). Every source goes through the same zod schema.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.js';

/**
 * What the embedded store's result cache may keep, in items (rows, points, ranks): ~10 MB of
 * answers, enough for a dashboard's repeat queries without a heap that slows every GC.
 */
export const DEFAULT_RESULT_CACHE_ITEMS = 50_000;

const port = z.coerce.number().int().min(0).max(65535);
const csv = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.string().min(1)),
);
const bool = z.preprocess((v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v), z.boolean());

export const configSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: port.default(8080),
    data: z.string().default('data'),
    clickhouse: z.string().url().optional(),
    /**
     * Cluster mode (a ClickHouse server URL only): the cluster name of the servers'
     * remote_servers; DDL runs ON CLUSTER. See docs/deployment.md.
     */
    clickhouse_cluster: z.string().min(1).optional(),
    /** With clickhouse_cluster: Replicated*MergeTree engines (ZooKeeper or ClickHouse Keeper). */
    clickhouse_replicated: bool.default(false),
    /** Keeper path prefix of the replicated tables; `/{shard}/<table>` is appended. */
    clickhouse_zookeeper_path: z.string().default('/clickhouse/tables/fabricscope'),
    /** With clickhouse_cluster: rows in `<table>_local` per shard, read and written through Distributed `<table>`. */
    clickhouse_distributed: bool.default(false),
    /**
     * Items (rows, points, ranks) the embedded store may keep as answers to repeat queries,
     * invalidated exactly by its own inserts (storage/result-cache.ts); 0 turns it off. A
     * ClickHouse server (clickhouse set) never caches: other writers change its data.
     */
    result_cache_items: z.coerce.number().int().min(0).default(DEFAULT_RESULT_CACHE_ITEMS),
    kafka: csv.optional(),
    /** Partitions per topic when fabricscope creates the Kafka topics (real clusters). */
    kafka_partitions: z.coerce.number().int().positive().default(12),
    kafka_replication_factor: z.coerce.number().int().positive().default(3),
    kafka_client_id: z.string().min(1).default('fabricscope'),
    kafka_topic_prefix: z.string().default('fabricscope.'),
    /** Wall-time window a correlator replays to rebuild its state (pipeline/kafka/stage-placement.ts). */
    kafka_replay_s: z.coerce.number().int().positive().default(300),
    /** Seconds before a dead process's partitions move to the other members of its group. */
    kafka_session_timeout_s: z.coerce.number().int().positive().default(10),
    /** A produce request unanswered this long means the brokers are away: collectors refuse (503) until one gets through. */
    kafka_stalled_after_ms: z.coerce.number().int().positive().default(3_000),
    /** Roles this process runs with --kafka: collect, correlate, sink, api (default: all). */
    role: csv.pipe(z.array(z.enum(['collect', 'correlate', 'sink', 'api']))).optional(),
    alertmanager: z.string().url().optional(),
    /** Alert rule file (alerting/rule-file.ts); the shipped default rules when absent, `none` for no alerting. */
    alert_rules: z.string().min(1).optional(),
    /** Overrides the rule file's evaluation interval (event time). */
    alert_eval_interval_ms: z.coerce.number().int().positive().optional(),
    /** Wall-clock interval at which firing alerts are re-sent to Alertmanager (Prometheus' resend delay). */
    alert_resend_interval_ms: z.coerce.number().int().positive().default(60_000),
    /** Generic webhooks that receive alerts as Alertmanager webhook (v4) payloads. */
    webhooks: csv.pipe(z.array(z.string().url())).default([]),
    simulator: bool.default(true),
    scenario: z.string().optional(),
    /** Topology file (as the simulator writes it) when telemetry comes from real devices. */
    topology: z.string().optional(),
    speed: z
      .union([z.literal('max'), z.coerce.number().positive()])
      .default(1)
      .describe('simulation speed: a factor of real time, or "max"'),
    otlp_http_port: port.default(4318),
    otlp_grpc_port: port.default(4317),
    scrape: csv.default([]),
    /** dcgm targets file (URL lines, or Prometheus file_sd JSON/YAML); re-read when it changes. */
    scrape_file: z.string().optional(),
    /** How often the targets file is checked for changes when the file system sends no event. */
    scrape_file_check_ms: z.coerce.number().int().positive().default(5_000),
    scrape_interval_ms: z.coerce.number().int().positive().optional(),
    nccl_dir: z.string().optional(),
    /** A directory of PyTorch Flight Recorder JSON dumps (`…_rank_<n>[.json]`, optionally under `<host>/`). */
    flight_recorder_dir: z.string().optional(),
    /** NCCL Inspector Prometheus-mode endpoints (node-exporter textfile, or any server of the Inspector's file). */
    nccl_scrape: csv.default([]),
    /** Their scrape interval; also the window in which ranks' summaries are compared (the Inspector dumps every ≥ 30 s). */
    nccl_scrape_interval_ms: z.coerce.number().int().positive().default(30_000),
    max_body_bytes: z.coerce.number().int().positive().default(16 * 1024 * 1024),
    bus_capacity: z.coerce.number().int().positive().default(200_000),
    /**
     * How long the embedded sink gathers telemetry rows into one insert. An insert costs chDB
     * ~35 ms of CPU before its first row (parts, rollup views, dedup log; ~12 µs a row after), so
     * at 1 s a 64-GPU site spent ~40% of its CPU on three small inserts a second. Stalls, episodes
     * and alerts are written at once; only raw telemetry reaches the API up to this much later.
     */
    sink_linger_ms: z.coerce.number().int().min(0).max(60_000).default(3_000),
    api_tokens: csv.default([]),
    log_level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigKey = keyof Config;
export const CONFIG_KEYS = Object.keys(configSchema.shape) as ConfigKey[];

/** `otlp_http_port` ↔ `--otlp-http-port` ↔ `FABRICSCOPE_OTLP_HTTP_PORT`. */
export const flagOf = (key: string): string => `--${key.replace(/_/g, '-')}`;
export const envOf = (key: string): string => `FABRICSCOPE_${key.toUpperCase()}`;

export interface ConfigSources {
  /** Flags already split into key → value (keys in snake_case). */
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  file?: string;
  /** Per-command defaults that differ from the schema's (e.g. `run` defaults speed to max). */
  defaults?: Partial<Record<ConfigKey, unknown>>;
}

export function loadConfig(sources: ConfigSources = {}): Config {
  const merged: Record<string, unknown> = { ...(sources.defaults ?? {}) };
  const origin: Record<string, string> = {};
  const file = sources.file ?? (sources.flags?.config as string | undefined);
  if (file) {
    for (const [k, v] of Object.entries(readConfigFile(file))) {
      merged[k] = v;
      origin[k] = `${file}: ${k}`;
    }
  }
  const env = sources.env ?? {};
  for (const key of CONFIG_KEYS) {
    const v = env[envOf(key)];
    if (v !== undefined && v !== '') {
      merged[key] = v;
      origin[key] = envOf(key);
    }
  }
  for (const [k, v] of Object.entries(sources.flags ?? {})) {
    if (k === 'config' || v === undefined) continue;
    merged[k] = v;
    origin[k] = flagOf(k);
  }
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    if (issue.code === 'unrecognized_keys') {
      const unknown = issue.keys[0]!;
      throw new ConfigError(`unknown setting "${unknown}"`, origin[unknown] ?? unknown);
    }
    throw new ConfigError(issue.message, origin[key] ?? key);
  }
  return parsed.data;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file: ${(e as Error).message}`, file);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`not valid YAML or JSON: ${(e as Error).message}`, file);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError('must be a mapping of settings', file);
  }
  // Files may use either snake_case or kebab-case keys.
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(/-/g, '_'), v]));
}
