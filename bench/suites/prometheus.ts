/**
 * Benchmark 2, against Prometheus: both read the same emulated targets at the same interval on
 * loopback — the nodes' dcgm-exporter endpoints (scraped by both), and the switches' samples
 * (OTLP pushes to fabricscope; the same data points as Prometheus text to Prometheus) — while
 * the emulator runs in a third process. Over equal windows: CPU-seconds per million samples
 * ingested (each system's own count of samples; CPU from /proc/<pid>/stat), memory, and the
 * latency of the same two questions through PromQL and through our API.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../test/harness/alertmanager.js';
import { benchDir, LongRunning } from '../harness/child.js';
import { getJson, getText, sumMetric, waitUntilOk } from '../harness/http.js';
import { FABRICSCOPE_CLI, TARGETS_CHILD } from '../harness/paths.js';
import { cpuSecondsOf, memoryOf } from '../harness/proc-stat.js';
import { progress } from '../harness/progress.js';
import type { BenchReport } from '../harness/report.js';
import { writeScenario } from '../harness/scenario-yaml.js';
import { perMillion, ratio } from '../harness/stats.js';
import { prometheusInstalled, startPrometheus, type RunningPrometheus } from './prometheus-server.js';

export interface PrometheusOptions {
  gpus: number;
  interval_ms: number;
  warmup_s: number;
  windows: number;
  window_s: number;
  query_reps: number;
}

const JOB = 'train-a';
const PROMQL = {
  top_ports: 'topk(10, max by (host_name, interface) (max_over_time(nvswitch_interface_shared_buffer_port_tc_curr_occupancy[5m])))',
  job_p99: `histogram_quantile(0.99, sum by (le) (increase(nccl_collective_duration_seconds_bucket{nccl_job="${JOB}"}[1h])))`,
};

/**
 * Our count of the samples Prometheus also gets: dcgm-exporter samples and OTLP data points. NCCL
 * lines (which Prometheus sees only as a histogram) are left out of the count, not of the CPU.
 */
const FROM_SCRAPED_OR_PUSHED = (labels: string) => /source="(dcgm|otlp)"/.test(labels);

interface Side {
  name: 'prometheus' | 'fabricscope';
  pid: number;
  samples(): Promise<number>;
  /** Everything ingested, where that is more than the samples (our NCCL per-rank records). */
  allRecords?(): Promise<number>;
}

