/**
 * Output fingerprint of a scenario: plays it through the engine as the player does and prints
 * the SHA-256 of every switch snapshot, GPU snapshot, collective record and the ground truth, so
 * a pure speed-up can be checked to leave the outputs byte-identical.
 *
 *   node dist/bench/simulator/output-hash.js <scenario.yaml> [simulated seconds]
 */
import { createHash } from 'node:crypto';
import { SimulationEngine } from '../../simulator/engine.js';
import { loadScenario } from '../../simulator/scenario.js';

const file = process.argv[2];
if (!file) throw new Error('usage: output-hash <scenario.yaml> [simulated seconds]');
const scenario = await loadScenario(file);
const seconds = Number(process.argv[3] ?? scenario.duration_s);
const engine = new SimulationEngine(scenario);
const switchUs = scenario.telemetry.switch_interval_ms * 1000;
const gpuUs = scenario.telemetry.gpu_interval_ms * 1000;
const telemetry = createHash('sha256');
const collectives = createHash('sha256');
const cpu0 = process.cpuUsage();
for (let t = switchUs; t <= seconds * 1e6; t += switchUs) {
  engine.advanceTo(t);
  telemetry.update(JSON.stringify(engine.switchSnapshots()));
  if (t % gpuUs === 0) telemetry.update(JSON.stringify(engine.gpuSnapshot()));
  collectives.update(JSON.stringify(engine.drainCollectives()));
}
const cpu = process.cpuUsage(cpu0);
const truth = createHash('sha256').update(JSON.stringify(engine.groundTruth())).digest('hex');
console.log(
  JSON.stringify({
    scenario: scenario.name,
    simulated_s: seconds,
    telemetry: telemetry.digest('hex').slice(0, 16),
    collectives: collectives.digest('hex').slice(0, 16),
    ground_truth: truth.slice(0, 16),
    events: engine.fabric.events,
    cpu_s: Math.round((cpu.user + cpu.system) / 1e4) / 100,
  }),
);
