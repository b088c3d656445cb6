/**
 * CPU time and memory of a process from /proc (Linux), the one measure that works the same for
 * Prometheus (a Go binary) and for fabricscope (a Node process): no cooperation from either.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of the /proc/<pid>/stat times (USER_HZ, almost always 100). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface CpuTimes {
  /** utime + stime of the process itself, seconds. */
  self_s: number;
  /** cutime + cstime: CPU of children it has waited for, seconds. */
  children_s: number;
}

/** Parses the text of /proc/<pid>/stat (the command name may contain spaces and parentheses). */
export function parseProcStat(text: string): CpuTimes {
  // Fields after the last ')' start at field 3 (state); utime is field 14, so index 11 here.
  const fields = text.slice(text.lastIndexOf(')') + 2).trim().split(/\s+/).map(Number);
  const [utime, stime, cutime, cstime] = [fields[11]!, fields[12]!, fields[13]!, fields[14]!];
  return { self_s: (utime + stime) / CLK_TCK, children_s: (cutime + cstime) / CLK_TCK };
}

/** CPU seconds used so far by a live process, or undefined once it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).self_s;
  } catch {
    return undefined;
  }
}

/** Resident memory now and its peak (VmRSS, VmHWM), bytes; undefined once the process is gone. */
export function memoryOf(pid: number): { rss_bytes: number; peak_rss_bytes: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss_bytes: kb('VmRSS'), peak_rss_bytes: kb('VmHWM') };
  } catch {
    return undefined;
  }
}
