/**
 * Test 5 of issue 10, send-and-verify: switches post sequence-numbered samples through two
 * `fabricscope collect` processes while the sink is SIGKILLed and restarted on its data
 * directory again and again (its group loses and regains its only member, each time in the
 * middle of deliveries) and one collector is SIGKILLed and replaced. Every sequence number a
 * collector acknowledged must be stored exactly once — no gap, no duplicate — except that one
 * whose request was cut off (its fate unknown to the sender) may be stored once more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, tempDir, type Service } from '../harness/cli-process.js';
import { startMockKafka, type MockKafka } from '../harness/kafka-mock-cluster.js';
import { SEQUENCE_ROWS, SequenceSender, verifySequences, type SequenceVerdict } from './sequence-sender.js';
import { busLag, groupCaughtUp, keepLogs, waitUntil, withStoredData } from './stored-data.js';

const SINK_RESTARTS = 3;

describe('sequence-numbered samples while processes are killed', () => {
  let kafka: MockKafka;
  const services: Service[] = [];
  let sender: SequenceSender;
  let verdict: SequenceVerdict;
  let acknowledged = 0;

  beforeAll(async () => {
    kafka = await startMockKafka();
    const kafkaArgs = ['--kafka', kafka.brokers.join(','), '--kafka-topic-prefix', 'seq.', '--kafka-session-timeout-s', '3'];
    const start = async (args: string[], waitFor: string[]) => {
      const s = await startCli(args, waitFor);
      services.push(s);
      return s;
    };
    const sinkDir = tempDir('seq-sink');
    const startSink = () => start(['sink', ...kafkaArgs, '--data', sinkDir, '--role', 'sink,api', '--port', '0', '--log-level', 'info'], ['api listening']);
    const startCollector = () =>
      start(['collect', ...kafkaArgs, '--no-simulator', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--data', tempDir('seq-collect'), '--log-level', 'info'], [
        'OTLP/HTTP receiver listening',
      ]);
    let sink = await startSink();
    const collectors = [await startCollector(), await startCollector()];
    sender = new SequenceSender(['sw-a', 'sw-b', 'sw-c'], () => collectors.map((c) => c.urls['OTLP/HTTP receiver listening']!));
    sender.start();

    const moreAcknowledged = async (n: number) => {
      const target = sender.acknowledgedCount + n;
      await waitUntil(`${n} more acknowledged samples`, async () => sender.acknowledgedCount >= target, 120_000, 100, () => `${sender.acknowledgedCount} of ${target}`);
    };
    for (let round = 0; round < SINK_RESTARTS; round++) {
      await moreAcknowledged(30);
      await sink.kill();
      if (round === 1) {
        await collectors[1]!.kill();
        collectors[1] = await startCollector();
      }
      sink = await startSink();
    }
    await moreAcknowledged(30);
    await sender.stop();
    acknowledged = sender.acknowledgedCount;

    const sinkUrl = sink.urls['api listening']!;
    await waitUntil(
      'the sink to catch up',
      async () => (await groupCaughtUp(kafka.brokers, 'seq.sink.port_samples', 'seq.port_samples')) && (await busLag(sinkUrl, /^port_samples\/sink$/)) === 0,
    );
    for (const c of collectors) expect(await c.stop()).toBe(0);
    expect(await sink.stop()).toBe(0);
    verdict = await withStoredData(sinkDir, async (rows) => verifySequences(sender.log, await rows(SEQUENCE_ROWS)));
  }, 400_000);

  afterAll(async () => {
    await sender?.stop();
    await Promise.all(services.map((s) => s.kill()));
    keepLogs('kafka-send-and-verify', services);
    await kafka?.stop();
  });

  it('stores every acknowledged sequence number, with no gap', () => {
    expect(acknowledged).toBeGreaterThanOrEqual(120);
    expect(verdict.lost).toEqual([]);
  });

  it('stores none twice and nothing that was not sent', () => {
    expect(verdict.duplicated).toEqual([]);
    expect(verdict.unexpected).toEqual([]);
  });
});
