/**
 * The cluster topology of DESIGN.md: a two-tier leaf/spine RoCE fabric plus one scale-up
 * switch (nvsw-<n>) per node. Pure geometry over names; the simulator builds its model
 * from it, the pipeline uses it to find the ports a transfer can cross (its ECMP paths).
 * A real site would write the same `TopologySpec` from LLDP or its inventory.
 */
import { ScenarioError } from './errors.js';
import {
  gpuName,
  leafName,
  nicName,
  nvswName,
  parseName,
  portName,
  spineName,
} from './names.js';

export interface TopologySpec {
  nodes: number;
  gpus_per_node: number;
  leaves: number;
  spines: number;
  link_gbps: number;
}

export type PortRole = 'leaf_downlink' | 'leaf_uplink' | 'spine_downlink' | 'nvsw_gpu';

export interface PortInfo {
  name: string;
  device: string;
  index: number;
  role: PortRole;
  /** The name of the far end: a NIC, a GPU, or the peer switch port. */
  peer: string;
  /** Egress capacity in bytes per second. */
  capacity_bps: number;
}

export class Topology {
  readonly spec: TopologySpec;
  /** NIC ports per leaf (DESIGN.md's D). */
  readonly downlinksPerLeaf: number;
  readonly ports: ReadonlyMap<string, PortInfo>;

  constructor(spec: TopologySpec) {
    validateTopologySpec(spec);
    this.spec = spec;
    this.downlinksPerLeaf = (spec.nodes * spec.gpus_per_node) / spec.leaves;
    this.ports = buildPorts(spec, this.downlinksPerLeaf);
  }

  get gpuCount(): number {
    return this.spec.nodes * this.spec.gpus_per_node;
  }

  /** Line rate of one scale-out link, bytes per second. */
  get linkBytesPerSecond(): number {
    return (this.spec.link_gbps * 1e9) / 8;
  }

  nicIndex(node: number, gpu: number): number {
    return node * this.spec.gpus_per_node + gpu;
  }

  /** The leaf and its downlink port that a NIC attaches to. */
  nicAttachment(node: number, gpu: number): { leaf: number; port: string } {
    const k = this.nicIndex(node, gpu);
    const D = this.downlinksPerLeaf;
    const leaf = Math.floor(k / D);
    return { leaf, port: portName(leafName(leaf), k % D) };
  }

  /** Leaf uplink port towards spine j. */
  leafUplink(leaf: number, spine: number): string {
    return portName(leafName(leaf), this.downlinksPerLeaf + spine);
  }

  /** Spine port towards leaf i. */
  spineDownlink(spine: number, leaf: number): string {
    return portName(spineName(spine), leaf);
  }

  /**
   * Every egress port a transfer from one NIC to another may cross, one list per ECMP path.
   * Same leaf: just the destination downlink. Otherwise one path per spine.
   */
  scaleOutPaths(src: { node: number; gpu: number }, dst: { node: number; gpu: number }): string[][] {
    const a = this.nicAttachment(src.node, src.gpu);
    const b = this.nicAttachment(dst.node, dst.gpu);
    if (a.leaf === b.leaf) return [[b.port]];
    const paths: string[][] = [];
    for (let j = 0; j < this.spec.spines; j++) paths.push(this.scaleOutPath(src, dst, j));
    return paths;
  }

  /** The egress ports of a transfer through spine j (just the destination downlink on one leaf). */
  scaleOutPath(src: { node: number; gpu: number }, dst: { node: number; gpu: number }, spine: number): string[] {
    const a = this.nicAttachment(src.node, src.gpu);
    const b = this.nicAttachment(dst.node, dst.gpu);
    if (a.leaf === b.leaf) return [b.port];
    return [this.leafUplink(a.leaf, spine), this.spineDownlink(spine, b.leaf), b.port];
  }

  /** Egress ports of a scale-up transfer inside one node: the nvsw port towards the receiver. */
  scaleUpPath(node: number, dstGpu: number): string[] {
    return [portName(nvswName(node), dstGpu)];
  }

