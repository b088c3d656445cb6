#!/usr/bin/env node
/**
 * The `fabricscope` command: `up`, `run`, `serve`. Parses flags into the one validated config,
 * starts the platform, and turns every error into a one-line message naming what is wrong
 * and where, with a non-zero exit.
 */
import { loadConfig, type Config, type ConfigKey } from '../core/config.js';
import { asFabricscopeError, ConfigError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { parseArgs } from './args.js';
import { HELP } from './help.js';
import { Platform } from './platform.js';
import { buildRunSummary } from './run-summary.js';
import { EVAL_FLAGS, runEval } from './eval.js';

/** `flags`: values of the command's own flags (not config keys), e.g. eval's --suite. */
type Command = (config: Config, logger: Logger, flags: Record<string, string>) => Promise<number>;

const COMMANDS: Record<string, { defaults: Partial<Record<ConfigKey, unknown>>; flags?: readonly string[]; run: Command }> = {
  up: { defaults: {}, run: up },
  run: { defaults: { speed: 'max' }, run: runScenario },
  serve: { defaults: {}, run: serve },
  // Roles as processes on Kafka (pipeline/kafka/): each is a consumer-group stage others can join.
  collect: { defaults: { role: 'collect' }, run: runRoles },
  correlate: { defaults: { role: 'correlate' }, run: runRoles },
  sink: { defaults: { role: 'sink', simulator: false }, run: runRoles },
  api: { defaults: { role: 'api', simulator: false }, run: runRoles },
  eval: { defaults: { speed: 'max', otlp_http_port: 0, otlp_grpc_port: 0 }, flags: EVAL_FLAGS, run: runEval },
};

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, EVAL_FLAGS);
  if (args.command === undefined || args.command === 'help') {
    process.stdout.write(HELP.main);
    return args.command === undefined && !args.help ? 1 : 0;
  }
  const command = COMMANDS[args.command];
  if (!command) throw new ConfigError(`unknown command "${args.command}" (try: up, run, serve, eval, collect, correlate, sink, api, help)`, 'command line');
  if (args.help) {
    process.stdout.write(HELP[args.command]!);
    return 0;
  }
  const own: Record<string, string> = {};
  for (const key of command.flags ?? []) {
    if (key in args.flags) own[key] = String(args.flags[key]);
    delete args.flags[key];
  }
  const config = loadConfig({ flags: args.flags, env: process.env, defaults: command.defaults });
  const logger = createLogger(config.log_level);
  return command.run(config, logger, own);
}

/** Runs until SIGINT/SIGTERM, then shuts down cleanly. */
async function up(config: Config, logger: Logger): Promise<number> {
  const platform = await Platform.start(config, logger, { withApi: true });
  const stopped = untilSignal(platform, logger);
  if (platform.parts.player) {
    // A finite scenario ends by itself; the API stays up until stopped.
    platform.play().then(
      (summary) => logger.info('scenario finished; still serving', { simulated_s: summary.simulated_s }),
      (e: unknown) => logger.error('simulator failed', { error: (e as Error).message }),
    );
  }
  await stopped;
  return 0;
}

/** `collect`, `correlate`, `sink`, `api`: one or more roles of the platform, on Kafka. */
async function runRoles(config: Config, logger: Logger): Promise<number> {
  if (!config.kafka) throw new ConfigError('roles run as separate processes over Kafka: give --kafka BROKERS (or use `up`)', '--kafka');
  return up(config, logger);
}

async function runScenario(config: Config, logger: Logger): Promise<number> {
  if (!config.scenario) throw new ConfigError('a scenario is required', '--scenario');
  const platform = await Platform.start(config, logger, { withApi: false });
  const wallStart = Date.now();
  const cpuStart = process.cpuUsage();
  try {
    const scenario = platform.parts.scenario!;
    if (scenario.duration_s === 0) throw new ConfigError(`scenario ${scenario.name} runs until stopped (duration_s: 0); run needs a finite one`, '--scenario');
    const play = await platform.play();
    await platform.finish();
    const summary = await buildRunSummary(platform, play, (Date.now() - wallStart) / 1000, process.cpuUsage(cpuStart));
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  } finally {
    await platform.stop();
  }
  return 0;
}

async function serve(config: Config, logger: Logger): Promise<number> {
  const platform = await Platform.serve(config, logger);
  await untilSignal(platform, logger);
  return 0;
}

function untilSignal(platform: Platform, logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (signal: string) => {
      logger.info('shutting down', { signal });
      platform.stop().then(resolve, (e: unknown) => {
        logger.error('shutdown failed', { error: (e as Error).message });
        resolve();
      });
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const err = asFabricscopeError(e);
    process.stderr.write(`fabricscope: ${err.message}${err.code === 'INTERNAL' && e instanceof Error && e.stack ? `\n${e.stack}` : ''}\n`);
    process.exit(err.code === 'INTERNAL' ? 70 : 2);
  },
);
