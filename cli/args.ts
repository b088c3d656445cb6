/**
 * Command-line parsing: `fabricscope <command> [--flag value | --flag=value | --bool]`.
 * Flags are the config schema's keys in kebab-case, so the CLI, env vars and config files
 * can never drift apart; an unknown flag is an error naming it.
 */
import { CONFIG_KEYS, flagOf } from '../core/config.js';
import { ConfigError } from '../core/errors.js';

/**
 * Flags that take no value. `--no-simulator` is the negation of `simulator`. The on/off
 * settings also take one with `=` (`--clickhouse-replicated=false`).
 */
const BOOLEAN_FLAGS: Record<string, [key: string, value: boolean]> = {
  '--no-simulator': ['simulator', false],
  '--simulator': ['simulator', true],
  '--clickhouse-replicated': ['clickhouse_replicated', true],
  '--clickhouse-distributed': ['clickhouse_distributed', true],
};

export interface ParsedArgs {
  command: string | undefined;
  flags: Record<string, unknown>;
  help: boolean;
}

export function parseArgs(argv: readonly string[], extraKeys: readonly string[] = []): ParsedArgs {
  const valued = new Map<string, string>();
  for (const key of [...CONFIG_KEYS, 'config', ...extraKeys]) valued.set(flagOf(key), key);
  const flags: Record<string, unknown> = {};
  let command: string | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('-')) {
      if (command === undefined) {
        command = arg;
        continue;
      }
      throw new ConfigError(`unexpected argument "${arg}"`, 'command line');
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const bool = BOOLEAN_FLAGS[name];
    if (bool && eq < 0) {
      flags[bool[0]] = bool[1];
      continue;
    }
    const key = valued.get(name);
    if (!key) throw new ConfigError(`unknown flag "${name}"`, 'command line');
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`flag "${name}" needs a value`, 'command line');
    flags[key] = value;
  }
  return { command, flags, help };
}