export async function prometheusBenchmark(report: BenchReport, o: PrometheusOptions): Promise<void> {
  const S = 'prometheus';
  if (!prometheusInstalled()) {
    report.note(S, 'skipped: no `prometheus` on PATH (npm run bench installs Debian\'s package via dist/cli/setup.js --for bench)');
    return;
  }
  const root = benchDir('prometheus');
  const ncclDir = join(root, 'nccl');
  mkdirSync(ncclDir);
  const scenario = writeScenario(root, {
    name: `bench-prometheus-${o.gpus}`,
    gpus: o.gpus,
    duration_s: 0,
    switch_interval_ms: o.interval_ms,
    gpu_interval_ms: o.interval_ms,
    faults: [{ kind: 'incast_congestion', target: 'leaf-0/p1', start_s: o.warmup_s, duration_s: 5, severity: 0.8, every_s: 20 }],
  });
  const [otlpPort, apiPort] = [await freePort(), await freePort()];
  let targets: LongRunning | undefined;
  let ours: LongRunning | undefined;
  let prom: RunningPrometheus | undefined;
  try {
    progress(S, `starting emulated targets (${o.gpus} GPUs, every ${o.interval_ms} ms), fabricscope and Prometheus`);
    targets = LongRunning.start('targets', process.execPath, [TARGETS_CHILD, scenario, `http://127.0.0.1:${otlpPort}`, ncclDir, root]);
    const announced = JSON.parse((await targets.waitForLine((l) => l.text.startsWith('{"dcgm"'), 120_000)).text) as { dcgm: string[]; extra: string };
    const api = `http://127.0.0.1:${apiPort}`;
    ours = LongRunning.start('fabricscope', process.execPath, [
      FABRICSCOPE_CLI, 'up', '--no-simulator',
      '--scrape', announced.dcgm.join(','), '--scrape-interval-ms', String(o.interval_ms),
      '--topology', join(root, 'topology.json'), '--nccl-dir', ncclDir,
      '--otlp-http-port', String(otlpPort), '--otlp-grpc-port', '0',
      '--port', String(apiPort), '--data', join(root, 'fabricscope-data'), '--log-level', 'warn',
    ]);
    await waitUntilOk(`${api}/readyz`, 120_000);
    prom = await startPrometheus({ dcgm: announced.dcgm, switches: [announced.extra] }, o.interval_ms);
    targets.send('go');
    const promUrl = prom.url;
    const sides: Side[] = [
      { name: 'prometheus', pid: prom.process.pid, samples: async () => sumMetric(await getText(`${promUrl}/metrics`), 'prometheus_tsdb_head_samples_appended_total') },
      {
        name: 'fabricscope',
        pid: ours.pid,
        samples: async () => sumMetric(await getText(`${api}/metrics`), 'fabricscope_collector_received_total', FROM_SCRAPED_OR_PUSHED),
        allRecords: async () => sumMetric(await getText(`${api}/metrics`), 'fabricscope_collector_received_total'),
      },
    ];
    progress(S, `warming up ${o.warmup_s} s`);
    await sleep(o.warmup_s * 1000);

    const cpuPerM: Record<string, number[]> = { prometheus: [], fabricscope: [] };
    const rssMb: Record<string, number[]> = { prometheus: [], fabricscope: [] };
    const samplesPerS: Record<string, number[]> = { prometheus: [], fabricscope: [] };
    const ratios: number[] = [];
    const oursPerMillionRecords: number[] = [];
    const oursRecordsPerS: number[] = [];
    const probe = async (s: Side) => ({ cpu: cpuSecondsOf(s.pid), samples: await s.samples(), all: await s.allRecords?.() });
    for (let w = 0; w < o.windows; w++) {
      const before = await Promise.all(sides.map(probe));
      await sleep(o.window_s * 1000);
      const after = await Promise.all(sides.map(probe));
      const perSide: Record<string, number | undefined> = {};
      sides.forEach((s, i) => {
        const cpu = after[i]!.cpu! - before[i]!.cpu!;
        const n = after[i]!.samples - before[i]!.samples;
        perSide[s.name] = perMillion(cpu, n);
        if (perSide[s.name] !== undefined) cpuPerM[s.name]!.push(perSide[s.name]!);
        samplesPerS[s.name]!.push(n / o.window_s);
        const mem = memoryOf(s.pid);
        if (mem) rssMb[s.name]!.push(mem.rss_bytes / 2 ** 20);
        const [allBefore, allAfter] = [before[i]!.all, after[i]!.all];
        if (allBefore !== undefined && allAfter !== undefined) {
          const all = perMillion(cpu, allAfter - allBefore);
          if (all !== undefined) oursPerMillionRecords.push(all);
          oursRecordsPerS.push((allAfter - allBefore) / o.window_s);
        }
      });
      const r = ratio(perSide.fabricscope, perSide.prometheus);
      if (r !== undefined) ratios.push(r);
      progress(S, `window ${w + 1}/${o.windows}: CPU s per million samples — prometheus ${perSide.prometheus?.toFixed(2)}, fabricscope ${perSide.fabricscope?.toFixed(2)}`);
    }
    for (const side of ['prometheus', 'fabricscope']) {
      const what = side === 'prometheus'
        ? 'prometheus: CPU-seconds per million samples appended'
        : 'fabricscope: CPU-seconds per million dcgm + OTLP samples (the CPU also pays for NCCL tailing and the analysis)';
      report.record(`${side}.cpu_s_per_million_samples`, what, 'CPU s', cpuPerM[side]!);
      report.record(`${side}.samples_per_s`, `${side}: samples ingested per second (its own count)`, 'samples/s', samplesPerS[side]!);
      report.record(`${side}.rss_mb`, `${side}: resident memory at the end of each window`, 'MiB', rssMb[side]!);
    }
    report.record(
      'fabricscope.cpu_s_per_million_records',
      'fabricscope: CPU-seconds per million records of every kind ingested (samples plus NCCL per-rank records, which Prometheus does not get)',
      'CPU s',
      oursPerMillionRecords,
    );
    report.record('fabricscope.records_per_s', 'fabricscope: records of every kind ingested per second (its own count)', 'records/s', oursRecordsPerS);
    report.record('prometheus.cpu_ratio', 'fabricscope ÷ Prometheus CPU per million samples, per window (goal < 1)', '×', ratios);

    progress(S, `query latency, ${o.query_reps} times each`);
    const now = () => Date.now();
    const questions: Array<{ key: string; label: string; promql: string; ours: () => Promise<unknown> }> = [
      {
        key: 'top_ports_5m',
        label: 'top 10 ports by queue depth, last 5 min',
        promql: PROMQL.top_ports,
        ours: async () => {
          // The API's port states over the window, ranked by queue depth as a client would.
          const body = await getJson<{ ports: Array<{ name: string; state: { queue_bytes: number } | null }> }>(
            `${api}/api/v1/topology?from=${now() - 300_000}&to=${now()}`,
          );
          return body.ports.filter((p) => p.state).sort((a, b) => b.state!.queue_bytes - a.state!.queue_bytes).slice(0, 10);
        },
      },
      {
        key: 'job_p99_1h',
        label: `p99 collective duration of ${JOB}, last hour`,
        promql: PROMQL.job_p99,
        ours: () => getJson(`${api}/api/v1/series/job/${JOB}?from=${now() - 3_600_000}&to=${now()}&step=3600000`),
      },
    ];
    for (const q of questions) {
      const promMs: number[] = [];
      const oursMs: number[] = [];
      for (let i = 0; i < o.query_reps; i++) {
        promMs.push(await timed(() => getJson(`${promUrl}/api/v1/query?query=${encodeURIComponent(q.promql)}`)));
        oursMs.push(await timed(q.ours));
      }
      report.record(`prometheus.query_ms.${q.key}`, `PromQL: ${q.label}`, 'ms', promMs);
      report.record(`fabricscope.query_ms.${q.key}`, `our API: ${q.label}`, 'ms', oursMs);
    }
    report.details.prometheus = {
      gpus: o.gpus,
      interval_ms: o.interval_ms,
      promql: PROMQL,
      samples_counted: {
        prometheus: 'prometheus_tsdb_head_samples_appended_total (duplicates of an unchanged sample are not appended)',
        fabricscope: 'fabricscope_collector_received_total for source dcgm and otlp',
      },
      note: 'fabricscope also tails the NCCL files and runs its pipeline (episodes, stalls, root causes, alert rules) on what it ingests; Prometheus only stores',
    };
    report.note(S, 'our top-10 is the latest state per port in the window (the API has no max-over-window ranking); PromQL uses max_over_time');
  } catch (e) {
    report.note(S, `failed: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    await prom?.stop();
    await ours?.stop();
    await targets?.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
