import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { SimulationEngine } from '../../simulator/engine.js';
import { buildSwitchResourceMetrics, dataPointCount } from '../../simulator/exporters/otlp-switch-payload.js';
import { TelemetryExportThread } from '../../simulator/exporters/telemetry-export-thread.js';
import { NcclInspectorWriter } from '../../simulator/exporters/nccl-inspector-writer.js';
import { collectiveRecordsOf, type CompletedCollectives } from '../../simulator/collective-samples.js';
import { parseScenario } from '../../simulator/scenario.js';
import { switchSnapshotsOf, type SwitchCounterRound } from '../../simulator/switch-samples.js';

const SCENARIO = `
name: export-thread
seed: 3
start: "2026-01-01T00:00:00Z"
topology: { nodes: 4, gpus_per_node: 2, leaves: 2, spines: 2 }
jobs: [{ id: j, message_bytes: 16777216, compute_ms: 5 }]
faults: [{ kind: incast_congestion, target: leaf-0/p1, start_s: 0.05, duration_s: 0.1, severity: 0.6 }]
`;

interface Receiver {
  url: string;
  bodies: any[];
  /** Most pushes received and not yet answered at any moment. */
  maxUnanswered: number;
  server: Server;
}

/** A receiver that answers `status` after `delayMs` and keeps each push's JSON body. */
async function receiver(status: number, delayMs = 0): Promise<Receiver> {
  let unanswered = 0;
  const rx: Receiver = { url: '', bodies: [], maxUnanswered: 0, server: undefined as unknown as Server };
  rx.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      rx.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      rx.maxUnanswered = Math.max(rx.maxUnanswered, ++unanswered);
      setTimeout(() => {
        unanswered--;
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end('{}');
      }, delayMs);
    });
  });
  await new Promise<void>((r) => rx.server.listen(0, '127.0.0.1', () => r()));
  rx.url = `http://127.0.0.1:${(rx.server.address() as AddressInfo).port}`;
  return rx;
}

const copy = (r: SwitchCounterRound): SwitchCounterRound => ({ ...r, counters: r.counters.slice(), histograms: r.histograms.slice() });
const open: { thread?: TelemetryExportThread; server?: Server; dir?: string }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.thread?.close();
    o.server?.close();
    if (o.dir) await rm(o.dir, { recursive: true, force: true });
  }
});

