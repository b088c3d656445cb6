/**
 * `npm run bench:sim`: plays 60 simulated seconds of a 1,024-GPU cluster (128 nodes × 8 GPUs,
 * 32 leaves, 16 spines, 400G; two jobs, background load, three faults) with switch telemetry
 * every 100 ms and GPU telemetry every second, building every snapshot and the OTLP payloads the
 * switches would push (not sent: the benchmark measures the emulator, not a receiver). Prints
 * progress to stderr and, as its last stdout line, one JSON object
 * {"gpus","simulated_s","wall_s","speedup","peak_rss_mb"}.
 */
import { SimulationEngine } from '../../simulator/engine.js';
import { TelemetryExportThread, type ExportResult } from '../../simulator/exporters/telemetry-export-thread.js';
import { benchScenario } from './bench-scenario.js';

const scenario = benchScenario(Number(process.env.BENCH_SIM_SECONDS ?? 60));
/** Rounds the export thread may fall behind by before the simulation waits for it. */
const MAX_ROUNDS_IN_FLIGHT = 8;
const wallStart = process.hrtime.bigint();
const engine = new SimulationEngine(scenario);
const exportThread = new TelemetryExportThread({
  switches: { layout: engine.switchLayout, resetMs: engine.startMs },
  collectives: { jobs: engine.collectiveLayouts, seed: scenario.seed },
});
const switchUs = scenario.telemetry.switch_interval_ms * 1000;
const gpuUs = scenario.telemetry.gpu_interval_ms * 1000;
const endUs = scenario.duration_s * 1e6;
let peakRss = process.memoryUsage().rss;
let dataPoints = 0;
let records = 0;
const inFlight: Promise<void>[] = [];
const countPoints = (r: ExportResult): void => {
  dataPoints += r.items;
};
const countRecords = (r: ExportResult): void => {
  records += r.items;
};
// Wall time the simulation thread spends on switch telemetry: reading counters, handing them over.
let switchTelemetryNs = 0n;
for (let t = switchUs; t <= endUs; t += switchUs) {
  engine.advanceTo(t);
  const telemetryStart = process.hrtime.bigint();
  inFlight.push(exportThread.submitSwitches(engine.switchCounters(exportThread.spareArrays())).then(countPoints));
  switchTelemetryNs += process.hrtime.bigint() - telemetryStart;
  if (inFlight.length > MAX_ROUNDS_IN_FLIGHT) await inFlight.shift();
  if (t % gpuUs === 0) {
    engine.gpuSnapshot();
    inFlight.push(exportThread.submitCollectives(engine.drainCompleted(), engine.epochUs(t)).then(countRecords));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const wall = Number(process.hrtime.bigint() - wallStart) / 1e9;
    const phases = engine.replayer.stats;
    process.stderr.write(
      `t=${t / 1e6}s wall=${wall.toFixed(1)}s events=${engine.fabric.events} phases replayed=${phases.replayed} recorded=${phases.recorded} carried=${phases.carried} nccl_records=${records} otlp_points=${dataPoints} switch_telemetry_wall=${(Number(switchTelemetryNs) / 1e9).toFixed(2)}s\n`,
    );
  }
}
await Promise.all(inFlight);
await exportThread.close();
const wallS = Number(process.hrtime.bigint() - wallStart) / 1e9;
peakRss = Math.max(peakRss, process.memoryUsage().rss);
const simulated = scenario.duration_s;
console.log(
  JSON.stringify({
    gpus: scenario.topology.nodes * scenario.topology.gpus_per_node,
    simulated_s: simulated,
    wall_s: Math.round(wallS * 100) / 100,
    speedup: Math.round((simulated / wallS) * 100) / 100,
    peak_rss_mb: Math.round(peakRss / 1024 / 1024),
  }),
);
