/**
 * The scenario file of DESIGN.md ("Scenario file"): YAML or JSON, every object strict so that a
 * typo is an error naming the key, defaults for everything but `faults`. Semantic checks that
 * need the topology (targets exist and fit their fault kind, job nodes in range) run after the
 * shape is known, and every error carries `<file>: <field path>` in ScenarioError.where.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ScenarioError, isFabricscopeError } from '../core/errors.js';
import { FAULT_KINDS, parseName, type FaultKind } from '../core/names.js';
import { Topology } from '../core/topology.js';

const isoTimestamp = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}/.test(s) && !Number.isNaN(Date.parse(s)), {
  message: 'must be an ISO-8601 timestamp such as 2026-01-01T00:00:00Z',
});

const telemetrySchema = z
  .object({
    switch_interval_ms: z.number().int().positive().default(100),
    gpu_interval_ms: z.number().int().positive().default(1000),
  })
  .strict();

const topologySchema = z
  .object({
    nodes: z.number().int().positive().default(16),
    gpus_per_node: z.number().int().positive().default(8),
    leaves: z.number().int().positive().default(4),
    spines: z.number().int().nonnegative().default(2),
    link_gbps: z.number().positive().default(400),
  })
  .strict();

export const COLLECTIVES = ['allreduce', 'allgather', 'reducescatter', 'alltoall'] as const;
export type CollectiveKind = (typeof COLLECTIVES)[number];

const jobSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits, ".", "_" or "-"'),
    nodes: z.union([z.literal('all'), z.array(z.number().int().nonnegative()).min(1)]).default('all'),
    collective: z.enum(COLLECTIVES).default('allreduce'),
    message_bytes: z.number().int().positive().default(268435456),
    compute_ms: z.number().nonnegative().default(40),
    /** All-reduce algorithm: NCCL's ring (default) or double binary tree. */
    algorithm: z.enum(['ring', 'tree']).optional(),
  })
  .strict();

const faultSchema = z
  .object({
    kind: z.enum(FAULT_KINDS),
    target: z.string().min(1),
    start_s: z.number().nonnegative(),
    duration_s: z.number().positive(),
    severity: z.number().min(0).max(1).default(0.8),
    every_s: z.number().positive().optional(),
  })
  .strict();

const scenarioSchema = z
  .object({
    name: z.string().min(1).default('scenario'),
    seed: z.number().int().nonnegative().default(1),
    duration_s: z.number().nonnegative().default(60),
    // Resolved at parse time so that the rest of the simulator sees one fixed t=0.
    start: isoTimestamp.default(() => new Date().toISOString()),
    telemetry: telemetrySchema.default({ switch_interval_ms: 100, gpu_interval_ms: 1000 }),
    topology: topologySchema.default({ nodes: 16, gpus_per_node: 8, leaves: 4, spines: 2, link_gbps: 400 }),
    jobs: z
      .array(jobSchema)
      .default([{ id: 'train-a', nodes: 'all', collective: 'allreduce', message_bytes: 268435456, compute_ms: 40 }]),
    background: z.object({ load: z.number().min(0).max(0.95).default(0) }).strict().default({ load: 0 }),
    faults: z.array(faultSchema),
  })
  .strict();

export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioJob = Scenario['jobs'][number];
export type ScenarioFault = Scenario['faults'][number];

/** Renders a zod path as `faults[0].severity`. */
function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function joinWhere(source: string, field: string): string {
  return field ? `${source}: ${field}` : source;
}

/** Parses and validates scenario text (YAML is a superset of JSON, so one parser serves both). */
export function parseScenario(text: string, sourceName = 'scenario'): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ScenarioError(`not valid YAML or JSON: ${(e as Error).message}`, sourceName);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ScenarioError('the scenario must be a mapping (an object) at the top level', sourceName);
  }
  const result = scenarioSchema.safeParse(raw);
  if (!result.success) {
    // Report the first problem precisely; an unknown key names itself in the path.
    const issue = result.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0]!;
      const where = fieldPath([...issue.path, key]);
      throw new ScenarioError(`unknown key${issue.keys.length > 1 ? ` (also: ${issue.keys.slice(1).join(', ')})` : ''}`, joinWhere(sourceName, where));
    }
    const where = fieldPath(issue.path) || '(top level)';
    const message = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
    throw new ScenarioError(message, joinWhere(sourceName, where));
  }
  const scenario = result.data;
  checkAgainstTopology(scenario, sourceName);
  return scenario;
}

