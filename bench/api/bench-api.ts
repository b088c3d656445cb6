/**
 * `npm run bench:api [-- --quick] [-- --clients N] [-- --seconds S]`: query latency of the API
 * over a day of a 1,024-GPU cluster. A child process (api-server-child.ts) loads 24 simulated
 * hours (synthetic-cluster.ts) into embedded chDB and serves them with the real API server on
 * loopback; this process then drives concurrent closed-loop load on four endpoints in turn —
 * the stall list, one stall, the top root causes and a port series — each request varying
 * its job, window, port or id, so no answer is served from one hot spot.
 *
 * Each endpoint is measured twice over the same data: without the store's result cache
 * (`result_cache_items` 0), then with it (the default), whose hit ratio is printed beside it.
 *
 * Prints one line per endpoint and mode (p50/p95/p99, req/s, errors) and, as the LAST line, one
 * JSON object `{"<endpoint>": {"p50_ms", "p95_ms", "rps", "cache_hit_ratio"}, …,
 * "<endpoint>_uncached": {"p50_ms", "p95_ms", "rps"}, …}`. The goal is p95 < 100 ms each.
 * Figures are noisy on a shared machine; the load average is printed beside them.
 */
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { LongRunning, benchDir } from '../harness/child.js';
import { progress } from '../harness/progress.js';
import { closedLoopLoad, type LoadFigures, type LoadOptions } from './closed-loop-load.js';
import { JOB_NAMES, T0_MS, portNames, type ClusterPlan } from './synthetic-cluster.js';

interface Mode {
  plan: ClusterPlan;
  load: LoadOptions;
}

/** --quick: two hours of data and a few seconds per endpoint (for `npm run bench -- --quick`). */
export const MODES: Record<'full' | 'quick', Mode> = {
  full: {
    plan: { hours: 24, port_interval_s: 10, gpu_interval_s: 10, collective_interval_s: 30, stalls: 3000 },
    load: { clients: 12, seconds: 15, warmup_s: 2 },
  },
  quick: {
    plan: { hours: 2, port_interval_s: 10, gpu_interval_s: 30, collective_interval_s: 60, stalls: 500 },
    load: { clients: 8, seconds: 4, warmup_s: 1 },
  },
};

export const ENDPOINTS = ['stalls', 'stall', 'root_causes', 'port_series'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];
export type ApiBenchResult = Record<string, { p50_ms: number; p95_ms: number; rps: number; cache_hit_ratio?: number }>;

interface CacheStats {
  hits: number;
  misses: number;
  items: number;
  heap_mb: number;
}

function parseArgs(argv: string[]): Mode {
  let mode = MODES.full;
  const overrides: Partial<LoadOptions> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v) || v <= 0) throw new Error(`${arg} needs a positive whole number`);
      return v;
    };
    if (arg === '--quick') mode = MODES.quick;
    else if (arg === '--clients') overrides.clients = value();
    else if (arg === '--seconds') overrides.seconds = value();
    else throw new Error(`unknown argument "${arg}" (use --quick, --clients N, --seconds S)`);
  }
  return { plan: mode.plan, load: { ...mode.load, ...overrides } };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Each endpoint's i-th request, varied deterministically over jobs, windows, ports and ids. */
export function requestMakers(base: string, plan: ClusterPlan, stallIds: string[]): Record<Endpoint, (i: number) => string> {
  const span = plan.hours * 3_600_000;
  const ports = portNames();
  // A window of `width` ms somewhere in the loaded day, on a whole minute.
  const windowAt = (i: number, width: number) => {
    const w = Math.min(width, span);
    const from = T0_MS + Math.floor((((i * 7919) % 1000) / 1000) * (span - w) / 60_000) * 60_000;
    return { from, to: from + w };
  };
  return {
    // The stall page a dashboard opens: newest first, alone, by job, or in a window.
    stalls: (i) => {
      const variant = i % 3;
      if (variant === 0) return `${base}/api/v1/stalls?limit=50`;
      if (variant === 1) return `${base}/api/v1/stalls?limit=50&job=${JOB_NAMES[i % JOB_NAMES.length]}`;
      const { from, to } = windowAt(i, 6 * 3_600_000);
      return `${base}/api/v1/stalls?limit=50&from=${iso(from)}&to=${iso(to)}`;
    },
    stall: (i) => `${base}/api/v1/stalls/${encodeURIComponent(stallIds[(i * 7919) % stallIds.length]!)}`,
    // The day's culprits, or one job's over a few hours.
    root_causes: (i) => {
      if (i % 2 === 0) return `${base}/api/v1/root-causes?from=${iso(T0_MS)}&to=${iso(T0_MS + span)}`;
      const { from, to } = windowAt(i, 4 * 3_600_000);
      return `${base}/api/v1/root-causes?from=${iso(from)}&to=${iso(to)}&job=${JOB_NAMES[i % JOB_NAMES.length]}`;
    },
    // A chart of one port: the last hour at 10 s, six hours at 1 min, or the day at 5 min.
    port_series: (i) => {
      const port = encodeURIComponent(ports[(i * 7919) % ports.length]!);
      const [width, step] = ([[3_600_000, 10_000], [6 * 3_600_000, 60_000], [24 * 3_600_000, 300_000]] as const)[i % 3]!;
      const { from, to } = windowAt(i, width);
      return `${base}/api/v1/series/port/${port}?from=${iso(from)}&to=${iso(to)}&step=${step}`;
    },
  };
}

