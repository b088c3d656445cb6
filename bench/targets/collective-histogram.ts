/**
 * NCCL collective durations as a Prometheus histogram per job, the form a Prometheus user would
 * export them in, so "p99 collective duration of a job over the last hour" can be asked through
 * PromQL too. Built from the same collective records the simulator writes as NCCL Inspector
 * lines for fabricscope.
 */
const BUCKETS_S = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];
const METRIC = 'nccl_collective_duration_seconds';

export class CollectiveHistogram {
  private readonly byJob = new Map<string, { counts: number[]; sum: number; count: number }>();

  observe(job: string, durationUs: number): void {
    let h = this.byJob.get(job);
    if (!h) this.byJob.set(job, (h = { counts: BUCKETS_S.map(() => 0), sum: 0, count: 0 }));
    const s = durationUs / 1e6;
    BUCKETS_S.forEach((le, i) => {
      if (s <= le) h!.counts[i]!++;
    });
    h.sum += s;
    h.count++;
  }

  render(): string {
    const lines = [`# TYPE ${METRIC} histogram`];
    for (const [job, h] of this.byJob) {
      // `job` is Prometheus' own target label; the NCCL job goes in `nccl_job`.
      const l = `nccl_job="${job}"`;
      BUCKETS_S.forEach((le, i) => lines.push(`${METRIC}_bucket{${l},le="${le}"} ${h.counts[i]}`));
      lines.push(`${METRIC}_bucket{${l},le="+Inf"} ${h.count}`, `${METRIC}_sum{${l}} ${h.sum}`, `${METRIC}_count{${l}} ${h.count}`);
    }
    return lines.join('\n') + '\n';
  }
}
