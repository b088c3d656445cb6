/**
 * Engine-only timing of a scenario file: drives SimulationEngine.advanceTo with switch snapshots
 * (and their OTLP payloads) every switch interval and GPU snapshots every GPU interval, as the
 * player does, but without receivers. Reports wall and CPU time, because this machine is shared:
 * CPU seconds compare runs better than wall seconds when other work competes for the cores.
 *
 *   node dist/bench/simulator/engine-timing.js examples/incast-and-straggler.yaml [seconds]
 */
import { SimulationEngine } from '../../simulator/engine.js';
import { buildSwitchResourceMetrics } from '../../simulator/exporters/otlp-switch-payload.js';
import { loadScenario } from '../../simulator/scenario.js';

const file = process.argv[2];
if (!file) throw new Error('usage: engine-timing <scenario.yaml> [simulated seconds]');
const scenario = await loadScenario(file);
const seconds = Number(process.argv[3] ?? (scenario.duration_s || 30));
const wall0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const engine = new SimulationEngine(scenario);
const switchUs = scenario.telemetry.switch_interval_ms * 1000;
const gpuUs = scenario.telemetry.gpu_interval_ms * 1000;
let records = 0;
for (let t = switchUs; t <= seconds * 1e6; t += switchUs) {
  engine.advanceTo(t);
  for (const snap of engine.switchSnapshots()) buildSwitchResourceMetrics(snap, engine.startMs);
  if (t % gpuUs === 0) {
    engine.gpuSnapshot();
    records += engine.drainCollectives().length;
  }
}
const wallS = Number(process.hrtime.bigint() - wall0) / 1e9;
const cpu = process.cpuUsage(cpu0);
const cpuS = (cpu.user + cpu.system) / 1e6;
console.log(
  JSON.stringify({
    scenario: scenario.name,
    simulated_s: seconds,
    wall_s: Math.round(wallS * 100) / 100,
    cpu_s: Math.round(cpuS * 100) / 100,
    speedup_wall: Math.round((seconds / wallS) * 10) / 10,
    speedup_cpu: Math.round((seconds / cpuS) * 10) / 10,
    events: engine.fabric.events,
    nccl_records: records,
  }),
);
