/**
 * Benchmark 4, scale: end-to-end ingest at 256, 1,024 and 4,096 emulated GPUs with the simulated
 * time capped, to show how cost per row grows with the cluster. A size that does not finish
 * within its time limit is reported as such, not left out silently.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir } from '../harness/child.js';
import { progress } from '../harness/progress.js';
import type { BenchReport } from '../harness/report.js';
import { writeScenario } from '../harness/scenario-yaml.js';
import { ratio } from '../harness/stats.js';
import { e2eRun } from './e2e-run.js';

export interface ScaleOptions {
  sizes: number[];
  simulated_s: number;
  runs: number;
  timeoutMs: number;
}

export async function scaleBenchmark(report: BenchReport, o: ScaleOptions): Promise<void> {
  const S = 'scale';
  const root = benchDir('scale');
  try {
    for (const gpus of o.sizes) {
      const scenario = writeScenario(root, { name: `bench-scale-${gpus}`, gpus, duration_s: o.simulated_s, start: '2026-01-01T00:00:00Z' });
      const rates: number[] = [];
      const cpuPerRow: number[] = [];
      const speedups: number[] = [];
      const rss: number[] = [];
      for (let i = 0; i < o.runs; i++) {
        progress(S, `${gpus} GPUs, run ${i + 1}/${o.runs} (${o.simulated_s} simulated s, limit ${Math.round(o.timeoutMs / 1000)} s)`);
        const data = join(root, `${gpus}-${i}`);
        const outcome = await e2eRun(scenario, data, o.timeoutMs);
        rmSync(data, { recursive: true, force: true });
        if (!outcome.ok) {
          report.note(S, `${gpus} GPUs, run ${i + 1}: ${outcome.reason} (${o.simulated_s} simulated s)`);
          // A size too slow once will be too slow again: do not spend the budget repeating it.
          break;
        }
        const r = outcome.run;
        rates.push(r.rows_per_s);
        speedups.push(r.summary.simulated_s / r.summary.wall_s);
        cpuPerRow.push((r.steady_cpu_s / r.telemetry_rows) * 1e6);
        if (r.peak_rss_bytes !== undefined) rss.push(r.peak_rss_bytes / 2 ** 20);
        progress(S, `${gpus} GPUs: ${Math.round(r.rows_per_s)} rows/s, ${r.steady_cpu_s.toFixed(1)} CPU s after start-up`);
      }
      const k = `scale.gpus_${gpus}`;
      report.record(`${k}.e2e_rows_per_s`, `${gpus} GPUs: telemetry rows per wall second after start-up (${o.simulated_s} simulated s)`, 'rows/s', rates);
      report.record(`${k}.cpu_us_per_row`, `${gpus} GPUs: CPU per row after start-up, emulator included`, 'µs', cpuPerRow);
      report.record(`${k}.speedup_vs_real_time`, `${gpus} GPUs: simulated ÷ wall seconds`, '×', speedups);
      report.record(`${k}.peak_rss_mb`, `${gpus} GPUs: peak memory`, 'MiB', rss);
    }
    if (o.simulated_s < 1) {
      report.note(S, `${o.simulated_s} simulated s per size: switch telemetry and NCCL records only (the first GPU scrape is at 1 s)`);
    }
    // How cost per row grows with the cluster, against the smallest size that finished.
    const base = o.sizes.find((g) => report.get(`scale.gpus_${g}.cpu_us_per_row`)?.value !== undefined);
    for (const gpus of o.sizes) {
      if (base === undefined || gpus === base) continue;
      const grown = report.get(`scale.gpus_${gpus}.cpu_us_per_row`)?.value;
      const r = ratio(grown, report.get(`scale.gpus_${base}.cpu_us_per_row`)?.value);
      if (grown !== undefined && r !== undefined) report.record(`scale.cost_growth.gpus_${gpus}_vs_${base}`, `CPU per row at ${gpus} ÷ at ${base} GPUs (1 = linear total cost)`, '×', [r]);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
