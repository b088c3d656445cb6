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
import type { Topology } from './topology.js';

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

/*
 * Added with the emulator's tree and all-to-all collectives (issue 3). Additive: the exports
 * above are unchanged.
 *
 * - A multi-node tree all-reduce (NCCL double binary tree) keeps the intra-node ring, and per
 *   rail g builds two binary trees over the job's nodes in order: tree 0 is the heap order
 *   (parent of position i is ⌊(i−1)/2⌋), tree 1 the same over the reversed order. Every tree
 *   edge carries data both ways (reduce up, broadcast down) on rail g.
 * - An all-to-all sends from every node to every other node on every rail (rank (a, g) reaches
 *   node b's GPUs through node-b/nic-g, PXN style), plus every GPU to every other GPU of its node.
 */

/** Parent position of position i in tree t (0 or 1) over `count` nodes, or -1 for the root. */
export function treeParent(i: number, count: number, tree: 0 | 1): number {
  const pos = tree === 0 ? i : count - 1 - i;
  if (pos === 0) return -1;
  const parentPos = Math.floor((pos - 1) / 2);
  return tree === 0 ? parentPos : count - 1 - parentPos;
}

/** Transfers of a hierarchical double-binary-tree all-reduce (both directions of every edge). */
export function treeTransfers(nodes: readonly number[], gpusPerNode: number): Transfer[] {
  const sorted = [...nodes].sort((a, b) => a - b);
  const out = ringTransfers(sorted, gpusPerNode).filter((t) => t.fabric === 'up');
  if (sorted.length > 1) {
    for (const tree of [0, 1] as const) {
      for (let i = 0; i < sorted.length; i++) {
        const parent = treeParent(i, sorted.length, tree);
        if (parent < 0) continue;
        const a = sorted[i]!;
        const b = sorted[parent]!;
        for (let g = 0; g < gpusPerNode; g++) {
          out.push({ src: { node: a, gpu: g }, dst: { node: b, gpu: g }, fabric: 'out' });
          out.push({ src: { node: b, gpu: g }, dst: { node: a, gpu: g }, fabric: 'out' });
        }
      }
    }
  }
  return out;
}

/** Transfers of an all-to-all: every GPU pair of a node over NVLink, every node pair per rail. */
export function allToAllTransfers(nodes: readonly number[], gpusPerNode: number): Transfer[] {
  const sorted = [...nodes].sort((a, b) => a - b);
  const out: Transfer[] = [];
  for (const node of sorted) {
    for (let g = 0; g < gpusPerNode; g++) {
      for (let h = 0; h < gpusPerNode; h++) if (g !== h) out.push({ src: { node, gpu: g }, dst: { node, gpu: h }, fabric: 'up' });
    }
  }
  for (const a of sorted) {
    for (const b of sorted) {
      if (a === b) continue;
      for (let g = 0; g < gpusPerNode; g++) out.push({ src: { node: a, gpu: g }, dst: { node: b, gpu: g }, fabric: 'out' });
    }
  }
  return out;
}

/**
 * Every egress port the transfers may cross, over all ECMP paths (a job's footprint). Leaf pairs
 * repeat across a job's transfers, so each pair's spine paths are listed once.
 */
export function transferPorts(topology: Topology, transfers: readonly Transfer[]): Set<string> {
  const ports = new Set<string>();
  const leafPairs = new Set<number>();
  const { leaves, spines } = topology.spec;
  for (const t of transfers) {
    if (t.fabric === 'up') {
      for (const p of topology.scaleUpPath(t.dst.node, t.dst.gpu)) ports.add(p);
      continue;
    }
    const a = topology.nicAttachment(t.src.node, t.src.gpu);
    const b = topology.nicAttachment(t.dst.node, t.dst.gpu);
    ports.add(b.port);
    if (a.leaf === b.leaf || leafPairs.has(a.leaf * leaves + b.leaf)) continue;
    leafPairs.add(a.leaf * leaves + b.leaf);
    for (let j = 0; j < spines; j++) {
      ports.add(topology.leafUplink(a.leaf, j));
      ports.add(topology.spineDownlink(j, b.leaf));
    }
  }
  return ports;
}
