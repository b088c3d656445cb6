import { describe, expect, it, vi } from 'vitest';
import type { Alert } from '../../core/records.js';
import { MemoryBus } from '../../pipeline/memory-bus.js';
import { Sink } from '../../pipeline/sink.js';
import { MemoryStore, portSample, silentLogger } from './fixtures.js';

describe('Sink', () => {
  it('writes every topic through the store and counts rows', async () => {
    const bus = new MemoryBus();
    const store = new MemoryStore();
    const sink = new Sink(bus, store, silentLogger);
    sink.start();
    await bus.publish('port_samples', [portSample('leaf-0/p0', 1), portSample('leaf-0/p1', 1)]);
    await bus.drain();
    expect(store.rows.port_samples).toHaveLength(2);
    expect(sink.stats().written.port_samples).toBe(2);
    await sink.stop();
  });

  it('retries a failing store with back-off and then succeeds', async () => {
    const bus = new MemoryBus();
    const store = new MemoryStore();
    store.failNext = 2;
    const sink = new Sink(bus, store, silentLogger, { backoffMs: 1, maxBackoffMs: 2 });
    sink.start();
    await bus.publish('port_samples', [portSample('leaf-0/p0', 1)]);
    await bus.drain();
    expect(store.rows.port_samples).toHaveLength(1);
    expect(sink.stats()).toMatchObject({ retries: 2, failed: { port_samples: 0 }, written: { port_samples: 1 } });
  });

  it('gives up after the bounded attempts, counts the loss and keeps going', async () => {
    const bus = new MemoryBus();
    const store = new MemoryStore();
    store.failNext = 3;
    const sink = new Sink(bus, store, silentLogger, { maxAttempts: 3, backoffMs: 1 });
    sink.start();
    await bus.publish('port_samples', [portSample('leaf-0/p0', 1)]);
    await bus.publish('port_samples', [portSample('leaf-0/p0', 2)]);
    await bus.drain();
    expect(store.insertCalls).toBe(4);
    expect(sink.stats()).toMatchObject({ failed: { port_samples: 1 }, written: { port_samples: 1 } });
  });

  it('gathers telemetry into one insert while it lingers, writes alerts at once, and drain flushes', async () => {
    const bus = new MemoryBus();
    const store = new MemoryStore();
    const sink = new Sink(bus, store, silentLogger, { telemetryLingerMs: 60_000 });
    sink.start();
    for (let t = 1; t <= 3; t++) await bus.publish('port_samples', [portSample('leaf-0/p0', t)]);
    await bus.publish('alerts', [{ id: 'a1' } as unknown as Alert]);
    await vi.waitFor(() => expect(store.rows.alerts).toHaveLength(1));
    expect(store.rows.port_samples).toHaveLength(0);
    await bus.drain();
    expect(store.rows.port_samples).toHaveLength(3);
    expect(store.insertCalls).toBe(2);
    await bus.publish('port_samples', [portSample('leaf-0/p0', 4)]);
    await sink.stop();
    expect(store.rows.port_samples).toHaveLength(4);
  });
});
