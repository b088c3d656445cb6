/**
 * Test harness: runs the built `fabricscope` command as a real child process and finds the
 * addresses it listens on from its structured log lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(REPO_ROOT, 'dist', 'cli', 'fabricscope.js');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `fabricscope-${prefix}-`));
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion. */
export function runCli(args: string[], timeoutMs = 240_000): Promise<Finished> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fabricscope ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stderr.slice(-4000)}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** One structured log line of the CLI. */
export type LogEntry = Record<string, unknown> & { msg?: string; url?: string };

export interface Service {
  child: ChildProcess;
  /** URLs announced in log lines, by the `msg` that announced them. */
  urls: Record<string, string>;
  stderr(): string;
  /** SIGTERM, then the exit code once it has exited. */
  stop(): Promise<number | null>;
  /** SIGKILL (a crash), resolved once the process is gone. */
  kill(): Promise<void>;
  /** Every structured log line so far. */
  logs(): readonly LogEntry[];
  /** The first log line (already logged or to come) that `match` accepts. */
  waitForLog(match: (entry: LogEntry) => boolean, timeoutMs?: number): Promise<LogEntry>;
}

/**
 * Starts a long-running command (`up`, `serve`) and waits until it has logged a line with
 * `msg` = each of `waitFor` and a `url` field.
 */
export function startCli(args: string[], waitFor: string[], timeoutMs = 120_000): Promise<Service> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let pending = '';
    const urls: Record<string, string> = {};
    const entries: LogEntry[] = [];
    const watchers = new Set<(entry: LogEntry) => void>();
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    const service: Service = {
      child,
      urls,
      stderr: () => stderr,
      logs: () => entries,
      stop: () =>
        new Promise((done) => {
          if (exited()) return done(child.exitCode);
          child.once('close', (code) => done(code));
          child.kill('SIGTERM');
        }),
      kill: () =>
        new Promise((done) => {
          if (exited()) return done();
          child.once('close', () => done());
          child.kill('SIGKILL');
        }),
      waitForLog: (match, waitMs = 120_000) =>
        new Promise((found, fail) => {
          const seen = entries.find(match);
          if (seen) return found(seen);
          const timer = setTimeout(() => {
            watchers.delete(watch);
            fail(new Error(`fabricscope ${args[0]} logged no matching line within ${waitMs} ms\n${stderr.slice(-3000)}`));
          }, waitMs);
          const watch = (entry: LogEntry) => {
            if (!match(entry)) return;
            clearTimeout(timer);
            watchers.delete(watch);
            found(entry);
          };
          watchers.add(watch);
        }),
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fabricscope ${args.join(' ')} not ready within ${timeoutMs} ms\n${stderr.slice(-4000)}`));
    }, timeoutMs);
    child.stdout.resume();
    if (waitFor.length === 0) setImmediate(() => {
      clearTimeout(timer);
      resolvePromise(service);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        let entry: LogEntry;
        try {
          entry = JSON.parse(line) as LogEntry;
        } catch {
          continue; // not a log line
        }
        if (entry.msg && entry.url) urls[entry.msg] = entry.url;
        entries.push(entry);
        for (const watch of [...watchers]) watch(entry);
      }
      if (waitFor.every((m) => urls[m])) {
        clearTimeout(timer);
        resolvePromise(service);
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`fabricscope ${args.join(' ')} exited with ${code}\n${stderr.slice(-4000)}`));
    });
  });
}
