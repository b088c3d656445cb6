/**
 * Test harness: a real Kafka-protocol cluster of three brokers, librdkafka's mock cluster,
 * started through Debian's `kcat` (installed by `node dist/cli/setup.js --for test`). kcat
 * runs as a consumer of a spare topic so the cluster stays up; with any bootstrap address
 * and `test.mock.num.brokers` set, librdkafka replaces it by the mock's and logs that (at
 * level 5, without any debug flag): the brokers are read from that line. Topics are
 * auto-created with 4 partitions; the mock refuses kafkajs' CreateTopics and idempotent
 * producers, which the Kafka bus tolerates.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface MockKafka {
  brokers: string[];
  /** Stops the cluster: every broker at once, all data gone. */
  stop(): Promise<void>;
  /**
   * Makes every broker unreachable without losing anything (SIGSTOP: connections stay open,
   * nothing answers, as in a network partition), until `resume` (SIGCONT).
   */
  pause(): void;
  resume(): void;
}

export function startMockKafka(timeoutMs = 10_000): Promise<MockKafka> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn('kcat', ['-b', 'localhost:9092', '-X', 'test.mock.num.brokers=3', '-C', '-t', '__fabricscope_spare', '-q'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kcat mock cluster did not start within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run kcat (install it: node dist/cli/setup.js --for test): ${e.message}`));
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const match = /replaced with (\S+)/.exec(stderr);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        brokers: match[1]!.split(','),
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('close', () => done());
            child.kill('SIGTERM');
            child.kill('SIGCONT'); // a paused cluster must still see the SIGTERM
          }),
        pause: () => void child.kill('SIGSTOP'),
        resume: () => void child.kill('SIGCONT'),
      });
    });
  });
}
