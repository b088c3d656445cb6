/**
 * One end-to-end ingest run: `fabricscope run --speed max` plays a scenario through the real
 * collectors, bus, pipeline and chDB in a child process; the figures come from its JSON summary
 * (what was stored) and from the kernel's account of its CPU.
 */
import { runMeasured } from '../harness/child.js';
import { FABRICSCOPE_CLI } from '../harness/paths.js';

export interface RunSummary {
  simulated_s: number;
  wall_s: number;
  records: Record<string, number>;
  stalls: number;
  /** cpu_s: the process's CPU from the end of start-up to everything stored. */
  throughput: { cpu_s: number };
}

export interface E2eRun {
  summary: RunSummary;
  /** port_samples + gpu_samples + collective_events stored. */
  telemetry_rows: number;
  port_rows: number;
  /** Rows per second of the platform's own wall time (after start-up, to the last row stored). */
  rows_per_s: number;
  port_rows_per_s: number;
  /** CPU of the whole process, start-up and shutdown included. */
  cpu_s: number | undefined;
  /** CPU from the end of start-up to the last row stored (the process's own account). */
  steady_cpu_s: number;
  process_wall_s: number;
  peak_rss_bytes: number | undefined;
}

export type E2eOutcome = { ok: true; run: E2eRun } | { ok: false; reason: string };

export async function e2eRun(scenarioFile: string, dataDir: string, timeoutMs: number): Promise<E2eOutcome> {
  const m = await runMeasured(
    process.execPath,
    [FABRICSCOPE_CLI, 'run', '--scenario', scenarioFile, '--data', dataDir, '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--log-level', 'warn'],
    { timeoutMs },
  );
  if (m.timed_out) return { ok: false, reason: `did not finish within ${Math.round(timeoutMs / 1000)} s` };
  if (m.code !== 0) return { ok: false, reason: `fabricscope run exited ${m.code}: ${m.stderr_tail.split('\n').slice(-3).join(' | ')}` };
  const summary = JSON.parse(m.stdout) as RunSummary;
  const r = summary.records;
  const telemetry_rows = (r.port_samples ?? 0) + (r.gpu_samples ?? 0) + (r.collective_events ?? 0);
  const port_rows = r.port_samples ?? 0;
  return {
    ok: true,
    run: {
      summary,
      telemetry_rows,
      port_rows,
      rows_per_s: telemetry_rows / summary.wall_s,
      port_rows_per_s: port_rows / summary.wall_s,
      cpu_s: m.cpu_s,
      steady_cpu_s: summary.throughput.cpu_s,
      process_wall_s: m.wall_s,
      peak_rss_bytes: m.peak_rss_bytes,
    },
  };
}
