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

export interface Service {
  child: ChildProcess;
  /** URLs announced in log lines, by the `msg` that announced them. */
  urls: Record<string, string>;
  stderr(): string;
  stop(): Promise<number | null>;
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
    const service: Service = {
      child,
      urls,
      stderr: () => stderr,
      stop: () =>
        new Promise((done) => {
          if (child.exitCode !== null) return done(child.exitCode);
          child.once('close', (code) => done(code));
          child.kill('SIGTERM');
        }),
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fabricscope ${args.join(' ')} not ready within ${timeoutMs} ms\n${stderr.slice(-4000)}`));
    }, timeoutMs);
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg && entry.url) urls[entry.msg] = entry.url;
        } catch {
          // not a log line
        }
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
