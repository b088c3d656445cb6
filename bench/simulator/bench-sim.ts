/**
 * `npm run bench:sim`: plays 60 simulated seconds of a 1,024-GPU cluster (128 nodes × 8 GPUs,
 * 32 leaves, 16 spines, 400G; two jobs, background load, three faults) with switch telemetry
 * every 100 ms and GPU telemetry every second, building every snapshot and the OTLP payloads the
 * switches would push (not sent: the benchmark measures the emulator, not a receiver). Prints
 * progress to stderr and, as its last stdout line, one JSON object
 * {"gpus","simulated_s","wall_s","speedup","peak_rss_mb"}.
 */
import { SimulationEngine } from '../../simulator/engine.js';
import { buildSwitchResourceMetrics } from '../../simulator/exporters/otlp-switch-exporter.js';
import { parseScenario } from '../../simulator/scenario.js';
import { benchScenarioYaml } from './bench-scenario.js';

const SCENARIO = benchScenarioYaml(Number(process.env.BENCH_SIM_SECONDS ?? 60));

const scenario = parseScenario(SCENARIO, 'bench-1024.yaml');
const wallStart = process.hrtime.bigint();
const engine = new SimulationEngine(scenario);
const switchUs = scenario.telemetry.switch_interval_ms * 1000;
const gpuUs = scenario.telemetry.gpu_interval_ms * 1000;
const endUs = scenario.duration_s * 1e6;
let peakRss = process.memoryUsage().rss;
let dataPoints = 0;
let records = 0;
for (let t = switchUs; t <= endUs; t += switchUs) {
  engine.advanceTo(t);
  for (const snap of engine.switchSnapshots()) {
    const rm = buildSwitchResourceMetrics(snap, engine.startMs);
    for (const m of rm.scopeMetrics[0]!.metrics) dataPoints += m.dataPoints.length;
  }
  if (t % gpuUs === 0) {
    engine.gpuSnapshot();
    records += engine.drainCollectives().length;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const wall = Number(process.hrtime.bigint() - wallStart) / 1e9;
    const phases = engine.replayer.stats;
    process.stderr.write(
      `t=${t / 1e6}s wall=${wall.toFixed(1)}s events=${engine.fabric.events} phases replayed=${phases.replayed} recorded=${phases.recorded} carried=${phases.carried} nccl_records=${records} otlp_points=${dataPoints}\n`,
    );
  }
}
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