describe('telemetry export thread', () => {
  it('builds every round as the simulation thread would, and hands the arrays back for reuse', async () => {
    const engine = new SimulationEngine(parseScenario(SCENARIO, 'export-thread.yaml'));
    const thread = new TelemetryExportThread({ switches: { layout: engine.switchLayout, resetMs: engine.startMs } });
    open.push({ thread });
    expect(thread.spareArrays()).toBeUndefined();
    for (let t = 50_000; t <= 200_000; t += 50_000) {
      engine.advanceTo(t);
      const round = engine.switchCounters(thread.spareArrays());
      const expected = switchSnapshotsOf(engine.switchLayout, copy(round)).reduce((n, s) => n + dataPointCount(buildSwitchResourceMetrics(s, engine.startMs)), 0);
      const result = await thread.submitSwitches(round);
      // The arrays moved to the thread and came back.
      expect(round.counters.length).toBe(0);
      expect(result).toEqual({ items: expected, failures: 0 });
      expect(thread.spareArrays()?.counters.length).toBe(engine.switchLayout.ports * 16);
    }
  });

  it('pushes each switch its own payload, one round at a time in event-time order, identical to an in-thread build', async () => {
    const engine = new SimulationEngine(parseScenario(SCENARIO, 'export-thread.yaml'));
    // A slow receiver: a round pushed before the last one was answered would overlap it.
    const rx = await receiver(200, 30);
    const thread = new TelemetryExportThread({ switches: { layout: engine.switchLayout, resetMs: engine.startMs, url: rx.url } });
    open.push({ thread, server: rx.server });
    const pending: Promise<unknown>[] = [];
    const expectedOctets = new Map<string, number[]>();
    for (let t = 25_000; t <= 150_000; t += 25_000) {
      engine.advanceTo(t);
      const round = engine.switchCounters();
      for (const s of switchSnapshotsOf(engine.switchLayout, copy(round))) {
        expectedOctets.set(s.device, [...(expectedOctets.get(s.device) ?? []), ...s.ports.map((p) => p.tx_bytes)]);
      }
      // No waiting between rounds: the thread must still push them in order.
      pending.push(thread.submitSwitches(round));
    }
    const results = (await Promise.all(pending)) as { failures: number }[];
    expect(results.every((r) => r.failures === 0)).toBe(true);
    const switches = engine.switchLayout.switches.length;
    expect(rx.bodies).toHaveLength(6 * switches);
    expect(rx.maxUnanswered).toBeLessThanOrEqual(switches);
    const seen = new Map<string, { times: number[]; octets: number[] }>();
    for (const body of rx.bodies) {
      const rm = body.resourceMetrics[0];
      const host = rm.resource.attributes.find((a: any) => a.key === 'host.name').value.stringValue as string;
      const octets = rm.scopeMetrics[0].metrics.find((m: any) => m.name === 'nvswitch_interface_if_out_octets').gauge.dataPoints;
      const entry = seen.get(host) ?? { times: [], octets: [] };
      entry.times.push(Number(octets[0].timeUnixNano));
      entry.octets.push(...octets.map((d: any) => d.asDouble));
      seen.set(host, entry);
    }
    expect([...seen.keys()].sort()).toEqual(engine.switchLayout.switches.map((s) => s.device).sort());
    for (const [host, { times, octets }] of seen) {
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(new Set(times).size).toBe(6);
      expect(octets).toEqual(expectedOctets.get(host));
    }
  });

  it('counts the pushes a receiver refuses as failures and goes on with the next round', async () => {
    const engine = new SimulationEngine(parseScenario(SCENARIO, 'export-thread.yaml'));
    const rx = await receiver(400);
    const thread = new TelemetryExportThread({ switches: { layout: engine.switchLayout, resetMs: engine.startMs, url: rx.url } });
    open.push({ thread, server: rx.server });
    const switches = engine.switchLayout.switches.length;
    for (const t of [50_000, 100_000]) {
      engine.advanceTo(t);
      const result = await thread.submitSwitches(engine.switchCounters(thread.spareArrays()));
      expect(result.failures).toBe(switches);
      expect(result.error).toMatch(/400|Bad Request/i);
    }
    await thread.close();
    await expect(thread.submitSwitches(engine.switchCounters())).rejects.toThrow(/closed/);
  });

  it('writes the NCCL Inspector lines of each drain, as the in-thread writer would, before it answers', async () => {
    const engine = new SimulationEngine(parseScenario(SCENARIO, 'export-thread.yaml'));
    const threadDir = await mkdtemp(join(tmpdir(), 'fabricscope-export-'));
    const localDir = await mkdtemp(join(tmpdir(), 'fabricscope-export-'));
    const thread = new TelemetryExportThread({ collectives: { jobs: engine.collectiveLayouts, seed: 3, dir: threadDir } });
    open.push({ thread, dir: threadDir }, { dir: localDir });
    const local = new NcclInspectorWriter(localDir, 3);
    let total = 0;
    for (let t = 100_000; t <= 300_000; t += 100_000) {
      engine.advanceTo(t);
      const done = engine.drainCompleted();
      const copy: CompletedCollectives = { ...done, data: done.data.slice() };
      const records = collectiveRecordsOf(engine.collectiveLayouts, copy);
      local.add(records, engine.epochUs(t));
      await local.flush();
      const result = await thread.submitCollectives(done, engine.epochUs(t));
      expect(result).toEqual({ items: records.length, failures: 0 });
      total += records.length;
      // Answered only once written: the files already match.
      const files = (await readdir(localDir)).sort();
      expect((await readdir(threadDir)).sort()).toEqual(files);
      for (const f of files) expect(await readFile(join(threadDir, f), 'utf8')).toBe(await readFile(join(localDir, f), 'utf8'));
    }
    expect(total).toBeGreaterThan(0);
  });

  it('keeps the process alive while work is handed over, and not once idle', async () => {
    // A process whose only pending work is a round on the thread prints its result and exits;
    // one that never closes its idle thread exits too.
    const script = `
      const { SimulationEngine } = await import(${JSON.stringify(new URL('../../dist/simulator/engine.js', import.meta.url).href)});
      const { parseScenario } = await import(${JSON.stringify(new URL('../../dist/simulator/scenario.js', import.meta.url).href)});
      const { TelemetryExportThread } = await import(${JSON.stringify(new URL('../../dist/simulator/exporters/telemetry-export-thread.js', import.meta.url).href)});
      const engine = new SimulationEngine(parseScenario(${JSON.stringify(SCENARIO)}, 'x.yaml'));
      const thread = new TelemetryExportThread({ switches: { layout: engine.switchLayout, resetMs: engine.startMs } });
      engine.advanceTo(50000);
      thread.submitSwitches(engine.switchCounters()).then((r) => console.log('points', r.items));
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect(out).toMatch(/^points [1-9]\d*\n$/);
    expect(code).toBe(0);
  });
});
