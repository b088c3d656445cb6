/**
 * Switch-telemetry cost of the `bench:sim` scenario alone: builds the 1,024-GPU engine, advances
 * it to 0.1 s, then times N rounds of engine.switchSnapshots() plus buildSwitchResourceMetrics for
 * every switch, in one thread (bench-sim has the export thread build the payloads, from the
 * same snapshots). Prints ms per round
 * (wall, of it the snapshots', and CPU) and a fingerprint of one round's snapshots and ResourceMetrics, so a speed-up of
 * this path can be checked to leave every output value, attribute and order unchanged.
 *
 *   node dist/bench/simulator/snapshot-timing.js [rounds]
 */
import { createHash } from 'node:crypto';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { SimulationEngine } from '../../simulator/engine.js';
import { buildSwitchResourceMetrics } from '../../simulator/exporters/otlp-switch-payload.js';
import { benchScenario } from './bench-scenario.js';

const rounds = Number(process.argv[2] ?? 50);
const engine = new SimulationEngine(benchScenario(1));
engine.advanceTo(100_000);

/** Everything an OTLP serialiser can read from a ResourceMetrics, in order. */
const canonical = (rm: ResourceMetrics) => JSON.stringify({ resource: rm.resource.attributes, scopeMetrics: rm.scopeMetrics });

// Fingerprint first: the first snapshot after advancing carries the interval's histograms and watermarks.
const fingerprint = createHash('sha256');
for (const snap of engine.switchSnapshots()) {
  fingerprint.update(JSON.stringify(snap));
  fingerprint.update(canonical(buildSwitchResourceMetrics(snap, engine.startMs)));
}

let dataPoints = 0;
let snapshotNs = 0n;
const wall0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
for (let r = 0; r < rounds; r++) {
  const t0 = process.hrtime.bigint();
  const snaps = engine.switchSnapshots();
  snapshotNs += process.hrtime.bigint() - t0;
  for (const snap of snaps) {
    const rm = buildSwitchResourceMetrics(snap, engine.startMs);
    for (const m of rm.scopeMetrics[0]!.metrics) dataPoints += m.dataPoints.length;
  }
}
const wallMs = Number(process.hrtime.bigint() - wall0) / 1e6;
const cpu = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({
    rounds,
    ports: engine.fabric.names.length,
    data_points_per_round: dataPoints / rounds,
    wall_ms_per_round: Math.round((wallMs / rounds) * 100) / 100,
    snapshot_wall_ms_per_round: Math.round(Number(snapshotNs) / 1e6 / rounds * 100) / 100,
    cpu_ms_per_round: Math.round(((cpu.user + cpu.system) / 1e3 / rounds) * 100) / 100,
    fingerprint: fingerprint.digest('hex').slice(0, 16),
  }),
);
