/**
 * One played `examples/incast-and-straggler.yaml` shared by the dashboard tests: the first
 * test process to ask plays it with `fabricscope run --speed max` (a minute of work) into a
 * cache folder keyed by the scenario and the build, the others wait for it. Each test then
 * works on its own copy, since chDB binds a data directory to one process.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runCli, tempDir } from '../harness/cli-process.js';

export const SCENARIO = join(REPO_ROOT, 'examples', 'incast-and-straggler.yaml');
const COMPLETE = '.complete';
const STALE_LOCK_MS = 5 * 60_000;

/** Newest build output of the parts that produce the data: a rebuild invalidates the cache. */
function buildStamp(): number {
  let newest = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.js')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const part of ['core', 'simulator', 'collectors', 'pipeline', 'storage', 'cli']) {
    const dir = join(REPO_ROOT, 'dist', part);
    if (existsSync(dir)) walk(dir);
  }
  return newest;
}

async function cachedPlay(): Promise<string> {
  const key = createHash('sha256').update(readFileSync(SCENARIO)).update(String(buildStamp())).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'fabricscope-played', key);
  const lock = `${dir}.lock`;
  mkdirSync(join(tmpdir(), 'fabricscope-played'), { recursive: true });
  for (const deadline = Date.now() + 4 * 60_000; Date.now() < deadline; ) {
    if (existsSync(join(dir, COMPLETE))) return dir;
    try {
      mkdirSync(lock);
    } catch {
      // Another process is playing it; a lock left by a killed process goes stale.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      rmSync(dir, { recursive: true, force: true });
      const run = await runCli(['run', '--scenario', SCENARIO, '--speed', 'max', '--data', dir, '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--log-level', 'warn']);
      if (run.code !== 0) throw new Error(`fabricscope run failed (${run.code}):\n${run.stderr.slice(-3000)}`);
      writeFileSync(join(dir, 'summary.json'), run.stdout);
      writeFileSync(join(dir, COMPLETE), '');
      return dir;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  throw new Error('timed out waiting for another test process to play the scenario');
}

/** A private copy of the played scenario's data directory. */
export async function playedScenarioCopy(prefix: string): Promise<string> {
  const source = await cachedPlay();
  const copy = tempDir(prefix);
  cpSync(source, copy, { recursive: true, filter: (src) => !src.endsWith(COMPLETE) });
  return copy;
}
