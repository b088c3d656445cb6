/**
 * Section `api`: the query API's latency under concurrent load over a day of a 1,024-GPU
 * cluster (bench/api/bench-api.ts, run as its own program: it starts its own server child).
 * Its last stdout line is the JSON of figures this section records.
 */
import { API_BENCH } from '../harness/paths.js';
import { runMeasured } from '../harness/child.js';
import { progress } from '../harness/progress.js';
import type { BenchReport } from '../harness/report.js';

export interface ApiOptions {
  /** Two hours of data and a few seconds per endpoint instead of a day and 15 s. */
  quick: boolean;
  timeoutMs: number;
}

type Figures = Record<string, { p50_ms: number; p95_ms: number; rps: number }>;

export async function apiBenchmark(report: BenchReport, o: ApiOptions): Promise<void> {
  const S = 'api';
  progress(S, `bench-api${o.quick ? ' --quick' : ''} (limit ${Math.round(o.timeoutMs / 1000)} s)`);
  const run = await runMeasured(process.execPath, [API_BENCH, ...(o.quick ? ['--quick'] : [])], {
    timeoutMs: o.timeoutMs,
    onStderrLine: (line) => progress(S, line.replace(/^\[bench [\d:]+\] api: /, '')),
  });
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  if (run.code !== 0 || !last.startsWith('{')) {
    report.note(S, run.timed_out ? `did not finish within ${Math.round(o.timeoutMs / 1000)} s` : `failed: ${run.stderr_tail.split('\n').at(-1)}`);
    return;
  }
  const figures = JSON.parse(last) as Figures;
  for (const [endpoint, f] of Object.entries(figures)) {
    report.record(`api.${endpoint}_p50_ms`, `API ${endpoint} p50 latency`, 'ms', [f.p50_ms]);
    report.record(`api.${endpoint}_p95_ms`, `API ${endpoint} p95 latency (goal < 100)`, 'ms', [f.p95_ms]);
    report.record(`api.${endpoint}_rps`, `API ${endpoint} requests/s`, 'req/s', [f.rps]);
  }
  report.details.api = { table: run.stdout.trim().split('\n').slice(0, -1) };
}
