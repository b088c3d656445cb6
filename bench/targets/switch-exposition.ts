/**
 * The switches' samples in Prometheus text, for Prometheus to scrape: exactly the data points
 * the OTLP exporter pushes to fabricscope (buildSwitchResourceMetrics), so both systems ingest
 * the same samples. Labels: host_name (the switch) plus the OTLP attributes (interface, tc).
 */
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { buildSwitchResourceMetrics } from '../../simulator/exporters/otlp-switch-payload.js';
import type { SwitchSnapshot } from '../../simulator/outputs.js';

const labelValue = (v: unknown) => String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function renderSwitchExposition(snaps: readonly SwitchSnapshot[], resetMs: number): string {
  const lines: string[] = [];
  for (const snap of snaps) {
    const rm: ResourceMetrics = buildSwitchResourceMetrics(snap, resetMs);
    const ts = Math.round(snap.ts_ms);
    for (const metric of rm.scopeMetrics[0]!.metrics) {
      const name = metric.descriptor.name.replace(/[^a-zA-Z0-9_:]/g, '_');
      for (const dp of metric.dataPoints) {
        const labels = [`host_name="${labelValue(snap.device)}"`, ...Object.entries(dp.attributes).map(([k, v]) => `${k.replace(/[^a-zA-Z0-9_]/g, '_')}="${labelValue(v)}"`)];
        lines.push(`${name}{${labels.join(',')}} ${Number(dp.value)} ${ts}`);
      }
    }
  }
  return lines.join('\n') + '\n';
}
