/**
 * NCCL Inspector, Prometheus mode (`NCCL_INSPECTOR_PROM_DUMP=1`, a textfile for
 * node-exporter, rewritten every dump interval, at least 30 s) → CollectiveEvents.
 *
 *   nccl_bus_bandwidth_gbs{version="v5.1",slurm_job_id="unknown",node="nvl72004-T01",gpu="GPU0",
 *     comm_name="DP Group 0",n_nodes="1",nranks="4",collective="AllReduce",message_size="4-5GB",
 *     algo_proto="Ring_ll"} 678.263
 *   nccl_collective_exec_time_microseconds{…same labels…} 6500.2
 *
 * The mode summarises instead of listing calls: one value per (communicator, GPU, collective,
 * message-size bucket, algorithm) and dump. Each such series of a scrape becomes one
 * CollectiveEvent, so the pipeline compares the ranks of a communicator as it does per call:
 * - seq: the scrape window (`scrape time / windowMs`) and the series' (collective, size,
 *   algorithm) together, so every rank's summary of the same window and kind is one "call";
 * - rank: the mode names GPUs, not ranks: `gpu="GPU3"` is rank 3 on a one-node communicator;
 *   across nodes, rank = node ordinal × GPUs per node + GPU, nodes numbered in the order first
 *   seen (stable for the collector's lifetime);
 * - comm_id: `<slurm_job_id>/<comm_name>` (the mode has no communicator hash);
 * - msg_bytes: algbw × exec time (algbw is bytes / 1e9 / s), else the bucket's lower bound;
 * - algbw from busbw by NCCL's bus factor (AllReduce 2(n−1)/n; AllGather, ReduceScatter (n−1)/n).
 * P2P series (`nccl_p2p_*`) are counted and skipped, as P2P records are in JSON mode.
 */
import type { CollectiveEvent } from '../../core/records.js';
import type { PromSample } from '../dcgm/prometheus-text.js';

export const BUS_BANDWIDTH = 'nccl_bus_bandwidth_gbs';
export const EXEC_TIME = 'nccl_collective_exec_time_microseconds';
const P2P = /^nccl_p2p_/;

export interface InspectorPromConversion {
  events: CollectiveEvent[];
  /** nccl_p2p_* samples. */
  p2p: number;
  /** Series that cannot become an event, with the first few reasons. */
  rejected: number;
  reasons: string[];
}

/** Series kinds get a stable slot below this in `seq`; windows above it. */
const KIND_SLOTS = 4096;

export class InspectorPromConverter {
  /** Node ordinals per communicator, in first-seen order. */
  private readonly nodes = new Map<string, Map<string, number>>();

  /** @param windowMs the scrape interval: samples of one window are one summarised call. */
  constructor(private readonly windowMs = 30_000) {}

  convert(samples: readonly PromSample[], scrapeMs: number): InspectorPromConversion {
    const out: InspectorPromConversion = { events: [], p2p: 0, rejected: 0, reasons: [] };
    const reject = (s: PromSample, why: string) => {
      out.rejected++;
      if (out.reasons.length < 5) out.reasons.push(`line ${s.line}: ${why}`);
    };
    // Join the two metrics of a series by its label set.
    const series = new Map<string, { labels: Readonly<Record<string, string>>; sample: PromSample; busbw?: number; exec?: number; ts: number }>();
    for (const s of samples) {
      if (P2P.test(s.name)) {
        out.p2p++;
        continue;
      }
      if (s.name !== BUS_BANDWIDTH && s.name !== EXEC_TIME) continue;
      const key = labelKey(s.labels);
      let entry = series.get(key);
      if (!entry) series.set(key, (entry = { labels: s.labels, sample: s, ts: s.timestamp_ms ?? scrapeMs }));
      if (s.name === BUS_BANDWIDTH) entry.busbw = s.value;
      else entry.exec = s.value;
    }
    for (const { labels: l, sample, busbw, exec, ts } of series.values()) {
      const commName = l.comm_name;
      const collective = l.collective;
      const host = l.node;
      if (!commName || !collective || !host) {
        reject(sample, 'labels comm_name, collective and node are required');
        continue;
      }
      const gpu = /^(?:GPU)?(\d+)$/i.exec(l.gpu ?? '');
      const nRanks = Number(l.nranks);
      const nNodes = Number(l.n_nodes ?? 1);
      if (!gpu || !Number.isInteger(nRanks) || nRanks <= 0 || !Number.isInteger(nNodes) || nNodes <= 0) {
        reject(sample, `gpu "${l.gpu ?? ''}", nranks "${l.nranks ?? ''}" or n_nodes "${l.n_nodes ?? ''}" is not a GPU index / positive count`);
        continue;
      }
      if (exec === undefined || !Number.isFinite(exec) || exec < 0) {
        reject(sample, `${EXEC_TIME} is missing or not a duration`);
        continue;
      }
      const comm_id = `${l.slurm_job_id ?? 'unknown'}/${commName}`;
      const rank = this.rankOf(comm_id, host, Number(gpu[1]), nNodes, nRanks);
      if (rank >= nRanks) {
        reject(sample, `${host} GPU ${gpu[1]} makes rank ${rank}, outside 0..${nRanks - 1} (more nodes than n_nodes?)`);
        continue;
      }
      const busbw_gbs = busbw !== undefined && Number.isFinite(busbw) ? busbw : NaN;
      const algbw_gbs = busbw_gbs / busFactor(collective, nRanks);
      const fromRate = algbw_gbs * 1e9 * (exec / 1e6);
      const msg_bytes = Number.isFinite(fromRate) && fromRate > 0 ? Math.round(fromRate) : bucketLowerBound(l.message_size);
      const end_us = ts * 1000;
      const window = Math.floor(ts / this.windowMs);
      out.events.push({
        job: commName,
        comm_id,
        rank,
        n_ranks: nRanks,
        host,
        collective,
        seq: window * KIND_SLOTS + (hash(`${collective}|${l.message_size ?? ''}|${l.algo_proto ?? ''}`) % KIND_SLOTS),
        msg_bytes,
        start_us: end_us - exec,
        end_us,
        exec_time_us: exec,
        algbw_gbs,
        busbw_gbs,
      });
    }
    return out;
  }

  private rankOf(commId: string, node: string, gpu: number, nNodes: number, nRanks: number): number {
    if (nNodes === 1) return gpu;
    let nodes = this.nodes.get(commId);
    if (!nodes) this.nodes.set(commId, (nodes = new Map()));
    let ordinal = nodes.get(node);
    if (ordinal === undefined) nodes.set(node, (ordinal = nodes.size));
    return ordinal * Math.max(1, Math.floor(nRanks / nNodes)) + gpu;
  }
}

/** NCCL's busbw / algbw factor. */
export function busFactor(collective: string, nRanks: number): number {
  const c = collective.toLowerCase();
  if (nRanks <= 1) return 1;
  if (c === 'allreduce') return (2 * (nRanks - 1)) / nRanks;
  if (c === 'allgather' || c === 'reducescatter' || c === 'alltoall') return (nRanks - 1) / nRanks;
  return 1;
}

const UNIT: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** `4-5GB` → 4 GiB; unknown shapes → 0. */
export function bucketLowerBound(bucket: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)\s*(?:-\s*\d+(?:\.\d+)?)?\s*([KMGT]?B)$/i.exec(bucket ?? '');
  return m ? Math.round(Number(m[1]) * UNIT[m[2]!.toUpperCase()]!) : 0;
}

function labelKey(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join('\u0000');
}

/** FNV-1a: a stable slot per series kind. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
