/**
 * The event-time data the rules read, kept for the longest look-back any rule needs: port
 * samples per port, complete collective calls per job, and attributed stalls. Records are
 * indexed by their own timestamps, so what a rule sees at evaluation time T does not depend on
 * the order in which the bus delivered them.
 */
import type { CollectiveEvent, PortSample, Stall } from '../core/records.js';
import type { Topology } from '../core/topology.js';
import { RecentSamples } from '../pipeline/recent-samples.js';
import { CompletedCalls } from './completed-calls.js';

/**
 * Stalls are few and name the root cause of alerts that may stay up for long, so they are kept
 * longer than the rules' windows.
 */
export const STALL_RETENTION_MS = 10 * 60_000;

export class AlertInputs {
  readonly ports: RecentSamples<PortSample>;
  readonly calls = new CompletedCalls();
  /** Stalls sorted by (end, id). */
  private stallList: Stall[] = [];

  constructor(
    /** Look-back kept behind the evaluation time. */
    private readonly retentionMs: number,
    readonly topology?: Topology,
  ) {
    this.ports = new RecentSamples<PortSample>((s) => s.ts_ms, retentionMs);
  }

  addPortSamples(samples: readonly PortSample[]): void {
    for (const s of samples) this.ports.add(s.port, s);
  }

  addCollectiveEvents(events: readonly CollectiveEvent[]): void {
    this.calls.add(events);
  }

  addStalls(stalls: readonly Stall[]): void {
    for (const s of stalls) {
      let i = this.stallList.length;
      while (i > 0 && compareStalls(this.stallList[i - 1]!, s) > 0) i--;
      if (this.stallList[i - 1]?.id === s.id) continue; // redelivered
      this.stallList.splice(i, 0, s);
    }
  }

  /** Stalls ending in (from, to], in (end, id) order. */
  stalls(from: number, to: number): Stall[] {
    return this.stallList.filter((s) => s.end_ms > from && s.end_ms <= to);
  }

  portNames(): string[] {
    return [...this.ports.keys()].sort();
  }

  /** Drops what no rule can look at any more once evaluation has reached `evaluatedMs`. */
  prune(evaluatedMs: number): void {
    const cutoff = evaluatedMs - this.retentionMs;
    this.ports.prune(evaluatedMs);
    this.calls.prune(cutoff);
    let n = 0;
    const stallCutoff = evaluatedMs - Math.max(this.retentionMs, STALL_RETENTION_MS);
    while (n < this.stallList.length && this.stallList[n]!.end_ms < stallCutoff) n++;
    if (n > 0) this.stallList.splice(0, n);
  }
}

function compareStalls(a: Stall, b: Stall): number {
  return a.end_ms - b.end_ms || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
