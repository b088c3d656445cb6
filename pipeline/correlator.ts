/**
 * Holds each detected stall until the telemetry of its window is in — the port watermark past
 * the stall's end plus two switch intervals, the GPU watermark past its end (every GPU has shown
 * its first scrape after the stall) — then attributes it (root-cause.ts) and hands it back for publishing.
 * Attribution only reads samples inside the window, and the watermarks guarantee those have all
 * arrived (late data excepted, by policy), so the verdict does not depend on how the sources
 * were interleaved or how fast the scenario was replayed.
 *
 * A source kind that has never been seen (a site without DCGM, or NCCL-only replay) is waited
 * for up to ABSENT_SOURCE_TIMEOUT_MS of collective event time, then the stall is judged without it.
 */
import type { GpuSample, PortSample, Stall } from '../core/records.js';
import type { Topology } from '../core/topology.js';
import type { EpisodeTracker } from './congestion-episodes.js';
import type { RecentSamples } from './recent-samples.js';
import { NORMAL_LOOKBACK_MS } from './port-normals.js';
import { attribute } from './root-cause.js';
import { PROGRESS_EPSILON_MS, type DetectedStall } from './stall-detector.js';
import type { Watermark } from './watermark.js';

/**
 * The port watermark must pass the stall's end by two switch intervals: the sample covering the
 * end (stamped at its interval's end) plus one of slack.
 */
export const PORT_GRACE_INTERVALS = 2;
/** Switch intervals either side of a stall in which a signal must persist (never more than the grace above). */
export const CONTEXT_INTERVALS = PORT_GRACE_INTERVALS;
/** Switch interval assumed until samples tell (DESIGN.md default). */
export const DEFAULT_SWITCH_INTERVAL_MS = 100;
/**
 * One DCGM scrape interval either side: a short stall falls between two ~1 s scrapes. After the
 * stall only each GPU's first scrape within it is read, so the stall is judged as soon as every
 * GPU has been scraped once after its end, not a whole interval later.
 */
export const GPU_LOOKAROUND_MS = 1_000;
/** How long (collective event time) to wait for a source kind that has never spoken. */
export const ABSENT_SOURCE_TIMEOUT_MS = 30_000;
/** Stalls held at most; beyond, the oldest are judged early rather than growing memory. */
export const MAX_PENDING_STALLS = 10_000;

export interface CorrelatorDeps {
  topology: Topology;
  episodes: EpisodeTracker;
  portHistory: RecentSamples<PortSample>;
  gpuHistory: RecentSamples<GpuSample>;
  portWatermark: Watermark;
  gpuWatermark: Watermark;
  collectiveWatermark: () => number;
  /** Longest switch sample interval seen (ms), 0 before any. */
  switchIntervalMs: () => number;
}

/**
 * Time spans in which a job was stalled, in end order. A port's normal is learned from the job's
 * healthy time only, as the stall baseline learns from healthy calls: a fault that has slowed the
 * job for a while must not become the normal that hides it (a 6 s ECMP collision did, once it
 * filled half the look-back). Only the job's own stalls are used: they are decided in end order,
 * so the spans known when a stall is decided do not depend on how the streams interleaved.
 */
class StalledSpans {
  private readonly byJob = new Map<string, Array<[number, number]>>();

  add(job: string, start: number, end: number): void {
    let spans = this.byJob.get(job);
    if (!spans) this.byJob.set(job, (spans = []));
    let i = spans.length;
    while (i > 0 && spans[i - 1]![1] > end) i--;
    spans.splice(i, 0, [start, end]);
  }

  /** Samples (sorted by time) whose interval (ts − interval_ms, ts] overlaps none of the job's stalls. */
  healthy(job: string, samples: readonly PortSample[]): PortSample[] {
    const spans = this.byJob.get(job);
    if (!spans || spans.length === 0) return [...samples];
    return samples.filter((x) => !overlapsAny(spans, x.ts_ms - x.interval_ms, x.ts_ms));
  }

  prune(before: number): void {
    for (const [job, spans] of this.byJob) {
      let n = 0;
      while (n < spans.length && spans[n]![1] < before) n++;
      if (n > 0) spans.splice(0, n);
      if (spans.length === 0) this.byJob.delete(job);
    }
  }
}

/** Whether (from, to] overlaps a span of `spans` (sorted by end): the first span ending after `from` decides. */
function overlapsAny(spans: ReadonlyArray<[number, number]>, from: number, to: number): boolean {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid]![1] <= from) lo = mid + 1;
    else hi = mid;
  }
  // A job's calls run one after another, so its spans start in the order they end.
  return lo < spans.length && spans[lo]![0] < to;
}

export class Correlator {
  private pending: DetectedStall[] = [];
  private readonly stalledSpans = new StalledSpans();
  private readonly byKind = new Map<string, number>();
  private decidedEarly = 0;

  constructor(private readonly deps: CorrelatorDeps) {}

  hold(stalls: readonly DetectedStall[]): void {
    this.pending.push(...stalls);
  }

