/**
 * `fabricscope eval --suite DIR [--json FILE]`: plays every scenario in DIR at full speed through
 * the real platform (simulator → OTLP/dcgm/NCCL collectors → bus → pipeline → chDB), reads the
 * stored stalls back and scores their root causes against the ground truth (eval-score.ts).
 *
 * chDB binds one data directory per process, so each scenario plays in its own child process
 * (`fabricscope eval --scenario F --data TMP --json OUT`, the single-scenario mode below) with a
 * fresh temporary data directory; the parent only schedules, collects and scores.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Config } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { GroundTruthFault, Stall, Topic, TopicRecords } from '../core/records.js';
import type { StallPosition } from '../core/store.js';
import { jobNodes } from '../simulator/scenario.js';
import { renderReport, scoreOutcomes, type EvalStall, type ScenarioOutcome } from './eval-score.js';
import { Platform } from './platform.js';

/** Flags of `eval` beyond the shared config keys. */
export const EVAL_FLAGS = ['suite', 'json', 'parallel', 'capture', 'keep_data'] as const;
export type EvalFlags = Partial<Record<(typeof EVAL_FLAGS)[number], string>>;

/** Stalls read back per query while paging through the store. */
const PAGE = 1_000;
/** A scenario child that has not finished in this long is killed and reported. */
const CHILD_TIMEOUT_MS = 15 * 60_000;

export async function runEval(config: Config, logger: Logger, flags: EvalFlags): Promise<number> {
  if (flags.suite) return runSuite(config, logger, flags);
  if (config.scenario) return playOne(config, logger, flags);
  throw new ConfigError('give --suite DIR (or --scenario FILE to play and report one scenario)', '--suite');
}

// ---- the suite (parent) -------------------------------------------------------------------

async function runSuite(config: Config, logger: Logger, flags: EvalFlags): Promise<number> {
  const dir = resolve(flags.suite!);
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort().map((f) => join(dir, f));
  } catch (e) {
    throw new ConfigError(`cannot read the suite: ${(e as Error).message}`, '--suite');
  }
  if (files.length === 0) throw new ConfigError('no scenario files (*.yaml, *.yml, *.json) in the suite', dir);
  // Children wait on I/O much of the time (lockstep scrapes, chDB), so a little over one per core pays.
  const parallel = Math.max(1, Number(flags.parallel ?? Math.max(2, cpus().length * 2)) || 1);
  const work = mkdtempSync(join(tmpdir(), 'fabricscope-eval-'));
  const runId = basename(work).replace(/^fabricscope-eval-/, '');
  logger.info('eval started', { suite: dir, scenarios: files.length, parallel, work });
  const outcomes: ScenarioOutcome[] = new Array(files.length);
  const failed: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const file = files[i]!;
      const name = basename(file).replace(/\.(ya?ml|json)$/, '');
      try {
        outcomes[i] = await playInChild(file, join(work, name), runId, config, flags);
        logger.info('scenario scored', { scenario: name, stalls: outcomes[i]!.stalls.length, wall_s: outcomes[i]!.wall_s });
      } catch (e) {
        failed.push(`${name}: ${(e as Error).message}`);
        logger.error('scenario failed', { scenario: name, error: (e as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, files.length) }, worker));
  if (flags.keep_data !== 'true') rmSync(work, { recursive: true, force: true });
  if (failed.length === files.length) throw new ConfigError(`no scenario played: ${failed.join('; ')}`, dir);

  // Score what played, so one scenario that cannot play does not hide the others' figures;
  // the run still fails, naming what did not play.
  const played = outcomes.filter((o): o is ScenarioOutcome => o !== undefined);
  const report = scoreOutcomes(played);
  process.stdout.write(renderReport(report));
  if (failed.length > 0) process.stdout.write(`\nnot played (not scored): ${failed.join('; ')}\n`);
  if (flags.json) {
    const rows = played.map(({ stalls, ...rest }) => ({ ...rest, stalls: stalls.length, root_causes: tallyRootCauses(stalls) }));
    writeFileSync(flags.json, JSON.stringify({ suite: dir, ...report, outcomes: rows, not_played: failed }, null, 2) + '\n');
  }
  if (failed.length > 0) return 2;
  return report.pass ? 0 : 1;
}

