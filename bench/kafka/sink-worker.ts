/**
 * One pipeline process of `npm run bench:kafka`: the exactly-once sink (shared group `sink`)
 * over Kafka into its own embedded chDB (chDB allows one data directory per process; with a
 * ClickHouse server the workers would share one). Prints `{"stored":N,"cpu_ms":M}` lines so
 * the bench can tell when everything published is stored and what it cost.
 */
import { createLogger } from '../../core/log.js';
import { ExactlyOnceSink } from '../../pipeline/kafka/exactly-once-sink.js';
import { KafkaBus } from '../../pipeline/kafka/kafka-bus.js';
import { createStore } from '../../storage/create-store.js';

const [brokers, prefix, data] = process.argv.slice(2) as [string, string, string];
const logger = createLogger('error');
const store = createStore({ data });
await store.migrate();
const bus = new KafkaBus({ brokers: brokers.split(','), topicPrefix: prefix, logger, sessionTimeoutMs: 6_000 });
await bus.start();
const sink = new ExactlyOnceSink(bus, store, logger);
sink.start();
const cpu0 = process.cpuUsage();
const report = () => {
  const written = Object.values(sink.stats().written).reduce((a, b) => a + b, 0);
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ stored: written, cpu_ms: (cpu.user + cpu.system) / 1000 }) + '\n');
};
const timer = setInterval(report, 100);
process.on('SIGTERM', () => {
  clearInterval(timer);
  void sink.stop().then(() => bus.close()).then(() => store.close()).finally(() => process.exit(0));
});
