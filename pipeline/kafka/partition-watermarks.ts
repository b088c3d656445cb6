/**
 * Event time across partitions. Each partition's watermark is the largest event time it has
 * delivered (records within one partition come from one source, in order); a group's
 * watermark is the smallest over the partitions it holds, so it never runs ahead of a slow
 * partition. Partitions idle for longer than `idleMs` of wall time stop holding it back.
 *
 * Late-data policy: the bus never drops a record for being late. A record older than its
 * partition's watermark by more than `allowedLatenessMs` is counted as late and delivered
 * anyway: the sink stores it; the analysis stages apply their own per-source watermarks
 * (pipeline/watermark.ts), skip it for attribution and count it in their `late` stats.
 */
export interface PartitionWatermarkStats {
  /** Smallest watermark over the active partitions (epoch ms), null before any record. */
  watermark_ms: number | null;
  late: number;
}

export class PartitionWatermarks {
  private readonly marks = new Map<number, { eventMs: number; seenAt: number }>();
  private late = 0;

  constructor(
    private readonly allowedLatenessMs = 5_000,
    private readonly idleMs = 30_000,
  ) {}

  observe(partition: number, eventMs: number, now = Date.now()): void {
    if (!Number.isFinite(eventMs)) return;
    const mark = this.marks.get(partition);
    if (!mark) {
      this.marks.set(partition, { eventMs, seenAt: now });
      return;
    }
    if (eventMs < mark.eventMs - this.allowedLatenessMs) this.late++;
    if (eventMs > mark.eventMs) mark.eventMs = eventMs;
    mark.seenAt = now;
  }

  /** Forgets partitions handed to another process in a rebalance. */
  retain(partitions: Iterable<number>): void {
    const keep = new Set(partitions);
    for (const p of this.marks.keys()) if (!keep.has(p)) this.marks.delete(p);
  }

  current(now = Date.now()): number | null {
    let min = Infinity;
    for (const mark of this.marks.values()) {
      if (now - mark.seenAt > this.idleMs) continue;
      if (mark.eventMs < min) min = mark.eventMs;
    }
    return Number.isFinite(min) ? min : null;
  }

  stats(): PartitionWatermarkStats {
    return { watermark_ms: this.current(), late: this.late };
  }
}
