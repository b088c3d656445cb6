/**
 * `npm run bench:kafka`: end-to-end records per second from publish to stored, through Kafka
 * (librdkafka's mock cluster, three brokers, started through `kcat`) with 1 and 3 pipeline
 * processes (sink-worker.ts: the exactly-once sink into embedded chDB), next to the embedded
 * in-process bus measured in the same run on the same records.
 *
 * Records are port samples (the bulk of the telemetry: 64 ports × every 100 ms per switch),
 * keyed by switch over `SWITCHES` switches, published in exports of one switch's ports.
 * Besides records/s it prints records per CPU-second of the pipeline processes: the per-core
 * rate docs/deployment.md sizes clusters with. The last line printed is one JSON object.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { BackpressureError } from '../../core/errors.js';
import { createLogger } from '../../core/log.js';
import type { PortSample } from '../../core/records.js';
import { KafkaBus } from '../../pipeline/kafka/kafka-bus.js';
import { MemoryBus } from '../../pipeline/memory-bus.js';
import { Sink } from '../../pipeline/sink.js';
import { createStore } from '../../storage/create-store.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 60_000);
const SWITCHES = 16;
const PORTS = 64;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const logger = createLogger('error');
/** Publishes the producer refused (back-pressure) and the bench retried. */
let refusals = 0;
const tmp = (label: string) => mkdtempSync(join(tmpdir(), `fabricscope-bench-kafka-${label}-`));

function* exports(): Generator<PortSample[]> {
  let made = 0;
  for (let tick = 0; made < RECORDS; tick++) {
    for (let s = 0; s < SWITCHES && made < RECORDS; s++) {
      const device = `leaf-${s}`;
      const n = Math.min(PORTS, RECORDS - made);
      made += n;
      yield Array.from({ length: n }, (_, p) => ({
        ts_ms: T0 + tick * 100, port: `${device}/p${p}`, device, interval_ms: 100,
        queue_bytes: (tick * 31 + p) % 50_000, tx_bytes: 5_000_000, ecn_marked_pkts: 0,
        pfc_tx_pause_frames: 0, pfc_rx_pause_frames: 0, pfc_rx_pause_us: 0, credit_stall_us: 0, link_errors: 0, oper_up: true,
      }));
    }
  }
}

interface Figure { records_per_s: number; wall_s: number; pipeline_cpu_s?: number; records_per_cpu_s?: number }

async function embedded(): Promise<Figure> {
  const store = createStore({ data: tmp('embedded') });
  await store.migrate();
  const bus = new MemoryBus({ capacity: 1_000_000, logger });
  const sink = new Sink(bus, store, logger);
  sink.start();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const batch of exports()) await bus.publish('port_samples', batch);
  await bus.drain();
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await sink.stop();
  await bus.close();
  await store.close();
  const cpuS = (cpu.user + cpu.system) / 1e6;
  return { records_per_s: Math.round(RECORDS / wall), wall_s: round(wall), pipeline_cpu_s: round(cpuS), records_per_cpu_s: Math.round(RECORDS / cpuS) };
}

async function viaKafka(brokers: string[], processes: number): Promise<Figure> {
  const prefix = `bench${processes}.${Date.now()}.`;
  const script = resolve(import.meta.dirname, 'sink-worker.js');
  const workers: Array<{ child: ChildProcess; stored: number; cpuMs: number; ready: boolean }> = [];
  for (let i = 0; i < processes; i++) {
    const child = spawn(process.execPath, [script, brokers.join(','), prefix, tmp(`sink${i}`)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const w = { child, stored: 0, cpuMs: 0, ready: false };
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const r = JSON.parse(line) as { stored: number; cpu_ms: number };
        Object.assign(w, { stored: r.stored, cpuMs: r.cpu_ms, ready: true });
      } catch { /* not a report */ }
    });
    workers.push(w);
  }
  const producer = new KafkaBus({ brokers, topicPrefix: prefix, logger });
  await producer.start();
  // Topics exist (auto-created) before the workers' groups settle on their partitions.
  await producer.publish('port_samples', []);
  await until(() => workers.every((w) => w.ready), 120_000);
  await new Promise((r) => setTimeout(r, 8_000)); // group joins and the rebalance they cause
  const cpuBefore = workers.reduce((a, w) => a + w.cpuMs, 0);
  const t0 = performance.now();
  // Collectors publish concurrently (one request per switch export); keep 16 in flight.
  const inFlight = new Set<Promise<void>>();
  for (const batch of exports()) {
    const p: Promise<void> = publishRetrying(producer, batch).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= SWITCHES) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await until(() => workers.reduce((a, w) => a + w.stored, 0) >= RECORDS, 600_000);
  const wall = (performance.now() - t0) / 1000;
  const cpuS = (workers.reduce((a, w) => a + w.cpuMs, 0) - cpuBefore) / 1000;
  await producer.close();
  await Promise.all(workers.map((w) => new Promise((r) => { w.child.once('close', r); w.child.kill('SIGTERM'); })));
  return { records_per_s: Math.round(RECORDS / wall), wall_s: round(wall), pipeline_cpu_s: round(cpuS), records_per_cpu_s: Math.round(RECORDS / cpuS) };
}

/** As a collector's client does: a refusal (the brokers slow to answer) is retried after its Retry-After. */
async function publishRetrying(bus: KafkaBus, batch: PortSample[]): Promise<void> {
  for (;;) {
    try {
      return await bus.publish('port_samples', batch);
    } catch (e) {
      if (!(e instanceof BackpressureError)) throw e;
      refusals++;
      await new Promise((r) => setTimeout(r, e.retryAfterS * 1000));
    }
  }
}

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('bench:kafka timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function startMockKafka(): Promise<{ brokers: string[]; stop(): void }> {
  return new Promise((ok, fail) => {
    const child = spawn('kcat', ['-b', 'localhost:9092', '-X', 'test.mock.num.brokers=3', '-C', '-t', '__bench_spare', '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.on('error', fail);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /replaced with (\S+)/.exec(err);
      if (m) ok({ brokers: m[1]!.split(','), stop: () => child.kill('SIGTERM') });
    });
  });
}

const round = (x: number) => Math.round(x * 100) / 100;

const kafka = await startMockKafka();
try {
  const measure = async (label: string, run: () => Promise<Figure>): Promise<Figure> => {
    const figure = await run();
    console.log(`${label.padEnd(18)} ${String(figure.records_per_s).padStart(8)} records/s  (${figure.records_per_cpu_s} per pipeline CPU-second)`);
    return figure;
  };
  const result = {
    records: RECORDS,
    embedded: await measure('embedded', embedded),
    kafka_1_process: await measure('kafka, 1 process', () => viaKafka(kafka.brokers, 1)),
    kafka_3_processes: await measure('kafka, 3 processes', () => viaKafka(kafka.brokers, 3)),
    producer_refusals_retried: refusals,
  };
  console.log(JSON.stringify(result));
} finally {
  kafka.stop();
}
