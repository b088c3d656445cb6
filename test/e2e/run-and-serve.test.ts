/**
 * End to end, through the real edges: the emulator pushes OTLP over HTTP, serves dcgm-exporter
 * text that is scraped, writes NCCL Inspector JSON lines that are tailed; the pipeline finds
 * the stalls; chDB stores them; `serve` answers them over HTTP. The scenario injects one
 * incast and one straggler, and the API must name exactly those two, and nothing else.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Topology, type TopologySpec } from '../../core/topology.js';
import type { GroundTruthFault } from '../../core/records.js';
import { MATCH_GRACE_MS } from '../../cli/eval-score.js';
import { REPO_ROOT, runCli, startCli, tempDir, type Service } from '../harness/cli-process.js';

const SCENARIO = join(REPO_ROOT, 'examples', 'incast-and-straggler.yaml');

interface ApiStall {
  id: string;
  job: string;
  collective: string;
  seq: number;
  start: string;
  end: string;
  duration_us: number;
  expected_us: number;
  slowest_rank: number;
  root_cause: { kind: string; location: string; confidence: number; evidence: unknown[] };
}

describe('fabricscope run, then serve', () => {
  const data = tempDir('e2e');
  let summary: Record<string, any>;
  let truth: GroundTruthFault[];
  let topology: Topology;

  beforeAll(async () => {
    const run = await runCli(['run', '--scenario', SCENARIO, '--speed', 'max', '--data', data, '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--log-level', 'warn']);
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    summary = JSON.parse(run.stdout);
    truth = JSON.parse(readFileSync(join(data, 'ground-truth.json'), 'utf8'));
    topology = new Topology(JSON.parse(readFileSync(join(data, 'topology.json'), 'utf8')) as TopologySpec);
  }, 300_000); // a whole scenario at full speed: ~30 s idle, over 2 min on a loaded machine

  it('counts the records of every kind it ingested', () => {
    for (const kind of ['port_samples', 'gpu_samples', 'collective_events', 'stalls']) {
      expect(summary.records[kind], kind).toBeGreaterThan(0);
    }
    expect(summary.stalls).toBeGreaterThan(0);
  });

  describe('served over HTTP', () => {
    let api: Service;
    let stalls: ApiStall[];

    beforeAll(async () => {
      api = await startCli(['serve', '--data', data, '--port', '0', '--log-level', 'info'], ['api listening']);
      const res = await fetch(`${api.urls['api listening']}/api/v1/stalls?limit=1000`);
      expect(res.status).toBe(200);
      stalls = ((await res.json()) as { stalls: ApiStall[] }).stalls;
      return async () => {
        await api.stop();
      };
    });

    it('answers the same stalls the run counted', () => {
      expect(stalls.length).toBe(summary.stalls);
    });

    it('names exactly the injected faults, kind and location, and no others', () => {
      const named = new Set(stalls.map((s) => `${s.root_cause.kind}@${s.root_cause.location}`));
      const expected = truth.map((f) => `${f.kind}@${f.target}`);
      for (const e of expected) {
        const [kind, target] = e.split('@') as [string, string];
        const hit = stalls.some((s) => s.root_cause.kind === kind && topology.sameLocation(s.root_cause.location, target));
        expect(hit, `no stall blamed on ${e}; named: ${[...named].join(', ')}`).toBe(true);
      }
      // `unknown` is the honest verdict for a slow call no fault explains (the fabric's background
      // traffic slows a few calls between the faults); it must stay rare and never fall inside a fault.
      const unknown = stalls.filter((s) => s.root_cause.kind === 'unknown');
      expect(unknown.length, 'unknown verdicts').toBeLessThanOrEqual(0.1 * stalls.length);
      for (const s of unknown) {
        const during = truth.find((f) => Date.parse(s.start) < f.end_ms && Date.parse(s.end) > f.start_ms);
        expect(during, `stall ${s.id} falls inside ${during?.kind}@${during?.target} but is blamed on nothing`).toBeUndefined();
      }
      for (const s of stalls.filter((x) => x.root_cause.kind !== 'unknown')) {
        const fits = truth.some((f) => f.kind === s.root_cause.kind && topology.sameLocation(s.root_cause.location, f.target));
        expect(fits, `stall ${s.id} blamed on ${s.root_cause.kind}@${s.root_cause.location}, which was not injected`).toBe(true);
      }
    });

    it('places every stall inside the fault it blames', () => {
      for (const s of stalls.filter((x) => x.root_cause.kind !== 'unknown')) {
        const fault = truth.find((f) => f.kind === s.root_cause.kind && topology.sameLocation(s.root_cause.location, f.target))!;
        const start = Date.parse(s.start);
        // A call that began just before the fault may stall on it, and so may one that began just
        // after: a straggler's last slowed compute phase ends after the fault does. The grace is
        // the one `fabricscope eval` scores with.
        expect(start, s.id).toBeLessThanOrEqual(fault.end_ms + MATCH_GRACE_MS);
        expect(Date.parse(s.end), s.id).toBeGreaterThanOrEqual(fault.start_ms);
      }
    });

    it('follows the stalls contract', () => {
      const s = stalls[0]!;
      expect(s.start).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
      expect(s.duration_us).toBeGreaterThan(s.expected_us);
      expect(s.root_cause.confidence).toBeGreaterThan(0);
      expect(s.root_cause.confidence).toBeLessThanOrEqual(1);
      expect(s.root_cause.evidence.length).toBeGreaterThan(0);
    });

    it('filters by kind and by time in epoch milliseconds', async () => {
      const straggler = truth.find((f) => f.kind === 'straggler_gpu')!;
      const url = `${api.urls['api listening']}/api/v1/stalls?kind=straggler_gpu&from=${straggler.start_ms - 5000}&to=${straggler.end_ms + 5000}`;
      const body = (await (await fetch(url)).json()) as { stalls: ApiStall[] };
      expect(body.stalls.length).toBeGreaterThan(0);
      expect(body.stalls.every((s) => s.root_cause.kind === 'straggler_gpu')).toBe(true);
    });
  });
});
