/**
 * Reads a dcgm-exporter targets file. Accepted forms: one URL or `host:port` per line
 * (`#` comments allowed), a YAML/JSON list of targets, or Prometheus file_sd
 * (`[{ "targets": ["node-0:9400", …], "labels": {…} }]`), so an existing Prometheus
 * service-discovery file can be pointed at directly.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../core/errors.js';

export function readScrapeTargets(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read targets file: ${(e as Error).message}`, file);
  }
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('-')) {
    let value: unknown;
    try {
      value = parseYaml(text);
    } catch (e) {
      throw new ConfigError(`not valid YAML or JSON: ${(e as Error).message}`, file);
    }
    if (!Array.isArray(value)) throw new ConfigError('must be a list of targets', file);
    return value.flatMap((entry, i) => {
      if (typeof entry === 'string') return [entry];
      const targets = (entry as { targets?: unknown } | null)?.targets;
      if (Array.isArray(targets) && targets.every((t) => typeof t === 'string')) return targets as string[];
      throw new ConfigError('must be a target string or {targets: [...]}', `${file}: [${i}]`);
    });
  }
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}