export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ScenarioError(`cannot read the scenario file: ${(e as Error).message}`, file);
  }
  return parseScenario(text, file);
}

/** Which names a fault kind may target (DESIGN.md fault taxonomy). */
const TARGET_RULES: Record<FaultKind, { describe: string; fits: (topo: Topology, name: string) => boolean }> = {
  incast_congestion: { describe: 'a leaf downlink port (leaf-<i>/p<k>, k < D)', fits: (t, n) => t.ports.get(n)?.role === 'leaf_downlink' },
  ecmp_collision: { describe: 'a leaf uplink port (leaf-<i>/p<k>, k ≥ D)', fits: (t, n) => t.ports.get(n)?.role === 'leaf_uplink' },
  link_degraded: { describe: 'a switch port', fits: (t, n) => t.ports.has(n) },
  link_flap: { describe: 'a switch port', fits: (t, n) => t.ports.has(n) },
  pfc_storm: { describe: 'a NIC (node-<n>/nic-<g>) or a switch port', fits: (t, n) => t.ports.has(n) || parseName(n)?.kind === 'nic' },
  credit_starvation: { describe: 'an nvsw port (nvsw-<n>/p<g>)', fits: (t, n) => t.ports.get(n)?.role === 'nvsw_gpu' },
  straggler_gpu: { describe: 'a GPU (node-<n>/gpu-<g>)', fits: (_t, n) => parseName(n)?.kind === 'gpu' },
};

function checkAgainstTopology(s: Scenario, source: string): void {
  let topology: Topology;
  try {
    topology = new Topology(s.topology);
  } catch (e) {
    if (isFabricscopeError(e)) throw new ScenarioError(e.message.replace(/^topology: /, ''), joinWhere(source, 'topology'));
    throw e;
  }
  const seenJobs = new Set<string>();
  s.jobs.forEach((job, j) => {
    if (seenJobs.has(job.id)) throw new ScenarioError(`duplicate job id "${job.id}"`, joinWhere(source, `jobs[${j}].id`));
    seenJobs.add(job.id);
    if (job.nodes !== 'all') {
      const seen = new Set<number>();
      job.nodes.forEach((n, k) => {
        if (n >= s.topology.nodes) {
          throw new ScenarioError(`node index ${n} is out of range (the topology has nodes 0..${s.topology.nodes - 1})`, joinWhere(source, `jobs[${j}].nodes[${k}]`));
        }
        if (seen.has(n)) throw new ScenarioError(`node index ${n} is listed twice`, joinWhere(source, `jobs[${j}].nodes[${k}]`));
        seen.add(n);
      });
    }
  });
  s.faults.forEach((f, i) => {
    const where = joinWhere(source, `faults[${i}].target`);
    if (!topology.has(f.target)) throw new ScenarioError(`"${f.target}" does not exist in the topology`, where);
    const rule = TARGET_RULES[f.kind];
    if (!rule.fits(topology, f.target)) throw new ScenarioError(`"${f.target}" is the wrong kind of target for ${f.kind}: it needs ${rule.describe}`, where);
    if (f.every_s !== undefined && f.every_s < f.duration_s) {
      throw new ScenarioError(`every_s (${f.every_s}) must be at least duration_s (${f.duration_s}) so occurrences do not overlap`, joinWhere(source, `faults[${i}].every_s`));
    }
  });
}

/** The nodes a job runs on, ascending. */
export function jobNodes(job: ScenarioJob, topologyNodes: number): number[] {
  if (job.nodes === 'all') return Array.from({ length: topologyNodes }, (_, n) => n);
  return [...job.nodes].sort((a, b) => a - b);
}

export const scenarioStartMs = (s: Scenario): number => Date.parse(s.start);
