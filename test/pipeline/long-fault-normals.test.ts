/**
 * A fault that lasts longer than half of a port's normal look-back must not become that port's
 * normal: the correlator learns normals only from the time the job was not stalled, as the stall
 * baseline learns only from healthy calls. Without that, a long incast's queue and ECN levels
 * filled the look-back and its later stalls lost their verdict.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../pipeline/memory-bus.js';
import { createPipeline } from '../../pipeline/pipeline.js';
import { NORMAL_LOOKBACK_MS } from '../../pipeline/port-normals.js';
import { MemoryStore, T0, arrivals, silentLogger, smallTopology, synthesize } from './fixtures.js';

describe('learned normals during a long fault', () => {
  it('names an incast for its whole length, also once it fills most of the look-back', async () => {
    const incast = { port: 'leaf-1/p1', from_ms: T0 + 3_000, to_ms: T0 + 3_000 + NORMAL_LOOKBACK_MS };
    const streams = synthesize(NORMAL_LOOKBACK_MS + 6_000, { incast });
    const bus = new MemoryBus({ logger: silentLogger });
    const store = new MemoryStore();
    const pipeline = createPipeline({ bus, store, topology: smallTopology(), logger: silentLogger });
    for (const d of arrivals(streams, { port: () => 5, gpu: () => 200, nccl: () => 300 })) await bus.publish(d.topic, [d.record] as never[]);
    await pipeline.flush();
    await pipeline.stop();
    const during = store.rows.stalls.filter((s) => s.start_ms >= incast.from_ms && s.start_ms < incast.to_ms);
    expect(during.length).toBeGreaterThan(NORMAL_LOOKBACK_MS / 50 - 5); // every call (one per 50 ms) stalls
    const wrong = during.filter((s) => s.root_cause.kind !== 'incast_congestion' || s.root_cause.location !== incast.port);
    expect(wrong.map((s) => `${s.id} at +${s.start_ms - incast.from_ms} ms: ${s.root_cause.kind}@${s.root_cause.location}`)).toEqual([]);
  }, 60_000);
});
