/**
 * The emulator's share of an end-to-end run: the same scenario played by the same player at
 * full speed with nowhere to send (no OTLP receiver, no NCCL files), so its CPU can be taken out
 * of the end-to-end CPU to leave what ingest itself costs. Prints the play summary with cpu_s,
 * the CPU of the play alone (start-up excluded).
 *   node emulator-only-child.js SCENARIO
 */
import { ScenarioPlayer } from '../../simulator/player.js';
import { loadScenario } from '../../simulator/scenario.js';

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: emulator-only-child SCENARIO');
  const player = new ScenarioPlayer({ scenario: await loadScenario(file), speed: 'max' });
  const cpuStart = process.cpuUsage();
  const summary = await player.run();
  const cpu = process.cpuUsage(cpuStart);
  // cpu_s: the play alone, start-up excluded, to compare with `fabricscope run`'s own figure.
  process.stdout.write(JSON.stringify({ ...summary, cpu_s: (cpu.user + cpu.system) / 1e6 }) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`emulator-only-child: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
