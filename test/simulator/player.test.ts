import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ScenarioPlayer, type PlaySummary } from '../../simulator/player.js';
import { loadScenario, parseScenario } from '../../simulator/scenario.js';

const SCENARIO = `
name: player-test
seed: 5
duration_s: 3
start: "2026-01-01T00:00:00Z"
telemetry: { switch_interval_ms: 500, gpu_interval_ms: 1000 }
topology: { nodes: 2, gpus_per_node: 2, leaves: 1, spines: 0 }
jobs: [{ id: job-x, message_bytes: 33554432, compute_ms: 20 }]
faults:
  - { kind: incast_congestion, target: leaf-0/p2, start_s: 1, duration_s: 1, severity: 0.8 }
  - { kind: straggler_gpu, target: node-0/gpu-1, start_s: 0.5, duration_s: 1, severity: 0.5, every_s: 2 }
`;

interface OtlpReceiver {
  url: string;
  bodies: any[];
  server: Server;
}

async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const bodies: any[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      expect(req.method).toBe('POST');
      expect(req.url).toBe('/v1/metrics');
      expect(req.headers['content-type']).toContain('application/json');
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, server };
}

interface Played {
  summary: PlaySummary;
  otlp: any[];
  scrapes: string[];
  nccl: Record<string, string>;
  groundTruth: string;
  topology: string;
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function playOnce(text = SCENARIO): Promise<Played> {
  const dir = await mkdtemp(join(tmpdir(), 'fabricscope-sim-'));
  dirs.push(dir);
  const receiver = await startOtlpReceiver();
  const scrapes: string[] = [];
  let targets: string[] = [];
  const player = new ScenarioPlayer({
    scenario: parseScenario(text, 'player-test.yaml'),
    speed: 'max',
    otlpUrl: receiver.url,
    ncclDir: join(dir, 'nccl'),
    outDir: join(dir, 'out'),
    hooks: {
      // Scrape in lockstep, the way the orchestrator keeps the pipeline in event time.
      async afterInterval(_ms, kind) {
        if (kind === 'gpu') for (const t of targets) scrapes.push(await (await fetch(t)).text());
      },
    },
  });
  targets = (await player.start()).dcgmTargets;
  const summary = await player.run();
  receiver.server.close();
  const nccl: Record<string, string> = {};
  for (const f of (await readdir(join(dir, 'nccl'))).sort()) nccl[f] = await readFile(join(dir, 'nccl', f), 'utf8');
  return {
    summary,
    otlp: receiver.bodies,
    scrapes,
    nccl,
    groundTruth: await readFile(join(dir, 'out', 'ground-truth.json'), 'utf8'),
    topology: await readFile(join(dir, 'out', 'topology.json'), 'utf8'),
  };
}

const first = await playOnce();

describe('scenario player and exporters', () => {
  it('pushes Cumulus-style OTLP metrics per switch with event-time timestamps', () => {
    // 6 switch intervals × 3 switches (leaf-0, nvsw-0, nvsw-1).
    expect(first.otlp).toHaveLength(18);
    const hosts = new Set<string>();
    for (const body of first.otlp) {
      const rm = body.resourceMetrics[0];
      const attrs = Object.fromEntries(rm.resource.attributes.map((a: any) => [a.key, a.value.stringValue]));
      expect(attrs['service.name']).toBe('fabricscope-sim-switch');
      hosts.add(attrs['host.name']);
    }
    expect([...hosts].sort()).toEqual(['leaf-0', 'nvsw-0', 'nvsw-1']);
    const leaf = first.otlp.filter((b) => b.resourceMetrics[0].resource.attributes.some((a: any) => a.value.stringValue === 'leaf-0'));
    const last = leaf.at(-1).resourceMetrics[0].scopeMetrics[0].metrics;
    const byName = Object.fromEntries(last.map((m: any) => [m.name, m]));
    expect(Object.keys(byName).sort()).toEqual(
      [
        'nvswitch_histogram_interface_egress_buffer',
        'nvswitch_interface_dot3_stats_fcs_errors',
        'nvswitch_interface_if_out_octets',
        'nvswitch_interface_oper_state',
        'nvswitch_interface_shared_buffer_port_tc_curr_occupancy',
        'nvswitch_interface_shared_buffer_port_tc_watermark',
        'nvswitch_interface_sp_rx_pause',
        'nvswitch_interface_sp_rx_pause_duration',
        'nvswitch_interface_sp_tx_pause',
        'nvswitch_interface_tc_tx_ecn_marked_tc',
      ].sort(),
    );
    const ecn = byName['nvswitch_interface_tc_tx_ecn_marked_tc'].sum;
    expect(ecn.aggregationTemporality).toBe(2);
    expect(ecn.isMonotonic).toBe(true);
    const p2 = ecn.dataPoints.find((d: any) => d.attributes.some((a: any) => a.key === 'interface' && a.value.stringValue === 'p2'));
    expect(p2.attributes).toEqual([
      { key: 'interface', value: { stringValue: 'p2' } },
      { key: 'tc', value: { stringValue: '3' } },
    ]);
    expect(Number(p2.asInt)).toBeGreaterThan(0);
    // Event time: the last sample is at t = 3 s after 2026-01-01T00:00:00Z.
    expect(p2.timeUnixNano).toBe(String((Date.parse('2026-01-01T00:00:00Z') + 3000) * 1e6));
    expect(p2.startTimeUnixNano).toBe(String(Date.parse('2026-01-01T00:00:00Z') * 1e6));
    // The egress-buffer histogram: delta temporality (Cumulus' default), integer `tc` as in
    // NVIDIA's examples, 1 µs samples, so one interval's buckets add up to its 500,000 µs.
    const egress = byName['nvswitch_histogram_interface_egress_buffer'].histogram;
    expect(egress.aggregationTemporality).toBe(1);
    const h2 = egress.dataPoints.find((d: any) => d.attributes.some((a: any) => a.key === 'interface' && a.value.stringValue === 'p2'));
    expect(h2.attributes).toContainEqual({ key: 'tc', value: { intValue: 3 } });
    expect(h2.explicitBounds.length + 1).toBe(h2.bucketCounts.length);
    expect(h2.bucketCounts.map(Number).reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(500_000, -1);
    expect(h2.startTimeUnixNano).toBe(String((Date.parse('2026-01-01T00:00:00Z') + 2500) * 1e6));
    const octets = byName['nvswitch_interface_if_out_octets'].gauge.dataPoints[0];
    expect(typeof octets.asDouble).toBe('number');
    expect(byName['nvswitch_interface_oper_state'].gauge.dataPoints[0].asInt).toBe(1);
    const nvsw = first.otlp.find((b) => b.resourceMetrics[0].resource.attributes.some((a: any) => a.value.stringValue === 'nvsw-0'));
    expect(nvsw.resourceMetrics[0].scopeMetrics[0].metrics.map((m: any) => m.name)).toContain('fabricscope_scaleup_credit_stall_microseconds_total');
    expect(nvsw.resourceMetrics[0].scopeMetrics[0].metrics.map((m: any) => m.name)).not.toContain('nvswitch_histogram_interface_egress_buffer');
  });

  it('serves dcgm-exporter text per node with event-time sample timestamps', () => {
    expect(first.scrapes).toHaveLength(6); // 3 GPU intervals × 2 nodes
    const text = first.scrapes[2]!; // node-0 at t = 2 s
    const ts = Date.parse('2026-01-01T00:00:00Z') + 2000;
    expect(text).toContain('# HELP DCGM_FI_DEV_SM_CLOCK ');
    expect(text).toContain('# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter');
    const line = /^DCGM_FI_DEV_SM_CLOCK\{gpu="1",UUID="(GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",pci_bus_id="00000000:2A:00.0",device="nvidia1",modelName="NVIDIA H100 80GB HBM3",Hostname="node-0",DCGM_FI_DRIVER_VERSION="[0-9.]+"\} (\d+) (\d+)$/m.exec(text);
    expect(line).not.toBeNull();
    expect(Number(line![3])).toBe(ts);
    for (const field of ['DCGM_FI_DEV_MEM_CLOCK', 'DCGM_FI_DEV_GPU_TEMP', 'DCGM_FI_DEV_POWER_USAGE', 'DCGM_FI_DEV_GPU_UTIL', 'DCGM_FI_DEV_CLOCKS_EVENT_REASONS', 'DCGM_FI_PROF_NVLINK_TX_BYTES', 'DCGM_FI_PROF_NVLINK_RX_BYTES', 'DCGM_FI_DEV_XID_ERRORS']) {
      expect(text).toMatch(new RegExp(`^${field}\\{gpu="0",.*\\} [0-9.]+ ${ts}$`, 'm'));
    }
    expect(text).toMatch(/^DCGM_FI_DEV_POWER_USAGE\{.*\} \d+\.\d{6} \d+$/m);
    // Every sample line is valid exposition: name{labels} value timestamp.
    for (const l of text.trim().split('\n')) expect(l).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+\{[^}]*\} -?[0-9.]+ \d+)$/);
    // node-0/gpu-1 is straggling at t = 1 s (its 1 s sample), with the thermal bits set.
    const atOne = first.scrapes[0]!;
    expect(atOne).toMatch(/^DCGM_FI_DEV_CLOCKS_EVENT_REASONS\{gpu="1",.*\} 96 /m);
    expect(atOne).toMatch(/^DCGM_FI_DEV_CLOCKS_EVENT_REASONS\{gpu="0",.*\} 0 /m);
  });

