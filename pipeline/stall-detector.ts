/**
 * Stall detection from NCCL per-rank collective records. Records of one call (job, seq) are
 * assembled by collective-calls.ts (shared with the alert rules); a call is decided when all
 * n_ranks arrived, or when the job's collective watermark (min over its ranks' latest end time)
 * passes the call's last end: since each rank writes its calls in order, a missing record can
 * then no longer come, and the call is judged on what arrived. Calls of a job are decided in seq
 * order so the learned baseline sees the same history on every replay, whatever the interleaving.
 *
 * duration = max(end) − min(start) over ranks; the baseline per (job, collective, msg_bytes) is
 * the rolling median of recent healthy calls after a warm-up; a stall is a call slower than
 * stallThreshold() (below).
 */
import type { CollectiveEvent, RankTiming } from '../core/records.js';
import { BASELINE_WARMUP_CALLS, RollingMedian, median } from './baseline.js';
import { CallAssembler, type AssemblingCall, type CollectiveCall } from './collective-calls.js';
import type { PlacementRegistry } from './placement.js';
import { Watermark } from './watermark.js';

/**
 * A call is stalled when it is slower than its baseline by the largest of three margins:
 * - STALL_MIN_RATIO: 5% — outside a healthy job's call-to-call jitter on a quiet fabric (well
 *   under 1%), yet it catches the 8-50% slowdowns that a starved scale-up port, a degraded link or
 *   an ECMP collision cause (a 1.5× bar missed all three on the bundled simulator);
 * - STALL_MIN_EXCESS_US: 1 ms, so tiny calls (tens of µs) do not page on scheduler noise;
 * - STALL_MAD_K robust deviations (MAD × 1.4826 ≈ σ), so a naturally noisy job (a few % jitter on
 *   a busy fabric) raises its own bar instead of paging on every call.
 */
export const STALL_MIN_RATIO = 1.05;
export const STALL_MIN_EXCESS_US = 1_000;
export const STALL_MAD_K = 6;
/** Arrival skew dominates when the last rank's late entry (beyond normal jitter) explains half the excess or more. */
export const ARRIVAL_SKEW_DOMINANT_SHARE = 0.5;
/** Progress is stated just short of a pending call's end (times are in ms, ends in whole µs). */
export const PROGRESS_EPSILON_MS = 0.001;
/** A rank silent for 10 s of event time while its peers go on is treated as gone (crashed or finished). */
export const RANK_IDLE_TIMEOUT_MS = 10_000;

/** A stalled call: its timing over the ranks (duration = last end − first start), and how it compares with the job's baseline. */
export interface DetectedStall extends CollectiveCall {
  id: string;
  expected_us: number;
  /** duration − expected. */
  excess_us: number;
  /** max(start) − min(start) over ranks. */
  start_skew_us: number;
  /** Rank that entered last and how late against the median entry... */
  last_rank: number;
  last_rank_lateness_us: number;
  /** ...and that lateness on the job's healthy calls (median), its normal entry jitter. */
  expected_skew_us: number;
  slowest_rank: number;
  ranks: RankTiming[];
  /** Ranks whose record never arrived (the call was decided on the watermark). */
  missing_ranks: number[];
  /** The job's node indexes at decision time. */
  nodes: number[];
}

interface JobState {
  lastDecidedSeq: number;
  watermark: Watermark;
  /** Ranks the job's records say it has, and when (event time) its first record was seen. */
  nRanks: number;
  firstMs: number;
}

export interface StallDetectorStats {
  calls_decided: number;
  calls_incomplete: number;
  stalls: number;
  late_events: number;
  pending_calls: number;
}

export class StallDetector {
  private readonly jobs = new Map<string, JobState>();
  private readonly calls = new CallAssembler();
  private readonly durations = new Map<string, RollingMedian>();
  private readonly skews = new Map<string, RollingMedian>();
  private readonly counters = { calls_decided: 0, calls_incomplete: 0, stalls: 0, late_events: 0 };
  /** Over every rank of every job: a finished job's ranks idle out instead of pinning it. */
  private readonly overall: Watermark;
  /** The stream ended (flush): every call seen is decided, so progress reaches the newest end seen. */
  private flushed = false;

  /** `idleAllowed`: whether a silent rank may be taken for gone now (nothing of the stream waits to be read). */
  constructor(
    private readonly placement: PlacementRegistry,
    private readonly idleAllowed?: () => boolean,
  ) {
    this.overall = new Watermark({ idleTimeoutMs: RANK_IDLE_TIMEOUT_MS, idleAllowed });
  }

  /** Adds events; returns the stalls among the calls this decided. */
  ingest(events: readonly CollectiveEvent[]): DetectedStall[] {
    this.placement.observe(events);
    const touched = new Set<string>();
    for (const e of events) {
      let job = this.jobs.get(e.job);
      if (!job) {
        job = {
          lastDecidedSeq: Number.NEGATIVE_INFINITY,
          watermark: new Watermark({ idleTimeoutMs: RANK_IDLE_TIMEOUT_MS, idleAllowed: this.idleAllowed }),
          nRanks: 0,
          firstMs: e.end_us / 1000,
        };
        this.jobs.set(e.job, job);
      }
      job.watermark.observe(String(e.rank), e.end_us / 1000);
      if (e.n_ranks > job.nRanks) job.nRanks = e.n_ranks;
      this.overall.observe(`${e.job}/${e.rank}`, e.end_us / 1000);
      touched.add(e.job);
      if (e.seq <= job.lastDecidedSeq) {
        this.counters.late_events++; // its call was already judged; the record is still stored by the sink
        continue;
      }
      this.calls.add(e);
    }
    const out: DetectedStall[] = [];
    for (const j of touched) out.push(...this.decideReady(j, false));
    return out;
  }