  /** Attributes every held stall whose evidence is in; `force` (end of stream) takes them all. */
  release(force = false): Stall[] {
    const portWm = this.deps.portWatermark.current();
    const gpuWm = this.deps.gpuWatermark.current();
    const collWm = this.deps.collectiveWatermark();
    const portGrace = PORT_GRACE_INTERVALS * this.switchInterval();
    const overflow = Math.max(0, this.pending.length - MAX_PENDING_STALLS);
    const ready: DetectedStall[] = [];
    const keep: DetectedStall[] = [];
    this.pending.sort((a, b) => a.end_ms - b.end_ms || a.id.localeCompare(b.id));
    this.pending.forEach((s, i) => {
      const inReady =
        force ||
        i < overflow ||
        // GPUs: the watermark strictly past the end, so each GPU's first scrape after it is in.
        (this.sourceReady(this.deps.portWatermark.seen, portWm >= s.end_ms + portGrace, collWm, s.end_ms) &&
          this.sourceReady(this.deps.gpuWatermark.seen, gpuWm > s.end_ms, collWm, s.end_ms));
      (inReady ? ready : keep).push(s);
    });
    this.decidedEarly += overflow;
    this.pending = keep;
    const out = ready.map((s) => this.decide(s));
    // History is pruned behind the slower of the streams that exist.
    const live = [this.deps.portWatermark.seen ? portWm : undefined, this.deps.gpuWatermark.seen ? gpuWm : undefined].filter(
      (w): w is number => w !== undefined,
    );
    if (live.length > 0) this.prune(Math.min(...live));
    return out;
  }

  /**
   * Per job with stalls still held, how far its released stalls reach: just short of the
   * earliest held one. One pass over what is held, whatever the number of jobs.
   */
  releasedBefore(): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.pending) {
      const before = s.end_ms - PROGRESS_EPSILON_MS;
      if (before < (out.get(s.job) ?? Number.POSITIVE_INFINITY)) out.set(s.job, before);
    }
    return out;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  stats(): { pending: number; decided_early: number; by_kind: Record<string, number> } {
    return { pending: this.pending.length, decided_early: this.decidedEarly, by_kind: Object.fromEntries([...this.byKind].sort()) };
  }

  private switchInterval(): number {
    return this.deps.switchIntervalMs() || DEFAULT_SWITCH_INTERVAL_MS;
  }

  private sourceReady(seen: boolean, watermarkPassed: boolean, collWm: number, stallEnd: number): boolean {
    if (seen) return watermarkPassed;
    return collWm >= stallEnd + ABSENT_SOURCE_TIMEOUT_MS;
  }

  private decide(s: DetectedStall): Stall {
    const { topology, portHistory, gpuHistory, episodes } = this.deps;
    const root_cause = attribute({
      stall: s,
      topology,
      // Samples whose interval (ts − interval_ms, ts] overlaps the call: what the ports did while it ran.
      portSamples: (port) =>
        portHistory.window(port, s.start_ms, s.end_ms + this.switchInterval()).filter((x) => x.ts_ms - x.interval_ms < s.end_ms),
      // Persistence is judged over the window plus two intervals either side (all in: the port
      // watermark passed end + PORT_GRACE_INTERVALS intervals before release).
      portContext: (port) => portHistory.window(port, s.start_ms - CONTEXT_INTERVALS * this.switchInterval(), s.end_ms + CONTEXT_INTERVALS * this.switchInterval()),
      // The port's normal: its samples before the stall's context, while the job was not stalled.
      portHistory: (port) =>
        this.stalledSpans.healthy(s.job, portHistory.window(port, s.start_ms - NORMAL_LOOKBACK_MS, s.start_ms - CONTEXT_INTERVALS * this.switchInterval())),
      gpuSamples: (gpu) => gpuHistory.windowThroughNext(gpu, s.start_ms - GPU_LOOKAROUND_MS, s.end_ms, s.end_ms + GPU_LOOKAROUND_MS),
      episodeAt: (port, ts) => episodes.episodeAt(port, ts)?.id,
    });
    this.byKind.set(root_cause.kind, (this.byKind.get(root_cause.kind) ?? 0) + 1);
    this.stalledSpans.add(s.job, s.start_ms, s.end_ms);
    return {
      id: s.id,
      job: s.job,
      collective: s.collective,
      seq: s.seq,
      start_ms: s.start_ms,
      end_ms: s.end_ms,
      duration_us: s.duration_us,
      expected_us: s.expected_us,
      slowest_rank: s.slowest_rank,
      ranks: s.ranks,
      root_cause,
    };
  }

  /** Drops history no held stall can still need. */
  private prune(watermark: number): void {
    if (watermark === Number.NEGATIVE_INFINITY) return;
    const oldest = this.pending.reduce((m, s) => Math.min(m, s.start_ms - GPU_LOOKAROUND_MS), Number.POSITIVE_INFINITY);
    const wm = Math.min(watermark, oldest);
    this.deps.portHistory.prune(wm);
    this.deps.gpuHistory.prune(wm);
    // As long as the port samples they mark: a stall detected behind the port watermark still
    // learns its normals from the same healthy samples, however far the streams drifted apart.
    this.stalledSpans.prune(wm - this.deps.portHistory.retentionMs);
  }
}
