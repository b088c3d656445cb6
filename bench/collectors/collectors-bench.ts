/**
 * `npm run bench:collectors`: how many data points per second one core decodes and
 * normalises, per wire format, on payloads shaped like the real producers':
 *
 * - OTLP protobuf and JSON: one Cumulus-style switch export (64 ports, 8 TCs; queue, ECN,
 *   PFC counters per TC, port counters), serialised by the OpenTelemetry JS serialisers;
 *   measured from the request bytes to canonical PortSamples (decode, validate, normalise).
 * - Prometheus text: a dcgm-exporter scrape of an 8-GPU node (the real label set), parsed and
 *   turned into GpuSamples.
 * - NCCL Inspector JSON lines (verbose records), parsed into CollectiveEvents.
 *
 * Each format runs for a fixed CPU time after a warm-up, and rates are per CPU second (so a
 * busy machine slows the run, not the figure); the last line printed is one JSON object.
 */
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { toGpuSamples } from '../../collectors/dcgm/gpu-samples.js';
import { parsePrometheusText } from '../../collectors/dcgm/prometheus-text.js';
import { parseInspectorLines } from '../../collectors/nccl/inspector-record.js';
import { readJsonMetricsRequest } from '../../collectors/otlp/otlp-json-reader.js';
import type { FlattenedMetrics } from '../../collectors/otlp/otlp-points.js';
import { readMetricsRequest } from '../../collectors/otlp/otlp-wire-reader.js';
import { PortSampleNormaliser } from '../../collectors/otlp/port-samples.js';
import { dcgmScrape, ncclLines, POINTS_PER_EXPORT, PORTS, switchExport, T0_S } from './bench-payloads.js';

const RUN_MS = Number(process.env.BENCH_MS ?? 2_000);

/** CPU time this process used, ms: per core, and unaffected by other processes on a busy machine. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Runs `step` repeatedly for RUN_MS of CPU time (after a warm-up); returns items per CPU second. */
function measure(name: string, itemsPerStep: number, step: (i: number) => void): number {
  let i = 0;
  const warmUntil = cpuMs() + Math.min(500, RUN_MS / 4);
  while (cpuMs() < warmUntil) step(i++);
  let steps = 0;
  const t0 = cpuMs();
  let t = t0;
  while (t - t0 < RUN_MS) {
    step(i++);
    steps++;
    t = cpuMs();
  }
  const perS = (steps * itemsPerStep) / ((t - t0) / 1000);
  console.log(`${name.padEnd(28)} ${Math.round(perS).toLocaleString('en-US').padStart(12)} /s per core  (${steps} runs of ${itemsPerStep})`);
  return perS;
}

// Pre-encoded exports, one per simulated second, so the normaliser sees advancing time.
const EXPORTS = 64;
const protobufBodies = Array.from({ length: EXPORTS }, (_, i) => ProtobufMetricsSerializer.serializeRequest(switchExport(T0_S + i))!);
const jsonBodies = Array.from({ length: EXPORTS }, (_, i) => Buffer.from(JsonMetricsSerializer.serializeRequest(switchExport(T0_S + i))!));

/** Each run goes on with a fresh normaliser once the pre-encoded seconds are used up. */
function otlpStep(decode: (i: number) => FlattenedMetrics) {
  let normaliser = new PortSampleNormaliser();
  return (i: number) => {
    if (i % EXPORTS === 0) normaliser = new PortSampleNormaliser();
    const flat = decode(i % EXPORTS);
    const r = normaliser.normalise(flat.points, flat.histograms);
    r.commit();
    if (r.samples.length !== PORTS) throw new Error(`expected ${PORTS} samples, got ${r.samples.length}`);
  };
}

console.log(`collectors benchmark: ${RUN_MS} ms per format, one core (node ${process.version})`);
const protobuf = measure('OTLP protobuf points', POINTS_PER_EXPORT, otlpStep((i) => readMetricsRequest(protobufBodies[i]!)));
const json = measure('OTLP JSON points', POINTS_PER_EXPORT, otlpStep((i) => readJsonMetricsRequest(jsonBodies[i]!)));
const scrape = dcgmScrape();
const promSamples = parsePrometheusText(scrape).samples.length;
const prom = measure('Prometheus text samples', promSamples, () => {
  const parsed = parsePrometheusText(scrape, 'bench');
  toGpuSamples(parsed.samples, 1_767_225_600_000, 'node-0');
});
const ncclText = ncclLines(1_000);
const nccl = measure('NCCL Inspector JSONL records', 1_000, () => {
  const batch = parseInspectorLines(ncclText, 'bench');
  if (batch.events.length !== 1_000) throw new Error('NCCL records lost');
});

console.log(
  JSON.stringify({
    otlp_protobuf_points_per_s: Math.round(protobuf),
    otlp_json_points_per_s: Math.round(json),
    prometheus_text_points_per_s: Math.round(prom),
    nccl_jsonl_records_per_s: Math.round(nccl),
  }),
);