/** Up to `max` stall ids, read through the API's own pagination. */
export async function stallIdsOf(base: string, max: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const url: string = `${base}/api/v1/stalls?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url} → ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const page = (await res.json()) as { stalls: Array<{ id: string }>; next_cursor: string | null };
    ids.push(...page.stalls.map((s) => s.id));
    cursor = page.next_cursor;
  } while (cursor && ids.length < max);
  if (ids.length === 0) throw new Error('the API lists no stalls: the load did not store any');
  return ids.slice(0, max);
}

/** Runs the whole benchmark; returns the figures (also printed). Exported for bench/run-bench.ts. */
export async function runApiBench(mode: Mode): Promise<ApiBenchResult> {
  const { plan, load } = mode;
  const data = benchDir('api');
  const child = LongRunning.start('api-server', process.execPath, [resolve(import.meta.dirname, 'api-server-child.js'), data, JSON.stringify(plan)]);
  try {
    progress('api', `loading ${plan.hours} simulated hours of a 1,024-GPU cluster into chDB`);
    // The child's per-hour progress, passed on (a day takes minutes on a busy machine).
    void (async () => {
      for (let hour = 1; hour <= plan.hours; hour++) {
        progress('api', (await child.waitForLine((l) => l.text.startsWith(`loaded hour ${hour}/`), 60 * 60_000)).text);
      }
    })().catch(() => {});
    const readyLine = await child.waitForLine((l) => l.text.startsWith('{"ready"'), 60 * 60_000);
    const ready = (
      JSON.parse(readyLine.text) as {
        ready: { url: string; uncached_url: string; load_s: number; rows_per_s: number; merge_wait_s: number; parts: Record<string, number>; counts: Record<string, number> };
      }
    ).ready;
    progress('api', `loaded in ${ready.load_s} s (${ready.rows_per_s} rows/s): ${JSON.stringify(ready.counts)}`);
    progress('api', `background merges settled after ${ready.merge_wait_s} s; active parts ${JSON.stringify(ready.parts)}`);
    const stallIds = await stallIdsOf(ready.uncached_url, 5000);
    const makers = requestMakers(ready.url, plan, stallIds);
    const uncachedMakers = requestMakers(ready.uncached_url, plan, stallIds);
    let statsAsked = 0;
    const cacheStats = async (): Promise<CacheStats> => {
      // Each answer is told apart by the lines before it: wait for the n-th.
      const n = ++statsAsked;
      child.send('stats');
      const deadline = Date.now() + 60_000;
      for (;;) {
        const lines = child.linesMatching((l) => l.text.startsWith('{"cache"'));
        if (lines.length >= n) return (JSON.parse(lines[n - 1]!.text) as { cache: CacheStats }).cache;
        if (Date.now() > deadline) throw new Error('the server child did not answer "stats"');
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const figures = {} as Record<Endpoint, LoadFigures>;
    const uncached = {} as Record<Endpoint, LoadFigures>;
    const hitRatio = {} as Record<Endpoint, number>;
    const heldAfter = {} as Record<Endpoint, CacheStats>;
    for (const endpoint of ENDPOINTS) {
      progress('api', `${endpoint}: ${load.clients} clients for ${load.seconds} s, result cache off`);
      uncached[endpoint] = await closedLoopLoad(uncachedMakers[endpoint], {}, load);
      progress('api', `${endpoint}: ${load.clients} clients for ${load.seconds} s, result cache on`);
      const before = await cacheStats();
      figures[endpoint] = await closedLoopLoad(makers[endpoint], {}, load);
      const after = await cacheStats();
      heldAfter[endpoint] = after;
      const hits = after.hits - before.hits;
      const lookups = hits + after.misses - before.misses;
      hitRatio[endpoint] = lookups > 0 ? Math.round((hits / lookups) * 1000) / 1000 : 0;
    }
    process.stdout.write(
      `API latency, ${plan.hours} h of 1,024 GPUs (${Object.entries(ready.counts).map(([t, n]) => `${t} ${n}`).join(', ')}); ` +
        `${load.clients} clients × ${load.seconds} s per endpoint; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`,
    );
    const line = (label: string, f: LoadFigures, note: string) =>
      process.stdout.write(
        `  ${label.padEnd(12)} p50 ${String(f.p50_ms).padStart(7)} ms  p95 ${String(f.p95_ms).padStart(7)} ms  p99 ${String(f.p99_ms).padStart(7)} ms  ` +
          `${String(f.rps).padStart(7)} req/s  ${f.requests} requests, ${f.errors} errors${f.first_error ? ` (first: ${f.first_error})` : ''}${note}\n`,
      );
    process.stdout.write('  result cache on (the default):\n');
    for (const endpoint of ENDPOINTS) line(endpoint, figures[endpoint], `; cache hit ratio ${hitRatio[endpoint]}, holds ${heldAfter[endpoint].items} items, heap ${heldAfter[endpoint].heap_mb} MB`);
    process.stdout.write('  result cache off (result_cache_items 0):\n');
    for (const endpoint of ENDPOINTS) line(endpoint, uncached[endpoint], '');
    const result: ApiBenchResult = {};
    for (const e of ENDPOINTS) {
      result[e] = { p50_ms: figures[e].p50_ms, p95_ms: figures[e].p95_ms, rps: figures[e].rps, cache_hit_ratio: hitRatio[e] };
    }
    for (const e of ENDPOINTS) result[`${e}_uncached`] = { p50_ms: uncached[e].p50_ms, p95_ms: uncached[e].p95_ms, rps: uncached[e].rps };
    return result;
  } finally {
    await child.stop();
    rmSync(data, { recursive: true, force: true });
  }
}

// Run as a program (not when bench/run-bench.ts imports it).
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  runApiBench(parseArgs(process.argv.slice(2)))
    .then((result) => process.stdout.write(JSON.stringify(result) + '\n'))
    .catch((e: unknown) => {
      process.stderr.write(`bench:api: ${(e as Error).message}\n`);
      process.exit(1);
    });
}
