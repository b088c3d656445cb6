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

type Command = (config: Config, logger: Logger) => Promise<number>;

const COMMANDS: Record<string, { defaults: Partial<Record<ConfigKey, unknown>>; run: Command }> = {
  up: { defaults: {}, run: up },
  run: { defaults: { speed: 'max' }, run: runScenario },
  serve: { defaults: {}, run: serve },
};

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.command === undefined || args.command === 'help') {
    process.stdout.write(HELP.main);
    return args.command === undefined && !args.help ? 1 : 0;
  }
  const command = COMMANDS[args.command];
  if (!command) throw new ConfigError(`unknown command "${args.command}" (try: up, run, serve, help)`, 'command line');
  if (args.help) {
    process.stdout.write(HELP[args.command]!);
    return 0;
  }
  const config = loadConfig({ flags: args.flags, env: process.env, defaults: command.defaults });
  const logger = createLogger(config.log_level);
  return command.run(config, logger);
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

async function runScenario(config: Config, logger: Logger): Promise<number> {
  if (!config.scenario) throw new ConfigError('a scenario is required', '--scenario');
  const platform = await Platform.start(config, logger, { withApi: false });
  const wallStart = Date.now();
  try {
    const scenario = platform.parts.scenario!;
    if (scenario.duration_s === 0) throw new ConfigError(`scenario ${scenario.name} runs until stopped (duration_s: 0); run needs a finite one`, '--scenario');
    const play = await platform.play();
    await platform.finish();
    const summary = await buildRunSummary(platform, play, (Date.now() - wallStart) / 1000);
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
