/**
 * Child processes of the bench, two shapes:
 * - `runMeasured`: a command that runs to its end; its exact CPU time comes from a wrapping
 *   shell's cutime/cstime after `wait` (the kernel's own account, including the last
 *   milliseconds, which polling /proc would miss), its peak memory from polling VmHWM.
 * - `LongRunning`: a server the bench talks to (fabricscope up, Prometheus, the emulated
 *   targets); its stderr/stdout lines are kept and can be awaited.
 * Every child is ended by its own pid, never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryOf, parseProcStat } from './proc-stat.js';

export interface MeasuredRun {
  code: number | null;
  timed_out: boolean;
  wall_s: number;
  /** CPU seconds (user + system) of the command; undefined if it was killed. */
  cpu_s: number | undefined;
  peak_rss_bytes: number | undefined;
  stdout: string;
  /** The last lines of stderr, for error messages. */
  stderr_tail: string;
}

// `"$@" &` then `wait`: the shell reaps the command, so its cutime/cstime are the command's CPU.
const WRAPPER = `"$@" & p=$!; echo $p > "$BENCH_PID_FILE"; trap 'kill $p 2>/dev/null' TERM; wait $p; rc=$?; wait $p 2>/dev/null; cat /proc/$$/stat > "$BENCH_STAT_FILE"; exit $rc`;

export async function runMeasured(
  command: string,
  args: readonly string[],
  options: { timeoutMs: number; env?: NodeJS.ProcessEnv; onStderrLine?: (line: string) => void },
): Promise<MeasuredRun> {
  const dir = mkdtempSync(join(tmpdir(), 'fabricscope-bench-run-'));
  const pidFile = join(dir, 'pid');
  const statFile = join(dir, 'stat');
  const started = process.hrtime.bigint();
  const child = spawn('sh', ['-c', WRAPPER, 'sh', command, ...args], {
    env: { ...process.env, ...options.env, BENCH_PID_FILE: pidFile, BENCH_STAT_FILE: statFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  const tail: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  forEachLine(child, 'stderr', (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    options.onStderrLine?.(line);
  });
  const commandPid = () => {
    try {
      return Number(readFileSync(pidFile, 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  let peak: number | undefined;
  const poll = setInterval(() => {
    const pid = commandPid();
    const mem = pid ? memoryOf(pid) : undefined;
    if (mem && Number.isFinite(mem.peak_rss_bytes)) peak = Math.max(peak ?? 0, mem.peak_rss_bytes);
  }, 250);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    // A command that ignores SIGTERM gets SIGKILL, by its own pid.
    setTimeout(() => {
      const pid = commandPid();
      if (pid && child.exitCode === null) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }, 5_000).unref();
  }, options.timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  clearInterval(poll);
  const wall_s = Number(process.hrtime.bigint() - started) / 1e9;
  let cpu_s: number | undefined;
  try {
    cpu_s = timedOut ? undefined : parseProcStat(readFileSync(statFile, 'utf8')).children_s;
  } catch {
    cpu_s = undefined;
  }
  rmSync(dir, { recursive: true, force: true });
  return { code, timed_out: timedOut, wall_s, cpu_s, peak_rss_bytes: peak, stdout, stderr_tail: tail.join('\n') };
}

export interface Line {
  text: string;
  /** Wall-clock time the bench read it (epoch ms). */
  at_ms: number;
}

/** A server child: its output lines are kept (bounded) and can be awaited. */
export class LongRunning {
  readonly pid: number;
  private readonly lines: Line[] = [];
  private readonly waiters = new Set<{ match: (l: Line) => boolean; resolve: (l: Line) => void }>();
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    if (child.pid === undefined) throw new Error(`${name} did not start`);
    this.pid = child.pid;
    const onLine = (text: string) => {
      const line = { text, at_ms: Date.now() };
      this.lines.push(line);
      if (this.lines.length > 5000) this.lines.splice(0, 1000);
      for (const w of this.waiters) {
        if (w.match(line)) {
          this.waiters.delete(w);
          w.resolve(line);
        }
      }
    };
    forEachLine(child, 'stdout', onLine);
    forEachLine(child, 'stderr', onLine);
    this.exited = new Promise((resolve) => child.once('close', (c) => resolve(c)));
  }

  static start(name: string, command: string, args: readonly string[], env?: NodeJS.ProcessEnv): LongRunning {
    return new LongRunning(name, spawn(command, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  /** Writes a line to the child's stdin (the targets child waits for "go"). */
  send(text: string): void {
    this.child.stdin!.write(text + '\n');
  }

  /** The first line (already seen or to come) that matches; rejects after `timeoutMs` or on exit. */
  waitForLine(match: (l: Line) => boolean, timeoutMs: number): Promise<Line> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (l: Line) => (clearTimeout(timer), resolve(l)) };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.name}: expected output did not come within ${timeoutMs} ms; last lines:\n${this.tail()}`));
      }, timeoutMs);
      this.waiters.add(waiter);
      this.exited.then((code) => {
        if (!this.waiters.delete(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (code ${code}); last lines:\n${this.tail()}`));
      });
    });
  }

  /** Every line kept so far that matches (the oldest may have been dropped past 5,000). */
  linesMatching(match: (l: Line) => boolean): Line[] {
    return this.lines.filter(match);
  }

  tail(n = 15): string {
    return this.lines.slice(-n).map((l) => l.text).join('\n');
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(killer);
  }
}

function forEachLine(child: ChildProcess, stream: 'stdout' | 'stderr', onLine: (line: string) => void): void {
  let buffered = '';
  child[stream]!.setEncoding('utf8').on('data', (d: string) => {
    buffered += d;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      onLine(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  });
}

/** A temporary directory for one benchmark's data, removed by the caller. */
export function benchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `fabricscope-bench-${prefix}-`));
}
