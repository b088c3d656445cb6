/**
 * Renders the running parts' own counters (collectors, pipeline, bus) as Prometheus text for
 * the API's /metrics. Stats objects are flattened: `{collectors:{otlp:{received:3}}}` becomes
 * `fabricscope_collectors_otlp_received 3`; string-keyed maps of numbers (per topic, per
 * target) become one series with a `key` label.
 */
export function renderPlatformMetrics(stats: Record<string, unknown>): string {
  const lines: string[] = [];
  const walk = (prefix: string, value: unknown): void => {
    if (typeof value === 'number' && Number.isFinite(value)) {
      lines.push(`${prefix} ${value}`);
      return;
    }
    if (typeof value === 'boolean') {
      lines.push(`${prefix} ${value ? 1 : 0}`);
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
    for (const [k, v] of Object.entries(value)) {
      const safe = k.replace(/[^a-zA-Z0-9_]/g, '_');
      if (safe === k) walk(`${prefix}_${k}`, v);
      else if (typeof v === 'number' && Number.isFinite(v)) lines.push(`${prefix}{key="${k.replace(/["\\\n]/g, '_')}"} ${v}`);
    }
  };
  for (const [part, value] of Object.entries(stats)) walk(`fabricscope_${part}`, value);
  return lines.join('\n') + (lines.length ? '\n' : '');
}
