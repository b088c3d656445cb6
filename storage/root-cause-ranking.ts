/**
 * The top culprits computed in memory from the embedded stall index: the same answer as the
 * SQL aggregate (root-cause-query.ts), grouped, summed, ordered and rounded as it does, so a
 * request on embedded chDB costs no engine time (a miss cost ~15 ms of one-at-a-time chDB).
 */
import type { RootCauseKind } from '../core/names.js';
import type { Stall } from '../core/records.js';
import type { RootCauseSummary, TopRootCauses } from '../core/store.js';
import { MAX_JOBS_PER_CULPRIT, roundGpuSeconds } from './root-cause-query.js';
import { compareUtf8 } from './stall-index.js';

/** A stall as the index holds it: without its ranks, with how many there were. */
export interface RankedStall {
  stall: Stall;
  n_ranks: number;
}

interface Culprit {
  kind: string;
  location: string;
  stalls: number;
  /** Σ max(duration − expected, 0) × ranks in µs: an Int64 sum in SQL, exact here while safe. */
  lost_us: number;
  /** lost_us / 1e6 unrounded: what SQL sorts by (a Float64 division, the same in JS). */
  gpu_seconds_lost: number;
  jobs: Set<string>;
  first_ms: number;
  last_ms: number;
}

/** As the SQL arraySort keys: the figure descending, the other figure descending, kind, location (bytes). */
const byName = (a: Culprit, b: Culprit): number => compareUtf8(a.kind, b.kind) || compareUtf8(a.location, b.location);
const byStalls = (a: Culprit, b: Culprit): number =>
  b.stalls - a.stalls || b.gpu_seconds_lost - a.gpu_seconds_lost || byName(a, b);
const byGpuSecondsLost = (a: Culprit, b: Culprit): number =>
  b.gpu_seconds_lost - a.gpu_seconds_lost || b.stalls - a.stalls || byName(a, b);

/**
 * Both rankings of `stalls` (already those in the window and of the job), each cut to `limit`;
 * undefined when a figure would not be exact in a double (a µs sum past 2^53), where the SQL
 * aggregate's Int64 sum must answer.
 */
export function rankRootCauses(stalls: Iterable<RankedStall>, limit: number): TopRootCauses | undefined {
  const culprits = new Map<string, Map<string, Culprit>>();
  for (const { stall, n_ranks } of stalls) {
    const { kind, location } = stall.root_cause;
    // greatest(toInt64(duration_us) - toInt64(expected_us), 0) * n_ranks
    const excess = Math.max(stall.duration_us - stall.expected_us, 0) * n_ranks;
    if (!Number.isSafeInteger(excess) || !Number.isSafeInteger(stall.duration_us) || !Number.isSafeInteger(stall.expected_us)) return undefined;
    let atKind = culprits.get(kind);
    if (!atKind) culprits.set(kind, (atKind = new Map()));
    const c = atKind.get(location);
    if (!c) {
      atKind.set(location, {
        kind,
        location,
        stalls: 1,
        lost_us: excess,
        gpu_seconds_lost: 0,
        jobs: new Set([stall.job]),
        first_ms: stall.start_ms,
        last_ms: stall.start_ms,
      });
      continue;
    }
    c.stalls++;
    c.lost_us += excess;
    if (!Number.isSafeInteger(c.lost_us)) return undefined;
    c.jobs.add(stall.job);
    if (stall.start_ms < c.first_ms) c.first_ms = stall.start_ms;
    if (stall.start_ms > c.last_ms) c.last_ms = stall.start_ms;
  }
  const all: Culprit[] = [];
  for (const atKind of culprits.values()) {
    for (const c of atKind.values()) {
      c.gpu_seconds_lost = c.lost_us / 1e6;
      all.push(c);
    }
  }
  return {
    by_stalls: topOf(all, byStalls, limit),
    by_gpu_seconds_lost: topOf(all, byGpuSecondsLost, limit),
  };
}

function topOf(all: readonly Culprit[], order: (a: Culprit, b: Culprit) => number, limit: number): RootCauseSummary[] {
  return [...all].sort(order).slice(0, limit).map(summaryOf);
}

function summaryOf(c: Culprit): RootCauseSummary {
  return {
    kind: c.kind as RootCauseKind,
    location: c.location,
    stalls: c.stalls,
    gpu_seconds_lost: roundGpuSeconds(c.gpu_seconds_lost),
    // SQL keeps the first 16 in byte order; the store then lists them in JS string order.
    jobs: [...c.jobs].sort(compareUtf8).slice(0, MAX_JOBS_PER_CULPRIT).sort(),
    first_ms: c.first_ms,
    last_ms: c.last_ms,
  };
}
