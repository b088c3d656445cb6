/**
 * A real Prometheus (Debian's `prometheus`, 2.42) on loopback with a free port, a temporary TSDB
 * and a scrape config for the given targets at one interval; no self-scrape, so everything it
 * ingests is the targets' samples (plus its per-target `up`/`scrape_*` series).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/harness/alertmanager.js';
import { LongRunning } from '../harness/child.js';
import { waitUntilOk } from '../harness/http.js';

export function prometheusInstalled(): boolean {
  return spawnSync('sh', ['-c', 'command -v prometheus'], { stdio: 'ignore' }).status === 0;
}

export interface RunningPrometheus {
  url: string;
  process: LongRunning;
  stop(): Promise<void>;
}

/** `jobs`: scrape job name → target URLs (http://host:port/metrics). */
export async function startPrometheus(jobs: Record<string, string[]>, intervalMs: number): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'fabricscope-bench-prometheus-'));
  const port = await freePort();
  const interval = `${intervalMs}ms`;
  const scrapeConfigs = Object.entries(jobs)
    .map(([job, urls]) => {
      const targets = urls.map((u) => JSON.stringify(new URL(u).host)).join(', ');
      return `  - job_name: ${job}\n    metrics_path: /metrics\n    static_configs:\n      - targets: [${targets}]`;
    })
    .join('\n');
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: ${interval}\n  scrape_timeout: ${interval}\n  evaluation_interval: 1m\nscrape_configs:\n${scrapeConfigs}\n`,
  );
  const proc = LongRunning.start('prometheus', 'prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilOk(`${url}/-/ready`, 60_000);
  } catch (e) {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}\n${proc.tail()}`);
  }
  return {
    url,
    process: proc,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
