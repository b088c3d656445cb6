/**
 * How a job's collectives use the fabric: the NCCL-style model both the emulator plays and
 * the root-cause engine assumes when it looks for the ports a stalled step crossed. It is a
 * model of the collective library (public behaviour), not of the simulator's internals.
 *
 * - Ranks are numbered in placement order: the job's nodes sorted ascending, GPUs 0..G-1 in
 *   each, so rank r sits on the (⌊r/G⌋)-th node of the job, GPU r mod G. Its host is
 *   `node-<n>` and the NCCL communicator name is the job id.
 * - A multi-node all-reduce is hierarchical: an intra-node ring over NVLink (gpu g → g+1 on
 *   nvsw-<n>), then one inter-node ring per rail g (node-a/nic-g → node-b/nic-g, the job's
 *   nodes in order, wrapping around), then the intra-node ring again.
 */

export interface RankPlace {
  rank: number;
  node: number;
  gpu: number;
}

export interface Transfer {
  src: { node: number; gpu: number };
  dst: { node: number; gpu: number };
  /** `up`: inside one node over the scale-up switch; `out`: between nodes over NICs. */
  fabric: 'up' | 'out';
}

/** Rank placement of a job that runs on `nodes` (any order; sorted here). */
export function placeRanks(nodes: readonly number[], gpusPerNode: number): RankPlace[] {
  const sorted = [...nodes].sort((a, b) => a - b);
  const out: RankPlace[] = [];
  sorted.forEach((node, i) => {
    for (let g = 0; g < gpusPerNode; g++) out.push({ rank: i * gpusPerNode + g, node, gpu: g });
  });
  return out;
}

/** Every point-to-point transfer a hierarchical ring all-reduce makes, one per ring edge. */
export function ringTransfers(nodes: readonly number[], gpusPerNode: number): Transfer[] {
  const sorted = [...nodes].sort((a, b) => a - b);
  const out: Transfer[] = [];
  if (gpusPerNode > 1) {
    for (const node of sorted) {
      for (let g = 0; g < gpusPerNode; g++) {
        out.push({ src: { node, gpu: g }, dst: { node, gpu: (g + 1) % gpusPerNode }, fabric: 'up' });
      }
    }
  }
  if (sorted.length > 1) {
    for (let i = 0; i < sorted.length; i++) {
      const a = sorted[i]!;
      const b = sorted[(i + 1) % sorted.length]!;
      for (let g = 0; g < gpusPerNode; g++) out.push({ src: { node: a, gpu: g }, dst: { node: b, gpu: g }, fabric: 'out' });
    }
  }
  return out;
}