/** Stalls per `kind@location` verdict, sorted: what two runs of a scenario are compared on. */
export function tallyRootCauses(stalls: readonly EvalStall[]): Record<string, number> {
  const tally: Record<string, number> = {};
  for (const s of stalls) {
    const key = `${s.root_cause.kind}@${s.root_cause.location}`;
    tally[key] = (tally[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(tally).sort(([a], [b]) => a.localeCompare(b)));
}

function playInChild(file: string, dir: string, runId: string, config: Config, flags: EvalFlags): Promise<ScenarioOutcome> {
  const out = `${dir}.json`;
  const args = [process.argv[1]!, 'eval', '--scenario', file, '--data', join(dir, 'data'), '--json', out, '--log-level', 'warn'];
  args.push('--otlp-http-port', '0', '--otlp-grpc-port', '0');
  // The same infrastructure as the parent was given (e.g. to score a Kafka-bus deployment).
  if (config.kafka) {
    // Scenarios play at once on one cluster: each gets topics of its own (fresh per run, so a
    // re-run never replays an earlier run's records).
    args.push('--kafka', config.kafka.join(','), '--kafka-topic-prefix', `${config.kafka_topic_prefix}eval-${runId}-${basename(dir)}.`);
  }
  if (config.clickhouse) args.push('--clickhouse', config.clickhouse);
  if (flags.capture) args.push('--capture', `${dir}.capture.jsonl`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === null) return reject(new Error(`did not finish within ${CHILD_TIMEOUT_MS / 1000} s`));
      if (code !== 0) return reject(new Error(`exit ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
      try {
        resolvePromise(JSON.parse(readFileSync(out, 'utf8')) as ScenarioOutcome);
      } catch (e) {
        reject(new Error(`no outcome: ${(e as Error).message}`));
      }
    });
  });
}

// ---- one scenario (child) -----------------------------------------------------------------

async function playOne(config: Config, logger: Logger, flags: EvalFlags): Promise<number> {
  const platform = await Platform.start(config, logger, { withApi: false });
  const wallStart = Date.now();
  const captured: string[] = [];
  try {
    const scenario = platform.parts.scenario!;
    if (scenario.duration_s === 0) throw new ConfigError(`scenario ${scenario.name} runs until stopped (duration_s: 0); eval needs a finite one`, '--scenario');
    if (flags.capture && platform.parts.bus) {
      // Telemetry as the pipeline received it, in arrival order: lets the attribution be replayed offline.
      for (const topic of ['port_samples', 'gpu_samples', 'collective_events'] as const) {
        platform.parts.bus.subscribe(topic, 'eval-capture', async (batch: TopicRecords[Topic][]) => {
          captured.push(JSON.stringify({ topic, records: batch }));
        });
      }
    }
    await platform.play();
    await platform.finish();
    const stalls = await readAllStalls(platform);
    const faults = JSON.parse(readFileSync(join(config.data, 'ground-truth.json'), 'utf8')) as GroundTruthFault[];
    const outcome: ScenarioOutcome = {
      scenario: scenario.name,
      file: config.scenario!,
      switch_interval_ms: scenario.telemetry.switch_interval_ms,
      topology: scenario.topology,
      jobs: scenario.jobs.map((j) => ({ id: j.id, nodes: jobNodes(j, scenario.topology.nodes), collective: j.collective, algorithm: j.algorithm })),
      faults,
      stalls,
      wall_s: Math.round((Date.now() - wallStart) / 100) / 10,
    };
    const text = JSON.stringify(outcome) + '\n';
    if (flags.json) writeFileSync(flags.json, text);
    else process.stdout.write(text);
    if (flags.capture) writeFileSync(flags.capture, captured.join('\n') + '\n');
  } finally {
    await platform.stop();
  }
  return 0;
}

/** Every stored stall, paging by the listing order, without the per-rank timings. */
async function readAllStalls(platform: Platform): Promise<EvalStall[]> {
  const out: EvalStall[] = [];
  let after: StallPosition | undefined;
  for (;;) {
    const page: Stall[] = await platform.parts.store.listStalls({ limit: PAGE, after, include_ranks: false });
    for (const s of page) out.push({ id: s.id, job: s.job, start_ms: s.start_ms, end_ms: s.end_ms, root_cause: { kind: s.root_cause.kind, location: s.root_cause.location, confidence: s.root_cause.confidence } });
    if (page.length < PAGE) break;
    const last = page[page.length - 1]!;
    after = { start_ms: last.start_ms, id: last.id };
  }
  return out.sort((a, b) => a.start_ms - b.start_ms || a.id.localeCompare(b.id));
}
