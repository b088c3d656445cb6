/**
 * Test 4 of issue 10: an ambiguous insert — ClickHouse committed it, but the client gave up
 * before it heard so — is retried with the same deduplication token and changes no count,
 * neither in the tables nor in the rollups their materialized views feed. Once at the store
 * (the retry alone), once end to end: Kafka (librdkafka's mock cluster) → exactly-once sink →
 * embedded chDB, where the bus re-delivers the failed range with the same boundaries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log.js';
import type { Topic, TopicRecords } from '../../core/records.js';
import type { InsertOptions, Store } from '../../core/store.js';
import { ExactlyOnceSink } from '../../pipeline/kafka/exactly-once-sink.js';
import { KafkaBus } from '../../pipeline/kafka/kafka-bus.js';
import { openClickHouse } from '../../storage/clickhouse-connection.js';
import type { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { createStore } from '../../storage/create-store.js';
import { startMockKafka, type MockKafka } from '../harness/kafka-mock-cluster.js';
import { collectiveEvent, gpuSample, portSample, T0, tempDataDir } from '../storage/fixtures.js';

const logger = createLogger('silent');

// chDB binds one data directory per process: both tests share one store, on different ports.
let store: ClickHouseStore;

beforeAll(async () => {
  store = createStore({ data: tempDataDir('ambiguous') });
  await store.migrate();
});

afterAll(async () => {
  await store?.close();
});

async function rollupSamples(table: string, ports: string[]): Promise<number> {
  const { client } = openClickHouse({ kind: 'embedded', dataDir: store.describe.slice('chdb:'.length) });
  const list = ports.map((p) => `'${p}'`).join(',');
  const rs = await client.query({ query: `SELECT sum(samples) AS samples FROM ${table} WHERE port IN (${list})`, format: 'JSONEachRow' });
  return Number((await rs.json<{ samples: number | string }>())[0]?.samples ?? 0);
}

/** A store whose client "times out" on the first insert of each topic, after the server committed it. */
function givingUpAfterCommit(store: Store): Store & { gaveUp: Topic[] } {
  const gaveUp: Topic[] = [];
  return Object.assign(Object.create(store) as Store, {
    gaveUp,
    async insert<T extends Topic>(topic: T, rows: TopicRecords[T][], options?: InsertOptions): Promise<void> {
      await store.insert(topic, rows, options);
      if (!gaveUp.includes(topic)) {
        gaveUp.push(topic);
        throw new Error('socket timeout: the client gave up waiting for the insert');
      }
    },
  });
}

describe('an ambiguous insert retried with the same token', () => {
  it('changes no count in the table or in its rollup views', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => portSample(i, 'leaf-1/p2'));
    await store.insert('port_samples', rows, { dedup_token: 'port_samples/0/0-39' });
    await store.insert('port_samples', rows, { dedup_token: 'port_samples/0/0-39' });
    expect((await store.counts()).port_samples).toBe(40);
    expect(await rollupSamples('port_samples_1s', ['leaf-1/p2'])).toBe(40);
    expect(await rollupSamples('port_samples_1m', ['leaf-1/p2'])).toBe(40);
    // A different token is a different delivery: it is stored (this is what the token guards).
    await store.insert('port_samples', rows, { dedup_token: 'port_samples/0/40-79' });
    expect(await rollupSamples('port_samples_1s', ['leaf-1/p2'])).toBe(80);
  });
});

describe('the Kafka sink after an ambiguous insert', () => {
  let kafka: MockKafka;
  let bus: KafkaBus;

  beforeAll(async () => {
    kafka = await startMockKafka();
    bus = new KafkaBus({ brokers: kafka.brokers, topicPrefix: 'ambiguous.', logger, drainTimeoutMs: 60_000 });
    await bus.start();
  });

  afterAll(async () => {
    await bus?.close();
    await kafka?.stop();
  });

  it('stores every record once: the re-delivery carries the committed insert’s token', async () => {
    const before = await store.counts();
    const flaky = givingUpAfterCommit(store);
    const sink = new ExactlyOnceSink(bus, flaky, logger);
    sink.start();
    const ports = ['leaf-0/p1', 'leaf-1/p1', 'spine-0/p3', 'spine-1/p7'];
    for (let round = 0; round < 5; round++) {
      await bus.publish('port_samples', ports.flatMap((p) => Array.from({ length: 20 }, (_, i) => portSample(round * 20 + i, p))));
      await bus.publish('gpu_samples', Array.from({ length: 8 }, (_, i) => gpuSample(`node-${i % 4}/gpu-${i}`, T0 + round * 1000, 1980)));
      await bus.publish('collective_events', Array.from({ length: 16 }, (_, r) => collectiveEvent(r, round)));
    }
    await bus.drain();
    await sink.stop();

    expect(flaky.gaveUp).toEqual(expect.arrayContaining(['port_samples', 'gpu_samples', 'collective_events']));
    expect(sink.stats().retries).toBeGreaterThanOrEqual(3);
    const counts = await store.counts();
    expect(counts.port_samples - before.port_samples).toBe(400);
    expect(counts.gpu_samples - before.gpu_samples).toBe(40);
    expect(counts.collective_events - before.collective_events).toBe(80);
    expect(await rollupSamples('port_samples_1s', ports)).toBe(400);
    expect(await rollupSamples('port_samples_1m', ports)).toBe(400);
  });
});
