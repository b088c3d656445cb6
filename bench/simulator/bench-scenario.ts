/**
 * The scenario `npm run bench:sim` plays: a 1,024-GPU cluster (128 nodes × 8 GPUs, 32 leaves,
 * 16 spines, 400G), two jobs (train-a ring, train-b tree), background load and three faults.
 * Shared with carried-timing.ts so both time the same cluster.
 */
export function benchScenarioYaml(durationS: number): string {
  return `
name: bench-1024
seed: 2026
duration_s: ${durationS}
start: "2026-01-01T00:00:00Z"
telemetry: { switch_interval_ms: 100, gpu_interval_ms: 1000 }
topology: { nodes: 128, gpus_per_node: 8, leaves: 32, spines: 16, link_gbps: 400 }
jobs:
  - { id: train-a, nodes: [${Array.from({ length: 64 }, (_, i) => i).join(', ')}], collective: allreduce, message_bytes: 268435456, compute_ms: 60 }
  - { id: train-b, nodes: [${Array.from({ length: 64 }, (_, i) => 64 + i).join(', ')}], collective: allreduce, algorithm: tree, message_bytes: 134217728, compute_ms: 45 }
background: { load: 0.1 }
faults:
  - { kind: incast_congestion, target: leaf-3/p5, start_s: 10, duration_s: 5, severity: 0.8 }
  - { kind: link_degraded, target: leaf-20/p33, start_s: 25, duration_s: 8, severity: 0.75 }
  - { kind: straggler_gpu, target: node-70/gpu-3, start_s: 40, duration_s: 8, severity: 0.7 }
`;
}
