/**
 * Benchmark 1, ingest: end to end (simulator → collectors → bus → pipeline → chDB) against the
 * same rows inserted into chDB directly in each input format, measured in pairs, back to back,
 * so every ratio compares two figures taken under the same machine load.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir, runMeasured } from '../harness/child.js';
import { DIRECT_INSERT_CHILD, EMULATOR_ONLY_CHILD } from '../harness/paths.js';
import { progress } from '../harness/progress.js';
import type { BenchReport } from '../harness/report.js';
import { writeScenario } from '../harness/scenario-yaml.js';
import { median, ratio } from '../harness/stats.js';
import { FORMATS, type DirectFormat, type ExportResult, type InsertResult } from './direct-insert-child.js';
import { e2eRun } from './e2e-run.js';

export interface IngestOptions {
  gpus: number;
  simulated_s: number;
  runs: number;
  /** Repetitions of each direct insert per run (the run's figure is their median). */
  direct_reps: number;
  timeoutMs: number;
}

export async function ingestBenchmark(report: BenchReport, o: IngestOptions): Promise<void> {
  const S = 'ingest';
  const root = benchDir('ingest');
  const scenario = writeScenario(root, {
    name: `bench-ingest-${o.gpus}`,
    gpus: o.gpus,
    duration_s: o.simulated_s,
    start: '2026-01-01T00:00:00Z',
    faults: [{ kind: 'incast_congestion', target: 'leaf-0/p1', start_s: Math.max(1, Math.floor(o.simulated_s / 3)), duration_s: 2, severity: 0.8 }],
  });
  const e2e: number[] = [];
  const e2ePorts: number[] = [];
  const e2eCpuPerRow: number[] = [];
  const e2eProcessCpuPerRow: number[] = [];
  const e2ePointsPerS: number[] = [];
  const direct: Record<DirectFormat, number[]> = Object.fromEntries(FORMATS.map((f) => [f, []])) as unknown as Record<DirectFormat, number[]>;
  const directCpuPerRow: number[] = [];
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  const ingestCpuPerRow: number[] = [];
  const ingestCpuRatios: number[] = [];
  try {
    for (let i = 0; i < o.runs; i++) {
      const data = join(root, `run-${i}`);
      progress(S, `run ${i + 1}/${o.runs}: end to end, ${o.gpus} GPUs, ${o.simulated_s} simulated s`);
      const outcome = await e2eRun(scenario, data, o.timeoutMs);
      if (!outcome.ok) {
        report.note(S, `run ${i + 1}: end-to-end ${outcome.reason}`);
        continue;
      }
      const run = outcome.run;
      progress(S, `run ${i + 1}: ${run.telemetry_rows} rows in ${run.summary.wall_s} s (${Math.round(run.rows_per_s)} rows/s); direct inserts of the same rows`);
      const emulator = await runMeasured(process.execPath, [EMULATOR_ONLY_CHILD, scenario], { timeoutMs: o.timeoutMs });
      const files = join(root, `export-${i}`);
      mkdirSync(files);
      const exported = await childJson<ExportResult>(['export', data, files], o.timeoutMs);
      const inserted = await childJson<InsertResult>(['insert', join(root, `direct-${i}`), files, String(o.direct_reps)], o.timeoutMs);
      rmSync(data, { recursive: true, force: true });
      rmSync(join(root, `direct-${i}`), { recursive: true, force: true });
      rmSync(files, { recursive: true, force: true });

      e2e.push(run.rows_per_s);
      e2ePorts.push(run.port_rows_per_s);
      e2ePointsPerS.push(exported.data_points / run.summary.wall_s);
      e2eCpuPerRow.push((run.steady_cpu_s / run.telemetry_rows) * 1e6);
      if (run.cpu_s !== undefined) e2eProcessCpuPerRow.push((run.cpu_s / run.telemetry_rows) * 1e6);
      let best: { rate: number; cpuPerRow: number } | undefined;
      for (const f of FORMATS) {
        const rate = inserted.rows / median(inserted.formats[f].wall_s)!;
        direct[f].push(rate);
        if (!best || rate > best.rate) best = { rate, cpuPerRow: (median(inserted.formats[f].cpu_s)! / inserted.rows) * 1e6 };
      }
      directCpuPerRow.push(best!.cpuPerRow);
      ratios.push(ratio(run.rows_per_s, best!.rate)!);
      const e2eCpu = e2eCpuPerRow[e2eCpuPerRow.length - 1]!;
      // Same idea in CPU terms: direct CPU per row over end-to-end CPU per row (1 = no overhead).
      cpuRatios.push(ratio(best!.cpuPerRow, e2eCpu)!);
      const emulatorCpu = emulator.code === 0 ? emulatorPlayCpu(emulator.stdout) : undefined;
      if (emulatorCpu !== undefined) {
        // Both after start-up: the end-to-end play and the emulator's play alone.
        const ingestOnly = ((run.steady_cpu_s - emulatorCpu) / run.telemetry_rows) * 1e6;
        ingestCpuPerRow.push(ingestOnly);
        ingestCpuRatios.push(ratio(best!.cpuPerRow, ingestOnly)!);
      }
      progress(S, `run ${i + 1}: direct best ${Math.round(best!.rate)} rows/s; ratio ${ratios[ratios.length - 1]!.toFixed(3)}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  report.record('ingest.e2e_rows_per_s', 'end to end: telemetry rows (port+gpu+collective) stored per wall second after start-up, emulator in the process', 'rows/s', e2e);
  report.record('ingest.e2e_port_rows_per_s', 'end to end: port-sample rows per wall second (same span)', 'rows/s', e2ePorts);
  report.record('ingest.e2e_data_points_per_s', 'end to end: canonical data points per wall second (same span)', 'points/s', e2ePointsPerS);
  report.record('ingest.e2e_cpu_us_per_row', 'end to end: CPU per row after start-up (all threads, emulator included)', 'µs', e2eCpuPerRow);
  report.record('ingest.e2e_process_cpu_us_per_row', 'end to end: CPU per row of the whole process (start-up and shutdown included)', 'µs', e2eProcessCpuPerRow);
  const perFormat = FORMATS.map((f) => [f, median(direct[f])] as const);
  for (const [f, v] of perFormat) report.record(`ingest.direct_by_format.${f}`, `direct insert, ${f}`, 'rows/s', direct[f]);
  const bestFormat = perFormat.reduce((a, b) => ((b[1] ?? 0) > (a[1] ?? 0) ? b : a));
  report.details.ingest = { gpus: o.gpus, simulated_s: o.simulated_s, best_direct_format: bestFormat[0] };
  report.record('ingest.direct_rows_per_s', `direct insert of the same rows, best format (${bestFormat[0]})`, 'rows/s', direct[bestFormat[0]]);
  report.record('ingest.direct_cpu_us_per_row', 'direct insert: CPU per row, best format', 'µs', directCpuPerRow);
  report.record('ingest.ratio', 'end to end ÷ direct, rows/s, per run pair (goal ≥ 0.5)', '×', ratios);
  report.record('ingest.cpu_ratio', 'direct CPU per row ÷ end-to-end CPU per row, per run pair', '×', cpuRatios);
  report.record('ingest.e2e_cpu_us_per_row_excl_emulator', 'end to end after start-up minus the emulator simulating alone (same scenario, nowhere to send: its OTLP encoding, HTTP posts and NCCL writes stay in)', 'µs', ingestCpuPerRow);
  report.record('ingest.cpu_ratio_excl_emulator', 'direct CPU per row ÷ end-to-end CPU per row without the emulator', '×', ingestCpuRatios);
  report.note(S, 'end-to-end rates and CPU are taken from the end of start-up (store open, migrations, listeners) to the last row stored, and include the emulator producing the telemetry in the same process (2 CPUs shared with it); direct inserts time the insert calls only');
}

/** The emulator-only child's CPU for its play (its last stdout line), start-up excluded. */
function emulatorPlayCpu(stdout: string): number | undefined {
  try {
    const cpu = (JSON.parse(stdout.trim().split('\n').pop()!) as { cpu_s?: number }).cpu_s;
    return typeof cpu === 'number' ? cpu : undefined;
  } catch {
    return undefined;
  }
}

async function childJson<T>(args: string[], timeoutMs: number): Promise<T> {
  const m = await runMeasured(process.execPath, [DIRECT_INSERT_CHILD, ...args], { timeoutMs });
  if (m.code !== 0 || m.timed_out) throw new Error(`direct-insert-child ${args[0]} failed: ${m.timed_out ? 'timed out' : m.stderr_tail}`);
  return JSON.parse(m.stdout.trim().split('\n').pop()!) as T;
}
