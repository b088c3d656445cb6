/**
 * Test 3 of issue 10: the brokers become unreachable (the mock cluster is frozen with SIGSTOP:
 * connections stay open and nothing answers, as in a network partition) while switches post
 * sequence-numbered samples to `fabricscope collect`. The collector must push back — 503 with
 * Retry-After, answered at once rather than holding requests and their records in memory —
 * (and RESOURCE_EXHAUSTED over gRPC) — and, once the brokers answer again, accept data again; every sample it acknowledged, before,
 * during or after the outage, ends up stored by `fabricscope sink`.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onePoint, rawExport, T } from '../collectors/otlp-grpc-client.js';
import { startCli, tempDir, type Service } from '../harness/cli-process.js';
import { startMockKafka, type MockKafka } from '../harness/kafka-mock-cluster.js';
import { SEQUENCE_ROWS, SequenceSender, verifySequences, type SequenceVerdict } from './sequence-sender.js';
import { busLag, groupCaughtUp, keepLogs, waitUntil, withStoredData } from './stored-data.js';

describe('an unreachable broker', () => {
  let kafka: MockKafka;
  const services: Service[] = [];
  let sender: SequenceSender;
  let ackedBeforeOutage = 0;
  let refusedDuringOutage = 0;
  let retryAfterDuringOutage = 0;
  let grpcDuringOutage: grpc.ServiceError | undefined;
  let verdict: SequenceVerdict;

  beforeAll(async () => {
    kafka = await startMockKafka();
    const kafkaArgs = ['--kafka', kafka.brokers.join(','), '--kafka-topic-prefix', 'outage.', '--kafka-stalled-after-ms', '1000'];
    const sinkDir = tempDir('outage-sink');
    const sink = await startCli(['sink', ...kafkaArgs, '--data', sinkDir, '--role', 'sink,api', '--port', '0', '--log-level', 'info'], ['api listening']);
    services.push(sink);
    const collector = await startCli(
      ['collect', ...kafkaArgs, '--no-simulator', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--data', tempDir('outage-collect'), '--log-level', 'info'],
      ['OTLP/HTTP receiver listening'],
    );
    services.push(collector);
    sender = new SequenceSender(['sw-a', 'sw-b'], () => [collector.urls['OTLP/HTTP receiver listening']!]);
    sender.start();

    await waitUntil('samples acknowledged before the outage', async () => sender.acknowledgedCount >= 40);
    ackedBeforeOutage = sender.acknowledgedCount;
    kafka.pause();
    // The outage lasts until the collector has refused a good number of requests outright.
    await waitUntil('the collector to refuse requests while the brokers are away', async () => sender.log.refusedUnsent >= 10, 120_000, 100, () => JSON.stringify(sender.log.backpressured));
    refusedDuringOutage = sender.log.refusedUnsent;
    const grpcPort = Number(new URL(collector.urls['OTLP/gRPC receiver listening']!).port);
    grpcDuringOutage = (await rawExport(grpcPort, onePoint({ host: 'grpc-leaf', attrs: { interface: 'swp1' }, timeNs: [T, 0] }))).error;
    retryAfterDuringOutage = sender.log.withRetryAfter;
    const ackedAtResume = sender.acknowledgedCount;
    kafka.resume();
    await waitUntil('samples acknowledged after the outage', async () => sender.acknowledgedCount >= ackedAtResume + 40, 120_000);
    await sender.stop();

    const sinkUrl = sink.urls['api listening']!;
    await waitUntil(
      'the sink to catch up',
      async () => (await groupCaughtUp(kafka.brokers, 'outage.sink.port_samples', 'outage.port_samples')) && (await busLag(sinkUrl, /^port_samples\/sink$/)) === 0,
    );
    expect(await collector.stop()).toBe(0);
    expect(await sink.stop()).toBe(0);
    verdict = await withStoredData(sinkDir, async (rows) => verifySequences(sender.log, await rows(SEQUENCE_ROWS)));
  }, 300_000);

  afterAll(async () => {
    kafka?.resume();
    await sender?.stop();
    await Promise.all(services.map((s) => s.kill()));
    keepLogs('kafka-outage', services);
    await kafka?.stop();
  });

  it('pushes back with 503 and Retry-After instead of holding requests', () => {
    expect(ackedBeforeOutage).toBeGreaterThanOrEqual(40);
    expect(refusedDuringOutage).toBeGreaterThanOrEqual(10);
    expect(retryAfterDuringOutage).toBeGreaterThanOrEqual(refusedDuringOutage);
  });

  it('answers gRPC exports with RESOURCE_EXHAUSTED and RetryInfo meanwhile', () => {
    expect(grpcDuringOutage?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(grpcDuringOutage?.metadata.get('grpc-status-details-bin')).toHaveLength(1);
  });

  it('stores every acknowledged sample once the brokers are back', () => {
    expect(verdict.lost).toEqual([]);
    expect(verdict.duplicated).toEqual([]);
    expect(verdict.unexpected).toEqual([]);
  });
});
