/**
 * Every query of every Grafana dashboard (panels and variables), expanded as Grafana and the
 * ClickHouse datasource expand it, runs on chDB against the real schema over a played
 * scenario and returns rows. The dashboards are built by the SDK's builders, as `npm run
 * dashboards` builds them.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARDS } from '../../dashboards/grafana/all-dashboards.js';
import { dashboardQueries } from '../../dashboards/grafana/dashboard-queries.js';
import { openClickHouse, runMigrations } from '../../storage/index.js';
import { ALL, expandQuery, type GrafanaRequest } from './clickhouse-macros.js';
import { playedScenarioCopy } from './played-scenario.js';

let client: ClickHouseClient;
const requests: Record<string, GrafanaRequest> = {};

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  const rs = await client.query({ query: sql, format: 'JSONEachRow' });
  return rs.json<Record<string, unknown>>();
}

beforeAll(async () => {
  const data = await playedScenarioCopy('grafana-sql');
  client = openClickHouse({ kind: 'embedded', dataDir: data }).client;
  await runMigrations(client);

  // Alerting may raise no alert on this scenario; one resolved alert lets the alert panels
  // prove they read the real table's columns.
  const [{ n }] = (await rows('SELECT count() AS n FROM alerts')) as [{ n: number }];
  if (Number(n) === 0) {
    await client.insert({
      table: 'alerts',
      format: 'JSONEachRow',
      values: [{ id: 'test-alert', rule: 'collective_jitter', state: 'firing', labels: { job: 'train-a' }, annotations: { summary: 'jitter above baseline' }, starts: Date.parse('2026-01-01T00:00:10Z'), ends: 0, value: 2.5, updated: Date.now() }],
    });
  }

  const [range] = (await rows('SELECT toUnixTimestamp64Milli(min(ts)) AS from_ms, toUnixTimestamp64Milli(max(ts)) AS to_ms FROM port_samples')) as [{ from_ms: number; to_ms: number }];
  const [stall] = (await rows(
    `SELECT id, job, toUnixTimestamp64Milli(start) AS start_ms, toUnixTimestamp64Milli(end) AS end_ms FROM stalls FINAL WHERE rc_kind = 'incast_congestion' ORDER BY start LIMIT 1`,
  )) as [{ id: string; job: string; start_ms: number; end_ms: number }];
  const gpus = (await rows('SELECT DISTINCT gpu FROM gpu_samples ORDER BY gpu')).map((r) => String(r.gpu));
  expect(stall, 'the scenario has an incast stall').toBeDefined();

  const variables: GrafanaRequest['variables'] = { job: { value: stall.job }, stall: { value: stall.id }, gpu: { value: ALL, options: gpus } };
  // Grafana's interval for ~1000 pixels over the range.
  const whole: GrafanaRequest = { from_ms: Number(range.from_ms), to_ms: Number(range.to_ms) + 1000, interval_ms: 1000, variables };
  for (const { file } of DASHBOARDS) requests[file] = whole;
  // The drill-down link frames the stall with 10 s either side.
  requests['stall-drilldown.json'] = { from_ms: Number(stall.start_ms) - 10_000, to_ms: Number(stall.end_ms) + 10_000, interval_ms: 100, variables };
}, 300_000);

afterAll(async () => {
  await client?.close();
});

describe.each(DASHBOARDS.map((d) => [d.file, d] as const))('%s', (file, { build }) => {
  const built = build().build();
  const queries = dashboardQueries(built);

  it('has queries, every one on the ClickHouse datasource', () => {
    expect(queries.length).toBeGreaterThan(2);
    for (const p of built.panels ?? []) {
      if (p.type === 'row') continue;
      expect(p.datasource?.type, p.title).toBe('grafana-clickhouse-datasource');
    }
  });

  it.each(queries.map((q) => [q.source, q] as const))('%s returns rows', async (_source, q) => {
    const sql = expandQuery(q.rawSql, requests[file]!);
    expect(sql).not.toMatch(/\$__|\$\{|\$[a-z]/);
    const result = await rows(sql);
    expect(result.length, `no rows from:\n${sql}`).toBeGreaterThan(0);
  });
});

describe('the macro expander', () => {
  const r: GrafanaRequest = { from_ms: 1_767_225_600_500, to_ms: 1_767_225_660_000, interval_ms: 250, variables: { gpu: { value: ALL, options: ['a', 'b'] }, job: { value: 'train-a' } } };
  it('expands as the plugin documents', () => {
    expect(expandQuery('$__timeFilter(ts)', r)).toBe('ts >= toDateTime(1767225600) AND ts <= toDateTime(1767225660)');
    expect(expandQuery('$__timeInterval(ts)', r)).toBe('toStartOfInterval(toDateTime(ts), INTERVAL 1 second)');
    expect(expandQuery('$__timeInterval_ms(ts)', r)).toBe('toStartOfInterval(toDateTime64(ts, 3), INTERVAL 250 millisecond)');
    expect(expandQuery('$__fromTime_ms $__toTime', r)).toBe('fromUnixTimestamp64Milli(1767225600500) toDateTime(1767225660)');
    expect(expandQuery("$__conditionalAll(gpu IN (${gpu:singlequote}), $gpu) AND job = '${job}'", r)).toBe("1=1 AND job = 'train-a'");
    const one = { ...r, variables: { gpu: { value: 'a' } } };
    expect(expandQuery('$__conditionalAll(gpu IN (${gpu:singlequote}), $gpu)', one)).toBe("gpu IN ('a')");
  });
});
