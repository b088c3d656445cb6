/**
 * The alerting stage's event-time clock: the slowest of its input streams' watermarks (switch
 * samples, NCCL records), so an evaluation at T sees every record stamped up to T. A stream that
 * falls silent while the others go on (the job ended; a site without switch telemetry stops
 * being one) stops holding the clock back once it trails the newest by `idleStreamMs`.
 */
import { Watermark } from '../pipeline/watermark.js';

/** Same idle rules as the pipeline's own watermarks. */
const PORT_SOURCE_IDLE_MS = 5_000;
const RANK_IDLE_MS = 10_000;
export const IDLE_STREAM_MS = 10_000;

export class EventClock {
  readonly port = new Watermark({ idleTimeoutMs: PORT_SOURCE_IDLE_MS });
  readonly collective = new Watermark({ idleTimeoutMs: RANK_IDLE_MS });

  /** Every stream has passed this time; -Infinity before any record. */
  current(): number {
    const marks = this.marks();
    if (marks.length === 0) return Number.NEGATIVE_INFINITY;
    const newest = Math.max(...marks);
    return Math.min(...marks.filter((m) => m >= newest - IDLE_STREAM_MS));
  }

  /** The newest any stream has reached: what end-of-stream evaluation runs up to. */
  newest(): number {
    const marks = this.marks();
    return marks.length === 0 ? Number.NEGATIVE_INFINITY : Math.max(...marks);
  }

  private marks(): number[] {
    return [this.port, this.collective].filter((w) => w.seen).map((w) => w.current()).filter(Number.isFinite);
  }
}
