/**
 * The whole pipeline through the real MemoryBus, on synthetic but realistic streams: switch
 * samples every 100 ms on every port, DCGM every second per GPU, NCCL records per rank per call.
 * Faults: incast on a leaf downlink the job's ring enters, then a throttled GPU, benign congestion
 * on another tenant's port throughout, and a slow stretch with no telemetry signal.
 */
import { describe, expect, it } from 'vitest';
import type { PortSample, Stall } from '../../core/records.js';
import { MemoryBus } from '../../pipeline/memory-bus.js';
import { createPipeline } from '../../pipeline/pipeline.js';
import { MemoryStore, T0, arrivals, prng, silentLogger, smallTopology, synthesize, type Delivery, type ScenarioFaults } from './fixtures.js';

const FAULTS: ScenarioFaults = {
  incast: { port: 'leaf-1/p1', from_ms: T0 + 4000, to_ms: T0 + 5000 },
  straggler: { node: 2, gpu: 1, late_us: 14_000, from_ms: T0 + 7000, to_ms: T0 + 8000 },
  benign: { port: 'leaf-1/p6', from_ms: T0 + 1000, to_ms: T0 + 11_000 },
  mystery: { from_ms: T0 + 9500, to_ms: T0 + 9800 },
};
const DURATION_MS = 12_000;

async function play(deliveries: Delivery[], batch = 64) {
  const bus = new MemoryBus({ logger: silentLogger });
  const store = new MemoryStore();
  const pipeline = createPipeline({ bus, store, topology: smallTopology(), logger: silentLogger });
  // Publish runs of same-topic arrivals as batches, in arrival order, as collectors would.
  let i = 0;
  while (i < deliveries.length) {
    const topic = deliveries[i]!.topic;
    const run: unknown[] = [];
    while (i < deliveries.length && deliveries[i]!.topic === topic && run.length < batch) run.push(deliveries[i++]!.record);
    await bus.publish(topic, run as never[]);
  }
  await bus.drain();
  const publishedBeforeFlush = pipeline.stats().published.stalls;
  await pipeline.flush();
  const stats = pipeline.stats();
  await pipeline.stop();
  const stalls = [...store.rows.stalls].sort((a, b) => a.seq - b.seq);
  return { stalls, store, stats, publishedBeforeFlush };
}

const verdict = (s: Stall) => `${s.id} ${s.duration_us} ${s.root_cause.kind}@${s.root_cause.location} ${s.root_cause.confidence}`;