  it('writes NCCL Inspector v4.0 JSON lines per rank process', () => {
    const files = Object.keys(first.nccl);
    expect(files).toHaveLength(4);
    for (const f of files) expect(f).toMatch(/^node-[01]-pid\d+\.log$/);
    const lines = Object.values(first.nccl).flatMap((t) => t.trim().split('\n'));
    expect(lines.length).toBe(first.summary.records.collective_records);
    const raw = lines[0]!;
    expect(raw).not.toContain('\n');
    expect(raw).toMatch(/"coll_algobw_gbs":\d+\.\d{6},"coll_busbw_gbs":\d+\.\d{6}/);
    const rec = JSON.parse(raw);
    expect(rec.header).toMatchObject({ comm_name: 'job-x', n_ranks: 4, nnodes: 2 });
    expect(rec.header.id).toMatch(/^0x[0-9a-f]+$/);
    expect(rec.metadata).toMatchObject({ inspector_output_format_version: 'v4.0', rec_mechanism: 'nccl_profiler_interface' });
    expect(rec.coll_perf).toMatchObject({ coll: 'AllReduce', coll_msg_size_bytes: 33554432, coll_timing_source: 'kernel_gpu' });
    const ts = rec.coll_perf.event_trace_ts;
    expect(ts.coll_stop_ts - ts.coll_start_ts).toBe(rec.coll_perf.coll_exec_time_us);
    expect(ts.coll_start_ts).toBeGreaterThan(Date.parse('2026-01-01T00:00:00Z') * 1000);
    expect(ts.kernel_events[0]).toHaveProperty('kernel_record_ts');
    expect(rec.coll_perf.event_trace_sn).toHaveProperty('kernel_events');
    expect(rec.metadata.dump_timestamp_us).toBeGreaterThanOrEqual(ts.coll_stop_ts);
  });

