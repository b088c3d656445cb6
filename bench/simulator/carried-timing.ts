/**
 * CPU cost of the collective phases the fluid fabric must still carry in the bench:sim scenario
 * (bench-scenario.ts), in CPU seconds (process.cpuUsage: the machine is shared):
 *  (a) simulated 0 → 0.3 s: the first tree (train-b) and ring (train-a) phases, which are recorded;
 *  (b) simulated 10.0 → 11.0 s: train-a's ring phases beside the incast fault's DCQCN senders,
 *      which cannot be replayed (the engine is first advanced to 10 s, untimed).
 * Switch snapshots every 100 ms are taken as the bench does. Prints one JSON line.
 *
 *   node dist/bench/simulator/carried-timing.js [--no-replay] [--only=a|b]
 */
import { SimulationEngine } from '../../simulator/engine.js';
import { benchScenario } from './bench-scenario.js';

const phaseReplay = !process.argv.includes('--no-replay');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const scenario = benchScenario(20);
const switchUs = scenario.telemetry.switch_interval_ms * 1000;

function cpuSeconds(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return Math.round((d.user + d.system) / 1e4) / 100;
}

/** Advances in switch-interval steps (with snapshots) from the engine's time to `toUs`. */
function play(engine: SimulationEngine, fromUs: number, toUs: number): void {
  for (let t = fromUs + switchUs; t <= toUs + 1e-6; t += switchUs) {
    engine.advanceTo(t);
    engine.switchSnapshots();
  }
}

const result: Record<string, unknown> = { phase_replay: phaseReplay };
if (only !== 'b') {
  const build0 = process.cpuUsage();
  const engine = new SimulationEngine(scenario, { phaseReplay });
  result.build_cpu_s = cpuSeconds(build0);
  const events0 = engine.fabric.events;
  const cpu0 = process.cpuUsage();
  play(engine, 0, 0.3e6);
  result.first_phases_cpu_s = cpuSeconds(cpu0);
  result.first_phases_events = engine.fabric.events - events0;
}
if (only !== 'a') {
  const engine = new SimulationEngine(scenario, { phaseReplay });
  play(engine, 0, 10e6);
  const events0 = engine.fabric.events;
  const cpu0 = process.cpuUsage();
  play(engine, 10e6, 11e6);
  result.incast_cpu_s = cpuSeconds(cpu0);
  result.incast_events = engine.fabric.events - events0;
}
console.log(JSON.stringify(result));
