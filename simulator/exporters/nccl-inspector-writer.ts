/**
 * NCCL Inspector v4.0 JSON Lines, as the profiler plugin writes them (telemetry-formats.md §4.2):
 * one file per process `<dir>/<hostname>-pid<pid>.log`, one compact object per collective per
 * communicator, doubles with six decimals like C's %lf. Lines are buffered and appended at each
 * flush (the player flushes every GPU interval, like the inspector's dump thread).
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CollectiveRecord } from '../outputs.js';
import { hash32 } from '../prng.js';

export const INSPECTOR_GIT_REV = 'f2b8a6c-fabricscope-sim';

/** %lf: a JSON number with exactly six decimals. */
const lf = (v: number): string => (Number.isFinite(v) ? v.toFixed(6) : '"nan"');

export function inspectorLine(rec: CollectiveRecord, pid: number, dumpTimestampUs: number): string {
  const kernels = rec.kernel_events;
  const snKernels = kernels.map((k, i) => `{"channel_id":${k.channel_id},"kernel_start_sn":${2 * i + 1},"kernel_stop_sn":${2 * i + 2},"kernel_record_sn":${2 * i + 2}}`).join(',');
  const tsKernels = kernels.map((k) => `{"channel_id":${k.channel_id},"kernel_start_ts":${k.start_us},"kernel_stop_ts":${k.stop_us},"kernel_record_ts":${k.record_us}}`).join(',');
  return (
    `{"header":{"id":${JSON.stringify(rec.comm_id)},"comm_name":${JSON.stringify(rec.job)},"rank":${rec.rank},"n_ranks":${rec.n_ranks},"nnodes":${rec.nnodes}},` +
    `"metadata":{"inspector_output_format_version":"v4.0","git_rev":"${INSPECTOR_GIT_REV}","rec_mechanism":"nccl_profiler_interface","dump_timestamp_us":${Math.round(dumpTimestampUs)},"hostname":${JSON.stringify(rec.host)},"pid":${pid}},` +
    `"coll_perf":{"coll":${JSON.stringify(rec.collective)},"coll_sn":${rec.seq},"coll_msg_size_bytes":${rec.msg_bytes},"coll_exec_time_us":${rec.exec_time_us},"coll_timing_source":"kernel_gpu","coll_algobw_gbs":${lf(rec.algbw_gbs)},"coll_busbw_gbs":${lf(rec.busbw_gbs)},` +
    `"event_trace_sn":{"coll_start_sn":0,"coll_stop_sn":${2 * kernels.length + 1},"kernel_events":[${snKernels}]},` +
    `"event_trace_ts":{"coll_start_ts":${rec.start_us},"coll_stop_ts":${rec.end_us},"kernel_events":[${tsKernels}]}}}`
  );
}

/** A deterministic fake pid for a rank's process (unique per job and rank). */
export function fakePid(seed: number, job: string, rank: number): number {
  return 1000 + ((hash32(`${seed}|pid|${job}`) % 3000) * 100 + rank) % 4_000_000;
}

export class NcclInspectorWriter {
  private readonly buffers = new Map<string, string[]>();
  private dirReady?: Promise<unknown>;
  linesWritten = 0;

  constructor(
    private readonly dir: string,
    private readonly seed: number,
  ) {}

  fileOf(rec: CollectiveRecord): { file: string; pid: number } {
    const pid = fakePid(this.seed, rec.job, rec.rank);
    return { file: join(this.dir, `${rec.host}-pid${pid}.log`), pid };
  }

  add(records: readonly CollectiveRecord[], dumpTimestampUs: number): void {
    for (const rec of records) {
      const { file, pid } = this.fileOf(rec);
      let buf = this.buffers.get(file);
      if (!buf) this.buffers.set(file, (buf = []));
      buf.push(inspectorLine(rec, pid, dumpTimestampUs) + '\n');
    }
  }

  /** Appends the buffered lines to their files. */
  async flush(): Promise<void> {
    if (this.buffers.size === 0) return;
    this.dirReady ??= mkdir(this.dir, { recursive: true });
    await this.dirReady;
    const pending = [...this.buffers.entries()];
    this.buffers.clear();
    // Files in a fixed order so that concurrent readers see a deterministic sequence.
    pending.sort((a, b) => a[0].localeCompare(b[0]));
    await Promise.all(pending.map(([file, lines]) => appendFile(file, lines.join(''))));
    for (const [, lines] of pending) this.linesWritten += lines.length;
  }
}
