/**
 * The alerting stage's event-time clock: the slowest of its input streams' watermarks (switch
 * samples, NCCL records), so an evaluation at T sees every record stamped up to T. A stream that
 * falls silent while the others go on (the job ended; a site without switch telemetry stops
 * being one) stops holding the clock back once it trails the newest by `idleStreamMs`.
 *
 * Silence counts only when the stream's subscription has nothing waiting (`waiting`, from the
 * bus): a stream being replayed after a takeover, or lagging on some partitions, holds the
 * clock instead of being skipped, and a stream not heard from yet holds it while the bus
 * still has some of it to hand over.
 *
 * Stalls have no regular records to carry time: correlators publish each job's progress
 * (core/records.ts StallProgress) after its stalls, and a job still sending calls caps the
 * clock at its progress, so a tick is judged only once its stalls are all in, however far the
 * correlator lags (after a takeover it replays the job first). A job whose progress never came
 * (no correlator runs) stops capping after STALL_PROGRESS_ABSENT_MS of its calls.
 */
import { Watermark } from '../pipeline/watermark.js';

/** Same idle rules as the pipeline's own watermarks. */
const PORT_SOURCE_IDLE_MS = 5_000;
const RANK_IDLE_MS = 10_000;
export const IDLE_STREAM_MS = 10_000;
/** Calls of a job seen for this long (event time) without any stall progress: nothing will come. */
export const STALL_PROGRESS_ABSENT_MS = 30_000;

export type ClockStream = 'port' | 'collective';

interface JobCalls {
  firstMs: number;
  newestMs: number;
  /** Latest call end per rank. */
  ranks: Map<number, number>;
}

/** Whether the bus may still hold records of a stream for this stage; never, when absent. */
export type StreamWaiting = (stream: ClockStream) => boolean;

export class EventClock {
  readonly port: Watermark;
  readonly collective: Watermark;
  private readonly jobs = new Map<string, JobCalls>();
  private readonly stallsThrough = new Map<string, number>();

  constructor(private readonly waiting: StreamWaiting = () => false) {
    this.port = new Watermark({ idleTimeoutMs: PORT_SOURCE_IDLE_MS, idleAllowed: () => !waiting('port') });
    this.collective = new Watermark({ idleTimeoutMs: RANK_IDLE_MS, idleAllowed: () => !waiting('collective') });
  }

  observeCall(job: string, rank: number, endMs: number): void {
    this.collective.observe(`${job}/${rank}`, endMs);
    let calls = this.jobs.get(job);
    if (!calls) this.jobs.set(job, (calls = { firstMs: endMs, newestMs: endMs, ranks: new Map() }));
    if (endMs > calls.newestMs) calls.newestMs = endMs;
    if (endMs > (calls.ranks.get(rank) ?? Number.NEGATIVE_INFINITY)) calls.ranks.set(rank, endMs);
  }

  /**
   * Whether every job's stall progress has reached the calls seen of it (each rank's last):
   * at the end of a stream, once the correlators have decided everything, all their stalls are in.
   */
  stallsCaughtUp(): boolean {
    for (const [job, calls] of this.jobs) {
      const lastOfAll = Math.min(...calls.ranks.values());
      if ((this.stallsThrough.get(job) ?? Number.NEGATIVE_INFINITY) < lastOfAll) return false;
    }
    return true;
  }

  observeStallProgress(job: string, throughMs: number): void {
    if (throughMs > (this.stallsThrough.get(job) ?? Number.NEGATIVE_INFINITY)) this.stallsThrough.set(job, throughMs);
  }

  /**
   * Up to when rules may judge: `settleMs` behind the telemetry clock (slack for records of a
   * stream not heard from yet, and for stalls of a job no correlator vouches for), and no
   * further than the stall progress of the jobs still sending calls.
   */
  current(settleMs = 0): number {
    return Math.min(this.telemetry() - settleMs, this.stallsClock());
  }

  /** Forgets jobs whose last call ended before `ms`: they hold nothing back any more. */
  forgetJobsBefore(ms: number): void {
    for (const [job, calls] of this.jobs) {
      if (calls.newestMs >= ms) continue;
      this.jobs.delete(job);
      this.stallsThrough.delete(job);
    }
  }

  /** Every telemetry stream has passed this time; -Infinity before any record, or while a stream not heard from yet is waiting. */
  telemetry(): number {
    const streams = this.streams();
    if (streams.some((s) => !s.mark.seen && this.waiting(s.name))) return Number.NEGATIVE_INFINITY;
    const marks = streams.filter((s) => s.mark.seen).map((s) => ({ name: s.name, at: s.mark.current() }));
    if (marks.length === 0 || marks.some((m) => !Number.isFinite(m.at))) return Number.NEGATIVE_INFINITY;
    const newest = Math.max(...marks.map((m) => m.at));
    return Math.min(...marks.filter((m) => m.at >= newest - IDLE_STREAM_MS || this.waiting(m.name)).map((m) => m.at));
  }

  /** The least stall progress over the jobs still sending calls. */
  private stallsClock(): number {
    let through = Number.POSITIVE_INFINITY;
    const idleBefore = this.waiting('collective') ? Number.NEGATIVE_INFINITY : this.collective.newestSeen - RANK_IDLE_MS;
    for (const [job, calls] of this.jobs) {
      if (calls.newestMs < idleBefore) continue; // the job ended: its progress stopped with it
      const progress = this.stallsThrough.get(job);
      if (progress === undefined && calls.newestMs - calls.firstMs > STALL_PROGRESS_ABSENT_MS) continue; // nobody vouches: settle only
      through = Math.min(through, progress ?? Number.NEGATIVE_INFINITY);
    }
    return through;
  }

  /** The newest any stream has reached: what end-of-stream evaluation runs up to. */
  newest(): number {
    const marks = this.streams()
      .filter((s) => s.mark.seen)
      .map((s) => s.mark.current())
      .filter(Number.isFinite);
    return marks.length === 0 ? Number.NEGATIVE_INFINITY : Math.max(...marks);
  }

  private streams(): Array<{ name: ClockStream; mark: Watermark }> {
    return [
      { name: 'port', mark: this.port },
      { name: 'collective', mark: this.collective },
    ];
  }
}