describe('pipeline (integration, MemoryBus)', () => {
  const streams = synthesize(DURATION_MS, FAULTS);
  const realistic = arrivals(streams, {
    port: () => 5, // switches push every 100 ms, right away
    gpu: (gpu) => 200 + (gpu.charCodeAt(5) % 3) * 50, // scrape + exporter latency
    nccl: (host, endMs) => Math.ceil(endMs / 1000) * 1000 - endMs + 100 + Number(host.slice(5)) * 150, // files tailed ~1/s
  });

  it('finds the incast and the straggler, blames nothing on the benign port, and stores everything', async () => {
    const { stalls, store, stats, publishedBeforeFlush } = await play(realistic);
    expect(stalls.length).toBeGreaterThan(0);
    // The watermarks released them as the stream went, not the end-of-stream flush.
    expect(publishedBeforeFlush).toBe(stalls.length);
    const inWindow = (s: Stall, w: { from_ms: number; to_ms: number }) => s.start_ms >= w.from_ms && s.start_ms < w.to_ms;

    const incast = stalls.filter((s) => inWindow(s, FAULTS.incast!));
    expect(incast.length).toBe(20); // every call of the 1 s window (one per 50 ms)
    for (const s of incast) {
      expect(s.root_cause).toMatchObject({ kind: 'incast_congestion', location: 'leaf-1/p1' });
      expect(s.duration_us).toBeGreaterThan(1.5 * s.expected_us);
      expect(s.expected_us).toBeGreaterThan(8000);
      expect(s.expected_us).toBeLessThan(8600);
    }

    const straggler = stalls.filter((s) => inWindow(s, FAULTS.straggler!));
    expect(straggler.length).toBe(20);
    for (const s of straggler) {
      expect(s.root_cause).toMatchObject({ kind: 'straggler_gpu', location: 'node-2/gpu-1' });
      expect(s.slowest_rank).toBe(9);
      expect(s.ranks.find((r) => r.rank === 9)!.gpu).toBe('node-2/gpu-1');
      expect(s.root_cause.evidence.map((e) => e.signal)).toContain('DCGM_FI_DEV_CLOCKS_EVENT_REASONS');
    }

    const mystery = stalls.filter((s) => inWindow(s, FAULTS.mystery!));
    expect(mystery.length).toBeGreaterThan(0);
    for (const s of mystery) expect(s.root_cause.kind).toBe('unknown');

    // Nothing else stalled, and the benign port is never blamed or cited.
    expect(stalls.length).toBe(incast.length + straggler.length + mystery.length);
    for (const s of stalls) expect(JSON.stringify(s.root_cause)).not.toContain('leaf-1/p6');

    // The sink stored every input and output; episodes cover the incast and benign ports.
    expect(store.rows.port_samples).toHaveLength(streams.port_samples.length);
    expect(store.rows.gpu_samples).toHaveLength(streams.gpu_samples.length);
    expect(store.rows.collective_events).toHaveLength(streams.collective_events.length);
    const episodePorts = new Set(store.rows.congestion_episodes.map((e) => e.port));
    expect(episodePorts.has('leaf-1/p1')).toBe(true);
    expect(episodePorts.has('leaf-1/p6')).toBe(true);
    expect(stats.stalls.pending).toBe(0);
    expect(stats.calls.pending_calls).toBe(0);
    expect(stats.sink.written.stalls).toBe(stalls.length);
  });

  it('gives the same stalls and causes however the sources are interleaved (event time)', async () => {
    const reference = (await play(realistic)).stalls.map(verdict);

    // NCCL files read late (3 s behind), switches lagging unevenly, GPUs scraped slowly.
    const laggy = arrivals(streams, {
      port: (device) => 40 + (device.length % 4) * 300,
      gpu: () => 1800,
      nccl: (host, endMs) => Math.ceil(endMs / 1000) * 1000 - endMs + 3000 - Number(host.slice(5)) * 400,
    });
    // Collectives ahead of the switch data by 2 s, different batch sizes.
    const ncclFirst = arrivals(streams, { port: () => 2500, gpu: () => 2600, nccl: () => 0 });
    // Random per-batch jitter that keeps each source's own order.
    const rnd = prng(11);
    const jitter = new Map<string, number>();
    const jittered = arrivals(streams, {
      port: (d) => jitter.get(d) ?? (jitter.set(d, Math.round(rnd() * 900)), jitter.get(d)!),
      gpu: (g) => jitter.get(g) ?? (jitter.set(g, Math.round(rnd() * 1500)), jitter.get(g)!),
      nccl: (h, endMs) => Math.ceil(endMs / 1000) * 1000 - endMs + (jitter.get(h) ?? (jitter.set(h, Math.round(rnd() * 2000)), jitter.get(h)!)),
    });

    expect((await play(laggy, 500)).stalls.map(verdict)).toEqual(reference);
    expect((await play(ncclFirst, 17)).stalls.map(verdict)).toEqual(reference);
    expect((await play(jittered, 128)).stalls.map(verdict)).toEqual(reference);
  });

  it('goes on when a switch dies (idle timeout), and late data is stored but changes no verdict', async () => {
    const reference = (await play(realistic)).stalls.map(verdict);
    const deadAt = T0 + 3000;
    const back = T0 + 10_500;
    const spine1After = (d: Delivery, t: number) => d.topic === 'port_samples' && (d.record as PortSample).device === 'spine-1' && (d.record as PortSample).ts_ms >= t;
    // spine-1 stops reporting at 3 s; its samples from 3 s to 4 s show up very late, at 10.5 s.
    const lateOnes = realistic.filter((d) => spine1After(d, deadAt) && !spine1After(d, deadAt + 1000));
    const deliveries = realistic.filter((d) => !spine1After(d, deadAt));
    deliveries.splice(deliveries.findIndex((d) => d.at >= back), 0, ...lateOnes);
    const run = await play(deliveries);
    expect(run.stalls.map(verdict)).toEqual(reference);
    expect(run.publishedBeforeFlush).toBe(reference.length);
    expect(run.stats.late.port_samples).toBe(lateOnes.length);
    expect(run.store.rows.port_samples).toHaveLength(deliveries.filter((d) => d.topic === 'port_samples').length);
  });
});
