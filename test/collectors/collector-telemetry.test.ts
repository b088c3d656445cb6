/**
 * Self-telemetry: counts per source and format, scrape durations and bus lag, rendered as
 * Prometheus text that a strict exposition parser accepts (every family with HELP and TYPE,
 * histogram buckets cumulative and ending in +Inf).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CollectorService } from '../../collectors/collector-service.js';
import { parsePrometheusTextStrict } from '../../collectors/dcgm/prometheus-text.js';
import { MemoryBus } from '../../pipeline/memory-bus.js';
import { switchPayload, zeroPort } from './otlp-fixtures.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };

describe('collector self-telemetry', () => {
  it('renders received, rejected and published per source and format, and scrape durations', async () => {
    const bus = new MemoryBus();
    bus.subscribe('port_samples', 'test', async () => {});
    const exporter = createServer((_req, res) => res.end('DCGM_FI_DEV_SM_CLOCK{gpu="0",Hostname="node-0"} 1410\nbroken{ 1\n'));
    await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
    const service = new CollectorService({
      bus,
      logger: silent,
      otlp: { port: 0 },
      scrape: { targets: [`127.0.0.1:${(exporter.address() as AddressInfo).port}`] },
    });
    await service.start();
    const post = (body: string) => fetch(`${service.otlpUrl}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect((await post(JSON.stringify(switchPayload('leaf-0', 1_767_225_600_000, { p1: zeroPort() })))).status).toBe(200);
    expect((await post('{"resourceMetrics": 3}')).status).toBe(400);
    await service.scrapeNow();

    const text = await service.metricsText();
    await service.stop();
    exporter.close();

    const parsed = parsePrometheusTextStrict(text, '/metrics');
    const value = (name: string, labels: Record<string, string>) =>
      parsed.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('fabricscope_collector_received_total', { source: 'otlp', format: 'json' })).toBe(9);
    expect(value('fabricscope_collector_published_total', { source: 'otlp', format: 'json' })).toBe(1);
    expect(value('fabricscope_collector_rejected_total', { source: 'otlp', format: 'json' })).toBe(1);
    expect(value('fabricscope_collector_received_total', { source: 'dcgm', format: 'prometheus_text' })).toBe(2);
    expect(value('fabricscope_collector_rejected_total', { source: 'dcgm', format: 'prometheus_text' })).toBe(1);
    expect(value('fabricscope_collector_scrape_duration_seconds_count', { source: 'dcgm' })).toBe(1);
    expect(value('fabricscope_collector_scrape_duration_seconds_bucket', { source: 'dcgm', le: '+Inf' })).toBe(1);
    expect(value('fabricscope_collector_bus_lag_records', { group: 'port_samples/test' })).toBe(0);

    // Exposition-format rules promtool checks: HELP and TYPE for each family, once, before its samples.
    for (const [name, family] of parsed.families) {
      expect(family.help, name).toBeTruthy();
      expect(family.type, name).toMatch(/^(counter|gauge|histogram)$/);
    }
    expect(text.match(/^# TYPE fabricscope_collector_received_total counter$/gm)).toHaveLength(1);
    const buckets = parsed.samples.filter((s) => s.name === 'fabricscope_collector_scrape_duration_seconds_bucket').map((s) => s.value);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(text.endsWith('\n')).toBe(true);
  });
});
