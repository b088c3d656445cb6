/**
 * Job placement learned from collective events. NCCL records name the host and the rank but
 * not the GPU, so the local GPU is inferred by the convention of core/collective-routing.ts
 * (placeRanks): a host's ranks of one job take its GPUs 0, 1, … in rank order.
 */
import type { CollectiveEvent } from '../core/records.js';
import { gpuName, parseName } from '../core/names.js';

export interface RankLocation {
  rank: number;
  host: string;
  /** Node index when the host follows `node-<n>`; undefined for foreign host names. */
  node?: number;
  gpu: number;
  /** `node-<n>/gpu-<g>` (or `<host>/gpu-<g>` for foreign host names). */
  gpuName: string;
}

interface JobPlacement {
  nRanks: number;
  hostOf: Map<number, string>;
  /** rank → local GPU, rebuilt when a new rank shows up (positions shift until all are seen). */
  gpuOf?: Map<number, number>;
}

export class PlacementRegistry {
  private readonly jobs = new Map<string, JobPlacement>();

  observe(events: readonly CollectiveEvent[]): void {
    for (const e of events) {
      let job = this.jobs.get(e.job);
      if (!job) this.jobs.set(e.job, (job = { nRanks: e.n_ranks, hostOf: new Map() }));
      job.nRanks = Math.max(job.nRanks, e.n_ranks);
      if (job.hostOf.get(e.rank) !== e.host) {
        job.hostOf.set(e.rank, e.host);
        job.gpuOf = undefined;
      }
    }
  }

  jobIds(): string[] {
    return [...this.jobs.keys()].sort();
  }

  /** Where a rank runs, or undefined if the rank was never seen. */
  locate(job: string, rank: number): RankLocation | undefined {
    const p = this.jobs.get(job);
    const host = p?.hostOf.get(rank);
    if (!p || host === undefined) return undefined;
    const gpu = this.gpuIndex(p).get(rank)!;
    const parsed = parseName(host);
    const node = parsed?.kind === 'node' ? parsed.node : undefined;
    return { rank, host, node, gpu, gpuName: node !== undefined ? gpuName(node, gpu) : `${host}/gpu-${gpu}` };
  }

  /** Every known rank of the job with its location, in rank order. */
  ranks(job: string): RankLocation[] {
    const p = this.jobs.get(job);
    if (!p) return [];
    return [...p.hostOf.keys()].sort((a, b) => a - b).map((r) => this.locate(job, r)!);
  }

  /** The job's node indexes, ascending (hosts that do not follow `node-<n>` are left out). */
  nodes(job: string): number[] {
    const set = new Set<number>();
    for (const r of this.ranks(job)) if (r.node !== undefined) set.add(r.node);
    return [...set].sort((a, b) => a - b);
  }

  private gpuIndex(p: JobPlacement): Map<number, number> {
    if (p.gpuOf) return p.gpuOf;
    const next = new Map<string, number>();
    const gpuOf = new Map<number, number>();
    for (const r of [...p.hostOf.keys()].sort((a, b) => a - b)) {
      const host = p.hostOf.get(r)!;
      const g = next.get(host) ?? 0;
      gpuOf.set(r, g);
      next.set(host, g + 1);
    }
    return (p.gpuOf = gpuOf);
  }

  /** Whether every rank of the job has been seen at least once. */
  complete(job: string): boolean {
    const p = this.jobs.get(job);
    return !!p && p.hostOf.size >= p.nRanks;
  }
}
