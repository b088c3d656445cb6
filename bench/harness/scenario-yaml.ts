/**
 * Scenario files for the benchmarks: a two-tier cluster of a given GPU count (8 GPUs per node,
 * 32 downlinks per leaf, half as many spines as leaves), one job over every node, light
 * background load and the faults a benchmark asks for. Written as YAML for `fabricscope`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BenchFault {
  kind: string;
  target: string;
  start_s: number;
  duration_s: number;
  severity: number;
  every_s?: number;
}

export interface BenchScenarioOptions {
  name: string;
  gpus: number;
  /** Simulated seconds; 0 plays until stopped. */
  duration_s: number;
  switch_interval_ms?: number;
  gpu_interval_ms?: number;
  faults?: BenchFault[];
  /** Omit to start at wall-clock now (real-time runs, where event time must match the clock). */
  start?: string;
}

export const GPUS_PER_NODE = 8;
const DOWNLINKS_PER_LEAF = 32;

export interface ClusterShape {
  nodes: number;
  leaves: number;
  spines: number;
}

/** Nodes, leaves and spines for `gpus` GPUs; small clusters get two leaves so there is a fabric. */
export function clusterShape(gpus: number): ClusterShape {
  if (!Number.isInteger(gpus) || gpus < 2 * GPUS_PER_NODE || gpus % (2 * GPUS_PER_NODE) !== 0) {
    throw new Error(`a bench cluster needs a multiple of ${2 * GPUS_PER_NODE} GPUs (got ${gpus})`);
  }
  const nodes = gpus / GPUS_PER_NODE;
  const leaves = Math.max(2, Math.ceil(gpus / DOWNLINKS_PER_LEAF));
  // Every leaf takes an equal share of NICs (DESIGN.md: nodes * gpus_per_node / leaves is whole).
  if (gpus % leaves !== 0) throw new Error(`${gpus} GPUs do not split evenly over ${leaves} leaves`);
  return { nodes, leaves, spines: Math.max(2, leaves / 2) };
}

export function scenarioYaml(o: BenchScenarioOptions): string {
  const shape = clusterShape(o.gpus);
  const lines = [
    `name: ${o.name}`,
    'seed: 2026',
    `duration_s: ${o.duration_s}`,
    ...(o.start ? [`start: "${o.start}"`] : []),
    `telemetry: { switch_interval_ms: ${o.switch_interval_ms ?? 100}, gpu_interval_ms: ${o.gpu_interval_ms ?? 1000} }`,
    `topology: { nodes: ${shape.nodes}, gpus_per_node: ${GPUS_PER_NODE}, leaves: ${shape.leaves}, spines: ${shape.spines}, link_gbps: 400 }`,
    'jobs:',
    '  - { id: train-a, nodes: all, collective: allreduce, message_bytes: 268435456, compute_ms: 40 }',
    'background: { load: 0.1 }',
    'faults:',
    ...(o.faults ?? []).map((f) => `  - ${JSON.stringify(f)}`),
  ];
  if ((o.faults ?? []).length === 0) lines[lines.length - 1] = 'faults: []';
  return lines.join('\n') + '\n';
}

/** Writes the scenario into `dir` and returns its path. */
export function writeScenario(dir: string, o: BenchScenarioOptions): string {
  const file = join(dir, `${o.name}.yaml`);
  writeFileSync(file, scenarioYaml(o));
  return file;
}