  it('writes the ground truth, recurrences included, and the topology', () => {
    const gt = JSON.parse(first.groundTruth);
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    expect(gt).toEqual([
      { id: 'fault-1-0', kind: 'straggler_gpu', target: 'node-0/gpu-1', start_ms: t0 + 500, end_ms: t0 + 1500, severity: 0.5 },
      { id: 'fault-0-0', kind: 'incast_congestion', target: 'leaf-0/p2', start_ms: t0 + 1000, end_ms: t0 + 2000, severity: 0.8 },
      { id: 'fault-1-1', kind: 'straggler_gpu', target: 'node-0/gpu-1', start_ms: t0 + 2500, end_ms: t0 + 3000, severity: 0.5 },
    ]);
    expect(JSON.parse(first.topology)).toEqual({ nodes: 2, gpus_per_node: 2, leaves: 1, spines: 0, link_gbps: 400 });
    expect(first.summary).toMatchObject({ simulated_s: 3, records: { switch_samples: 18, gpu_samples: 12, ground_truth_faults: 3 }, otlp_export_failures: 0 });
  });

  it('replays identically with the same seed', async () => {
    const second = await playOnce();
    // Switches push concurrently, so bodies may arrive in another order under load; compare the set.
    const bodies = (p: Played) => p.otlp.map((b) => JSON.stringify(b)).sort();
    expect(bodies(second)).toEqual(bodies(first));
    expect(second.scrapes).toEqual(first.scrapes);
    expect(second.nccl).toEqual(first.nccl);
    expect(second.groundTruth).toBe(first.groundTruth);
  });

  it('stops cleanly when asked (duration_s 0)', async () => {
    const scenario = parseScenario(SCENARIO.replace('duration_s: 3', 'duration_s: 0'), 'forever.yaml');
    let intervals = 0;
    const player = new ScenarioPlayer({
      scenario,
      speed: 'max',
      hooks: {
        async afterInterval() {
          if (++intervals === 10) player.stop();
        },
      },
    });
    const { dcgmTargets } = await player.start();
    const summary = await player.run();
    expect(summary.records.switch_samples).toBeGreaterThan(0);
    await expect(fetch(dcgmTargets[0]!)).rejects.toThrow();
  });

  it('plays examples/incast-and-straggler.yaml at max speed in a few seconds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fabricscope-sim-'));
    dirs.push(dir);
    const receiver = await startOtlpReceiver();
    const scenario = await loadScenario(resolve(import.meta.dirname, '../../examples/incast-and-straggler.yaml'));
    const player = new ScenarioPlayer({ scenario, speed: 'max', otlpUrl: receiver.url, ncclDir: join(dir, 'nccl'), outDir: join(dir, 'out') });
    await player.start();
    const summary = await player.run();
    receiver.server.close();
    console.log(`incast-and-straggler.yaml at max speed: ${summary.wall_s.toFixed(2)} s wall for ${summary.simulated_s} s simulated`, summary.records);
    expect(summary.simulated_s).toBe(36);
    expect(summary.otlp_export_failures).toBe(0);
    expect(receiver.bodies.length).toBe(360 * 8);
  });
});
