/**
 * The emulated targets both Prometheus and fabricscope read in the Prometheus benchmark, in a
 * process of their own so neither system's CPU includes the emulator:
 *   node serve-targets.js SCENARIO OTLP_URL NCCL_DIR OUT_DIR
 * Plays the scenario in real time (speed 1) with the simulator's own exporters: dcgm-exporter
 * endpoints per node (scraped by both), OTLP pushes to fabricscope and NCCL Inspector files it
 * tails; plus one extra endpoint with the same switch samples and collective durations in
 * Prometheus text, for Prometheus. Prints {"dcgm":[…],"extra":"…"} once listening, then plays
 * when it reads "go" on stdin, until SIGTERM.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { ScenarioPlayer } from '../../simulator/player.js';
import { loadScenario } from '../../simulator/scenario.js';
import type { SwitchSnapshot } from '../../simulator/outputs.js';
import { collectiveRecordsOf } from '../../simulator/collective-samples.js';
import { switchSnapshotsOf } from '../../simulator/switch-samples.js';
import { CollectiveHistogram } from './collective-histogram.js';
import { renderSwitchExposition } from './switch-exposition.js';

async function main(): Promise<void> {
  const [scenarioFile, otlpUrl, ncclDir, outDir] = process.argv.slice(2);
  if (!scenarioFile || !otlpUrl || !ncclDir || !outDir) throw new Error('usage: serve-targets SCENARIO OTLP_URL NCCL_DIR OUT_DIR');
  const scenario = await loadScenario(scenarioFile);
  const player = new ScenarioPlayer({ scenario, speed: 1, otlpUrl, ncclDir, outDir });
  const engine = player.engine;

  // Tap the engine's outputs as the player takes them, so the extra endpoint serves the very
  // samples the exporters send (calling the engine a second time would shift its intervals).
  let latest: SwitchSnapshot[] = [];
  const histogram = new CollectiveHistogram();
  const switchCounters = engine.switchCounters.bind(engine);
  engine.switchCounters = (into) => {
    const round = switchCounters(into);
    // Snapshots now: the round's arrays move to the export thread next.
    latest = switchSnapshotsOf(engine.switchLayout, round);
    return round;
  };
  const drainCompleted = engine.drainCompleted.bind(engine);
  engine.drainCompleted = () => {
    const done = drainCompleted();
    // Records now: the packed array moves to the export thread next.
    for (const r of collectiveRecordsOf(engine.collectiveLayouts, done)) histogram.observe(r.job, r.exec_time_us);
    return done;
  };

  const extra = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(renderSwitchExposition(latest, engine.startMs) + histogram.render());
  });
  await new Promise<void>((resolve) => extra.listen(0, '127.0.0.1', resolve));
  const { dcgmTargets } = await player.start();
  process.stdout.write(JSON.stringify({ dcgm: dcgmTargets, extra: `http://127.0.0.1:${(extra.address() as AddressInfo).port}/metrics` }) + '\n');

  const stop = () => player.stop();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => lines.on('line', (l) => l.trim() === 'go' && resolve()));
  await player.run();
  extra.close();
  lines.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`serve-targets: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