  /**
   * Canonical id of the link a port belongs to: a fault or root cause naming either end of a
   * link names the same link (DESIGN.md). Returns the lexically smaller end's name.
   */
  linkId(port: string): string {
    const info = this.ports.get(port);
    if (!info) return port;
    const peerInfo = this.ports.get(info.peer);
    if (!peerInfo) return port; // NIC- or GPU-facing ports are their own link id
    return port < info.peer ? port : info.peer;
  }

  /** True when two names denote the same place (same name, or two ends of one link). */
  sameLocation(a: string, b: string): boolean {
    if (a === b) return true;
    const pa = this.ports.get(a);
    const pb = this.ports.get(b);
    if (pa && pa.peer === b) return true;
    if (pb && pb.peer === a) return true;
    return false;
  }

  /** Whether `name` exists in this topology (node, GPU, NIC, switch or port). */
  has(name: string): boolean {
    const p = parseName(name);
    if (!p) return false;
    const { nodes, gpus_per_node, leaves, spines } = this.spec;
    switch (p.kind) {
      case 'node':
        return p.node < nodes;
      case 'gpu':
        return p.node < nodes && p.gpu < gpus_per_node;
      case 'nic':
        return p.node < nodes && p.nic < gpus_per_node;
      case 'switch':
        return p.index < (p.device === 'leaf' ? leaves : p.device === 'spine' ? spines : nodes);
      case 'port':
        return this.ports.has(name);
    }
  }

  /** Every switch that exports port telemetry (leaves, spines, scale-up switches), each once. */
  switches(): string[] {
    return [...new Set([...this.ports.values()].map((p) => p.device))];
  }

  /** Every GPU name in node order. */
  gpus(): string[] {
    const out: string[] = [];
    for (let n = 0; n < this.spec.nodes; n++) for (let g = 0; g < this.spec.gpus_per_node; g++) out.push(gpuName(n, g));
    return out;
  }

  toJSON(): TopologySpec & { ports: PortInfo[] } {
    return { ...this.spec, ports: [...this.ports.values()] };
  }
}

export function validateTopologySpec(spec: TopologySpec): void {
  const { nodes, gpus_per_node, leaves, spines } = spec;
  const total = nodes * gpus_per_node;
  if (total % leaves !== 0) {
    throw new ScenarioError(
      `nodes × gpus_per_node (${total}) must divide evenly among ${leaves} leaves (D = ${total / leaves} is not whole)`,
      'topology',
    );
  }
}

function buildPorts(spec: TopologySpec, D: number): Map<string, PortInfo> {
  const ports = new Map<string, PortInfo>();
  const scaleOut = (spec.link_gbps * 1e9) / 8;
  // H100-class NVLink: ~450 GB/s per direction per GPU into the NVSwitch domain.
  const scaleUp = 450e9;
  const add = (p: PortInfo) => ports.set(p.name, p);
  for (let i = 0; i < spec.leaves; i++) {
    const leaf = leafName(i);
    for (let k = 0; k < D; k++) {
      const nic = i * D + k;
      const node = Math.floor(nic / spec.gpus_per_node);
      const g = nic % spec.gpus_per_node;
      add({ name: portName(leaf, k), device: leaf, index: k, role: 'leaf_downlink', peer: nicName(node, g), capacity_bps: scaleOut });
    }
    for (let j = 0; j < spec.spines; j++) {
      add({
        name: portName(leaf, D + j),
        device: leaf,
        index: D + j,
        role: 'leaf_uplink',
        peer: portName(spineName(j), i),
        capacity_bps: scaleOut,
      });
    }
  }
  for (let j = 0; j < spec.spines; j++) {
    const spine = spineName(j);
    for (let i = 0; i < spec.leaves; i++) {
      add({ name: portName(spine, i), device: spine, index: i, role: 'spine_downlink', peer: portName(leafName(i), D + j), capacity_bps: scaleOut });
    }
  }
  for (let n = 0; n < spec.nodes; n++) {
    const sw = nvswName(n);
    for (let g = 0; g < spec.gpus_per_node; g++) {
      add({ name: portName(sw, g), device: sw, index: g, role: 'nvsw_gpu', peer: gpuName(n, g), capacity_bps: scaleUp });
    }
  }
  return ports;
}