  /** End of stream: decides every pending call with what arrived. */
  flush(): DetectedStall[] {
    this.flushed = true;
    const out: DetectedStall[] = [];
    for (const j of [...this.jobs.keys()].sort()) out.push(...this.decideReady(j, true));
    return out;
  }

  /**
   * Every call of `job` ending at or before this time has been decided: the job's watermark,
   * short of the earliest call still waiting (its end so far is a lower bound of its end).
   * -Infinity until every rank of the job has been heard; after a flush, the newest end seen.
   */
  decidedThrough(jobId: string): number {
    const job = this.jobs.get(jobId);
    if (!job) return Number.NEGATIVE_INFINITY;
    const pending = this.calls.pending(jobId);
    if (this.flushed && pending.length === 0) return job.watermark.newestSeen; // end of stream: all decided
    if (!this.everyRankHeard(job)) return Number.NEGATIVE_INFINITY;
    let through = job.watermark.current();
    for (const call of pending) through = Math.min(through, call.endUs / 1000 - PROGRESS_EPSILON_MS);
    return through;
  }

  /** Jobs seen so far. */
  jobIds(): string[] {
    return [...this.jobs.keys()];
  }

  /** The newest collective event time every live rank of every job has passed. */
  watermark(): number {
    return this.overall.current();
  }

  stats(): StallDetectorStats {
    return { ...this.counters, pending_calls: this.calls.size };
  }

  private decideReady(jobId: string, force: boolean): DetectedStall[] {
    const job = this.jobs.get(jobId)!;
    // Until every rank has spoken (each rank's file is read on its own), the ranks heard so far
    // do not speak for the rest; a rank silent for the idle timeout from the start is gone.
    const wm = this.everyRankHeard(job) ? job.watermark.current() : Number.NEGATIVE_INFINITY;
    const out: DetectedStall[] = [];
    for (const call of this.calls.pending(jobId)) {
      const complete = call.complete;
      // In seq order: an undecidable call holds back the later ones of its job.
      if (!complete && !force && wm < call.endUs / 1000) break;
      this.calls.remove(call);
      job.lastDecidedSeq = call.seq;
      const stall = this.judge(call, complete);
      if (stall) out.push(stall);
    }
    return out;
  }

  private everyRankHeard(job: JobState): boolean {
    return job.watermark.sources >= job.nRanks || job.watermark.newestSeen - job.firstMs > RANK_IDLE_TIMEOUT_MS;
  }

  private judge(call: AssemblingCall, complete: boolean): DetectedStall | undefined {
    this.counters.calls_decided++;
    if (!complete) this.counters.calls_incomplete++;
    const events = call.events();
    const summary = call.summary();
    const { collective, msg_bytes, duration_us: duration } = summary;
    const maxStart = Math.max(...events.map((e) => e.start_us));
    const medianStart = median(events.map((e) => e.start_us))!;
    const lastEvent = events.reduce((a, b) => (b.start_us > a.start_us ? b : a));
    const lateness = lastEvent.start_us - medianStart;
    const key = `${call.job}|${collective}|${msg_bytes}`;
    let dur = this.durations.get(key);
    if (!dur) this.durations.set(key, (dur = new RollingMedian()));
    let sk = this.skews.get(key);
    if (!sk) this.skews.set(key, (sk = new RollingMedian()));

    const expected = dur.median();
    const judging = dur.count >= BASELINE_WARMUP_CALLS && expected !== undefined;
    const stalled = judging && duration > stallThreshold(expected, dur.mad() ?? 0);
    if (!stalled) {
      // Only complete calls teach: a call missing its slowest rank would look fast.
      if (complete) {
        dur.add(duration);
        sk.add(lateness);
      }
      return undefined;
    }
    this.counters.stalls++;

    const excess = duration - expected;
    const longestExec = events.reduce((a, b) => (b.exec_time_us > a.exec_time_us ? b : a));
    const expectedSkew = sk.median() ?? 0;
    const slowest = lateness - expectedSkew >= ARRIVAL_SKEW_DOMINANT_SHARE * excess ? lastEvent.rank : longestExec.rank;
    const ranks: RankTiming[] = events.map((e) => ({
      rank: e.rank,
      host: e.host,
      gpu: this.placement.locate(call.job, e.rank)?.gpuName ?? `${e.host}/gpu-?`,
      start_us: e.start_us,
      end_us: e.end_us,
      exec_time_us: e.exec_time_us,
    }));
    const missing: number[] = [];
    for (let r = 0; r < call.nRanks; r++) if (!call.byRank.has(r)) missing.push(r);
    return {
      id: `${call.job}:${call.seq}`,
      ...summary,
      expected_us: expected,
      excess_us: excess,
      start_skew_us: maxStart - call.startUs,
      expected_skew_us: expectedSkew,
      last_rank: lastEvent.rank,
      last_rank_lateness_us: lateness,
      slowest_rank: slowest,
      ranks,
      missing_ranks: missing,
      nodes: this.placement.nodes(call.job),
    };
  }
}

/** The duration above which a call with this baseline (median, MAD) is a stall. */
export function stallThreshold(expectedUs: number, madUs: number): number {
  return expectedUs + Math.max(STALL_MIN_EXCESS_US, (STALL_MIN_RATIO - 1) * expectedUs, STALL_MAD_K * 1.4826 * madUs);
}
