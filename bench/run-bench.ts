/**
 * `npm run bench [-- --quick] [-- --only ingest,prometheus,detection,scale,api]`: every benchmark in
 * one harness. Progress goes to stderr; bench/out/report.json gets the figures (medians, with
 * their runs), bench/out/report.txt and stdout the readable table. Benchmarks print figures and
 * never assert them: a slow or loaded machine gives slow figures, with the load in the report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { OUT_DIR } from './harness/paths.js';
import { progress } from './harness/progress.js';
import { BenchReport, renderTable, type ReportMeta } from './harness/report.js';
import { apiBenchmark, type ApiOptions } from './suites/api.js';
import { detectionBenchmark, type DetectionOptions } from './suites/detection.js';
import { ingestBenchmark, type IngestOptions } from './suites/ingest.js';
import { prometheusBenchmark, type PrometheusOptions } from './suites/prometheus.js';
import { scaleBenchmark, type ScaleOptions } from './suites/scale.js';

interface Plan {
  ingest: IngestOptions;
  prometheus: PrometheusOptions;
  detection: DetectionOptions;
  scale: ScaleOptions;
  api: ApiOptions;
}

/** --quick: under five minutes on an idle 2-CPU machine; the full plan takes about half an hour. */
const PLANS: Record<'quick' | 'full', Plan> = {
  quick: {
    ingest: { gpus: 64, simulated_s: 8, runs: 3, direct_reps: 3, timeoutMs: 120_000 },
    prometheus: { gpus: 64, interval_ms: 1000, warmup_s: 10, windows: 3, window_s: 10, query_reps: 5 },
    detection: { gpus: 32, occurrences: 3, every_s: 15, first_start_s: 8, poll_ms: 100 },
    scale: { sizes: [256, 1024, 4096], simulated_s: 0.5, runs: 1, timeoutMs: 120_000 },
    api: { quick: true, timeoutMs: 600_000 },
  },
  full: {
    ingest: { gpus: 256, simulated_s: 10, runs: 5, direct_reps: 5, timeoutMs: 600_000 },
    prometheus: { gpus: 256, interval_ms: 1000, warmup_s: 20, windows: 5, window_s: 30, query_reps: 20 },
    detection: { gpus: 64, occurrences: 5, every_s: 20, first_start_s: 10, poll_ms: 100 },
    scale: { sizes: [256, 1024, 4096], simulated_s: 10, runs: 3, timeoutMs: 600_000 },
    api: { quick: false, timeoutMs: 3_600_000 },
  },
};

const SECTIONS = ['ingest', 'prometheus', 'detection', 'scale', 'api'] as const;
type Section = (typeof SECTIONS)[number];

function parseArgs(argv: string[]): { mode: 'quick' | 'full'; only: Set<Section> } {
  let mode: 'quick' | 'full' = 'full';
  let only = new Set<Section>(SECTIONS);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') mode = 'quick';
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const list = (arg.includes('=') ? arg.slice(7) : argv[++i] ?? '').split(',').filter(Boolean);
      const unknown = list.filter((s) => !(SECTIONS as readonly string[]).includes(s));
      if (unknown.length) throw new Error(`unknown section ${unknown.join(', ')} (sections: ${SECTIONS.join(', ')})`);
      only = new Set(list as Section[]);
    } else throw new Error(`unknown argument "${arg}" (use --quick, --only ${SECTIONS.join(',')})`);
  }
  return { mode, only };
}

async function main(): Promise<void> {
  const { mode, only } = parseArgs(process.argv.slice(2));
  const plan = PLANS[mode];
  const started = new Date();
  const loadStart = loadavg();
  const report = new BenchReport();
  progress('bench', `${mode} run of ${[...only].join(', ')}; load average ${loadStart.map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
  const run: Record<Section, () => Promise<void>> = {
    ingest: () => ingestBenchmark(report, plan.ingest),
    prometheus: () => prometheusBenchmark(report, plan.prometheus),
    detection: () => detectionBenchmark(report, plan.detection),
    scale: () => scaleBenchmark(report, plan.scale),
    api: () => apiBenchmark(report, plan.api),
  };
  for (const section of SECTIONS) {
    if (!only.has(section)) continue;
    try {
      await run[section]();
    } catch (e) {
      // One broken benchmark must not cost the figures of the others.
      report.note(section, `failed: ${(e as Error).message.split('\n')[0]}`);
      progress(section, `failed: ${(e as Error).message}`);
    }
  }
  const meta: ReportMeta = {
    mode,
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    wall_s: (Date.now() - started.getTime()) / 1000,
    machine: { cpus: cpus().length, load_avg_start: loadStart, load_avg_end: loadavg(), node: process.version },
  };
  const table = renderTable(report.all(), report.notes, meta);
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, 'report.json'), JSON.stringify(report.toJSON(meta), null, 2) + '\n');
  writeFileSync(join(OUT_DIR, 'report.txt'), table + '\n');
  process.stdout.write(table + '\n');
  progress('bench', `wrote ${join(OUT_DIR, 'report.json')}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exit(1);
});
