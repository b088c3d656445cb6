/**
 * Test 1 of issue 10: the same scenario through Kafka (librdkafka's mock cluster, three
 * brokers, real wire protocol) gives the same stored telemetry counts, the same stalls and
 * the same root causes as through the in-process bus.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, tempDir } from '../harness/cli-process.js';
import { startMockKafka, type MockKafka } from '../harness/kafka-mock-cluster.js';

const SCENARIO = join(REPO_ROOT, 'examples', 'incast-and-straggler.yaml');

interface RunSummary {
  records: Record<string, number>;
  stalls: number;
  root_causes: Array<{ kind: string; location: string; stalls: number }>;
}

async function runSummary(extra: string[]): Promise<RunSummary> {
  const args = ['run', '--scenario', SCENARIO, '--data', tempDir('kafka-same'), '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--log-level', 'warn', ...extra];
  const done = await runCli(args, 300_000);
  expect(done.code, done.stderr.slice(-3000)).toBe(0);
  return JSON.parse(done.stdout) as RunSummary;
}

describe('a scenario through Kafka', () => {
  let kafka: MockKafka;
  let embedded: RunSummary;
  let viaKafka: RunSummary;

  beforeAll(async () => {
    kafka = await startMockKafka();
    // Sequential on purpose: the two runs would otherwise compete for the same two cores.
    embedded = await runSummary([]);
    viaKafka = await runSummary(['--kafka', kafka.brokers.join(','), '--kafka-topic-prefix', 'same.']);
  }, 600_000);

  afterAll(async () => {
    await kafka?.stop();
  });

  it('stores every telemetry record once, as the embedded bus does', () => {
    for (const kind of ['port_samples', 'gpu_samples', 'collective_events'] as const) {
      expect(viaKafka.records[kind], kind).toBe(embedded.records[kind]);
    }
  });

  it('finds the same stalls with the same root causes', () => {
    expect(viaKafka.stalls).toBe(embedded.stalls);
    const causes = (s: RunSummary) => s.root_causes.map((c) => `${c.kind}@${c.location}:${c.stalls}`).sort();
    expect(causes(viaKafka)).toEqual(causes(embedded));
  });

  it('stores each congestion episode once although every correlator sees it', () => {
    expect(viaKafka.records.congestion_episodes).toBe(embedded.records.congestion_episodes);
  });
});
