/**
 * The stable names of DESIGN.md ("Names"): users see them in the API and dashboards,
 * faults target them, root causes point at them. Everything here is 0-based.
 */

export const FAULT_KINDS = [
  'incast_congestion',
  'ecmp_collision',
  'link_degraded',
  'link_flap',
  'pfc_storm',
  'credit_starvation',
  'straggler_gpu',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export type RootCauseKind = FaultKind | 'unknown';

export const nodeName = (n: number): string => `node-${n}`;
export const gpuName = (n: number, g: number): string => `node-${n}/gpu-${g}`;
export const nicName = (n: number, g: number): string => `node-${n}/nic-${g}`;
export const leafName = (i: number): string => `leaf-${i}`;
export const spineName = (j: number): string => `spine-${j}`;
export const nvswName = (n: number): string => `nvsw-${n}`;
export const portName = (device: string, k: number): string => `${device}/p${k}`;

export type DeviceKind = 'leaf' | 'spine' | 'nvsw';

/** A parsed name. `kind` tells which fields are set. */
export type ParsedName =
  | { kind: 'node'; node: number }
  | { kind: 'gpu'; node: number; gpu: number }
  | { kind: 'nic'; node: number; nic: number }
  | { kind: 'switch'; device: DeviceKind; index: number }
  | { kind: 'port'; device: DeviceKind; index: number; port: number };

const NAME_PATTERNS: Array<[RegExp, (m: RegExpMatchArray) => ParsedName]> = [
  [/^node-(\d+)$/, (m) => ({ kind: 'node', node: Number(m[1]) })],
  [/^node-(\d+)\/gpu-(\d+)$/, (m) => ({ kind: 'gpu', node: Number(m[1]), gpu: Number(m[2]) })],
  [/^node-(\d+)\/nic-(\d+)$/, (m) => ({ kind: 'nic', node: Number(m[1]), nic: Number(m[2]) })],
  [/^(leaf|spine|nvsw)-(\d+)$/, (m) => ({ kind: 'switch', device: m[1] as DeviceKind, index: Number(m[2]) })],
  [
    /^(leaf|spine|nvsw)-(\d+)\/p(\d+)$/,
    (m) => ({ kind: 'port', device: m[1] as DeviceKind, index: Number(m[2]), port: Number(m[3]) }),
  ],
];

/** Parses a DESIGN.md name; returns undefined when the string is not one. */
export function parseName(name: string): ParsedName | undefined {
  for (const [re, build] of NAME_PATTERNS) {
    const m = name.match(re);
    if (m) return build(m);
  }
  return undefined;
}

/** `leaf-3/p5` → `leaf-3`. */
export function deviceOfPort(port: string): string {
  const slash = port.indexOf('/');
  return slash < 0 ? port : port.slice(0, slash);
}
