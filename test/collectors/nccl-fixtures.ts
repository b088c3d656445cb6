/** NCCL Inspector v4.0 JSON lines, as a rank writes them (one compact object per line). */
export interface CollOptions {
  rank?: number;
  sn?: number;
  start?: number;
  execUs?: number | 'nan';
  verbose?: boolean;
  host?: string;
  busbw?: number | 'nan';
}

export const T0_US = 1_767_225_600_000_000;

export function collLine(o: CollOptions = {}): string {
  const rank = o.rank ?? 0;
  const sn = o.sn ?? 0;
  const start = o.start ?? T0_US + sn * 50_000;
  const exec = o.execUs ?? 1234.5;
  const stop = start + (typeof exec === 'number' ? exec : 1000);
  const record = {
    header: { id: '0x7f3a9c1e2b4d5a60', comm_name: 'train-a', rank, n_ranks: 16, nnodes: 2 },
    metadata: {
      inspector_output_format_version: 'v4.0',
      git_rev: 'a1b2c3d',
      rec_mechanism: 'nccl_profiler_interface',
      dump_timestamp_us: stop + 200,
      hostname: o.host ?? `node-${Math.floor(rank / 8)}`,
      pid: 4242 + rank,
    },
    coll_perf: {
      coll: 'AllReduce',
      coll_sn: sn,
      coll_msg_size_bytes: 268435456,
      coll_exec_time_us: exec,
      coll_timing_source: 'kernel_gpu',
      coll_algobw_gbs: 217.456789,
      coll_busbw_gbs: o.busbw ?? 407.731479,
      ...(o.verbose === false
        ? {}
        : {
            event_trace_sn: { coll_start_sn: 1, coll_stop_sn: 4, kernel_events: [{ channel_id: 0, kernel_start_sn: 2, kernel_stop_sn: 3, kernel_record_sn: 3 }] },
            event_trace_ts: { coll_start_ts: start, coll_stop_ts: stop, kernel_events: [{ channel_id: 0, kernel_start_ts: start + 5, kernel_stop_ts: stop - 5, kernel_record_ts: stop - 5 }] },
          }),
    },
  };
  return JSON.stringify(record);
}

export function p2pLine(rank = 0): string {
  return JSON.stringify({
    header: { id: '0x7f3a9c1e2b4d5a60', comm_name: 'train-a', rank, n_ranks: 16, nnodes: 2 },
    metadata: { inspector_output_format_version: 'v4.0', git_rev: 'a1b2c3d', rec_mechanism: 'nccl_profiler_interface', dump_timestamp_us: T0_US, hostname: 'node-0', pid: 4242 },
    p2p_perf: { p2p: 'Send', p2p_sn: 3, p2p_peer: 1, p2p_msg_size_bytes: 1048576, p2p_exec_time_us: 80.25, p2p_timing_source: 'kernel_gpu', p2p_algobw_gbs: 13.06, p2p_busbw_gbs: 13.06 },
  });
}
