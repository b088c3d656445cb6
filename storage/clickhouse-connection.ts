/**
 * Builds the one `@clickhouse/client` the store talks through, on either backend:
 * embedded chDB persisted in a data directory (the default) or a ClickHouse server by URL.
 * Everything above this file sees the same client API, so the DDL and queries are shared.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { ConfigError } from '../core/errors.js';
import { gateReads } from './chdb-query-gate.js';

/**
 * chdb types its connection against the standalone @clickhouse/client-common package, while
 * @clickhouse/client 1.23 bundles its own copy whose settings type differs by a few keys. The
 * runtime contract is the same (the adapter is built for this client), so we cast once here.
 */
type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

export type ClickHouseTarget =
  /** chDB in this process. chDB binds one data directory per process. */
  | { kind: 'embedded'; dataDir: string }
  /** A ClickHouse server or cluster endpoint, e.g. `http://user:pass@host:8123/fabricscope`. */
  | { kind: 'server'; url: string };

/** The JSON line formats the raw insert takes: objects per row, or arrays in `columns` order. */
export type RawJsonFormat = 'JSONEachRow' | 'JSONCompactEachRow';

/**
 * Inserts JSON-lines bytes as they are. Embedded chDB hands the Buffer to its parser without
 * the client's per-row stream encoding, the body-to-string concatenation and the `SET …;`
 * prefix the client path costs on every insert.
 */
export type RawJsonInsert = (
  table: string,
  body: Buffer,
  settings: Record<string, string | number>,
  format?: { format: RawJsonFormat; columns?: readonly string[] },
) => Promise<void>;

export interface ClickHouseConnection {
  client: ClickHouseClient;
  /** Where the data lives, safe to log (no credentials). */
  describe: string;
  /** Embedded chDB only: the cheaper insert path (a server takes inserts through `client`). */
  rawInsert?: RawJsonInsert;
}

/**
 * Settings pinned on both backends so results have one shape whatever the server defaults:
 * 64-bit integers as JSON numbers (ms timestamps stay below 2^53) and named tuples as objects.
 */
const SHARED_SETTINGS: ClickHouseSettings = {
  output_format_json_quote_64bit_integers: 0,
  output_format_json_named_tuples_as_objects: 1,
};

/**
 * The same settings as a query's own SETTINGS clause, which the store's reads carry: on chDB
 * the client's settings would run as `SET` statements before every query (engine time that
 * every other query waits for, since chDB runs one query at a time), so the embedded client
 * has none and each read pins the shape it parses instead. chDB's defaults are these values.
 */
export const RESULT_SHAPE_SETTINGS = Object.entries(SHARED_SETTINGS)
  .map(([name, value]) => `${name} = ${String(value)}`)
  .join(', ');

export function openClickHouse(target: ClickHouseTarget): ClickHouseConnection {
  if (target.kind === 'embedded') {
    // chDB wants an absolute path; a relative --data is relative to the working directory.
    const dir = resolve(target.dataDir);
    mkdirSync(dir, { recursive: true });
    const connection = createChdbConnection({ path: dir });
    // No client settings: on chDB they run as `SET` statements before every query; reads carry RESULT_SHAPE_SETTINGS.
    // Reads pass the gate that keeps a failed read's rows out of the next answer (chdb-query-gate.ts).
    const client = gateReads(createClient({ connection: connection as unknown as ClientConnection }));
    const rawInsert: RawJsonInsert = async (table, body, settings, format) => {
      const columns = format?.columns ? [...format.columns] : undefined;
      await connection.chdb.rawInsert({ table, values: body, format: format?.format ?? 'JSONEachRow', settings, columns });
    };
    return { client, describe: `chdb:${dir}`, rawInsert };
  }
  let url: URL;
  try {
    url = new URL(target.url);
  } catch {
    throw new ConfigError('not a valid URL', 'clickhouse');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`unsupported protocol ${url.protocol} (use http: or https:)`, 'clickhouse');
  }
  // clickhouse-js reads credentials and the database (the path) from the URL itself.
  const client = createClient({
    url: target.url,
    clickhouse_settings: SHARED_SETTINGS,
    // The store reports every failure through our structured logger; the client's own
    // console logging would only duplicate it, unstructured, on stderr.
    log: { level: ClickHouseLogLevel.OFF },
  });
  return { client, describe: `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}` };
}
