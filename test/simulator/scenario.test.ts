import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { ScenarioError } from '../../core/errors.js';
import { loadScenario, parseScenario } from '../../simulator/scenario.js';

const root = resolve(import.meta.dirname, '../..');

function errorOf(text: string): ScenarioError {
  try {
    parseScenario(text, 'test.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return e as ScenarioError;
  }
  throw new Error('expected a ScenarioError');
}

const base = (faults: string, extra = '') => `
name: t
seed: 3
duration_s: 10
start: "2026-01-01T00:00:00Z"
topology: { nodes: 2, gpus_per_node: 4, leaves: 2, spines: 2 }
${extra}
faults:
${faults}
`;

describe('scenario validation', () => {
  it('fills defaults for everything but faults', () => {
    const s = parseScenario('faults: []', 'x.yaml');
    expect(s.seed).toBe(1);
    expect(s.telemetry).toEqual({ switch_interval_ms: 100, gpu_interval_ms: 1000 });
    expect(s.topology).toEqual({ nodes: 16, gpus_per_node: 8, leaves: 4, spines: 2, link_gbps: 400 });
    expect(s.jobs[0]).toMatchObject({ id: 'train-a', nodes: 'all', collective: 'allreduce' });
    expect(Number.isNaN(Date.parse(s.start))).toBe(false);
  });

  it('accepts JSON as well as YAML', () => {
    const s = parseScenario(JSON.stringify({ name: 'j', faults: [], topology: { nodes: 2, gpus_per_node: 2, leaves: 1, spines: 0 } }), 'j.json');
    expect(s.name).toBe('j');
  });

  it('requires faults', () => {
    expect(errorOf('name: x').where).toBe('test.yaml: faults');
  });

  it('names an unknown key with its path', () => {
    const e = errorOf(base('  - { kind: incast_congestion, target: leaf-0/p1, start_s: 1, duration_s: 2, sevrity: 0.5 }'));
    expect(e.where).toBe('test.yaml: faults[0].sevrity');
    expect(e.message).toContain('faults[0].sevrity: unknown key');
    expect(errorOf(base('  []', 'topology2: 1')).where).toBe('test.yaml: topology2');
    expect(errorOf('faults: []\ntelemetry: { switch_interval: 5 }').where).toBe('test.yaml: telemetry.switch_interval');
  });

  it('names bad values', () => {
    expect(errorOf(base('  - { kind: straggler_gpu, target: node-0/gpu-1, start_s: 1, duration_s: -2 }')).where).toBe('test.yaml: faults[0].duration_s');
    expect(errorOf(base('  - { kind: straggler_gpu, target: node-0/gpu-1, start_s: 1, duration_s: 2, severity: 1.5 }')).where).toBe('test.yaml: faults[0].severity');
    expect(errorOf(base('  - { kind: meltdown, target: node-0/gpu-1, start_s: 1, duration_s: 2 }')).where).toBe('test.yaml: faults[0].kind');
    expect(errorOf('faults: []\nstart: yesterday').where).toBe('test.yaml: start');
  });

  it('rejects targets that do not exist or do not fit the kind', () => {
    const missing = errorOf(base('  - { kind: incast_congestion, target: leaf-7/p1, start_s: 1, duration_s: 2 }'));
    expect(missing.where).toBe('test.yaml: faults[0].target');
    expect(missing.message).toContain('leaf-7/p1');
    // leaf ports p0..p3 are downlinks (D = 4), p4/p5 uplinks.
    const wrong = errorOf(base('  - { kind: incast_congestion, target: leaf-0/p4, start_s: 1, duration_s: 2 }'));
    expect(wrong.message).toContain('wrong kind of target');
    expect(errorOf(base('  - { kind: ecmp_collision, target: leaf-0/p1, start_s: 1, duration_s: 2 }')).where).toBe('test.yaml: faults[0].target');
    expect(errorOf(base('  - { kind: credit_starvation, target: leaf-0/p1, start_s: 1, duration_s: 2 }')).where).toBe('test.yaml: faults[0].target');
    expect(errorOf(base('  - { kind: straggler_gpu, target: node-0/nic-1, start_s: 1, duration_s: 2 }')).where).toBe('test.yaml: faults[0].target');
    expect(errorOf(base('  - { kind: link_flap, target: node-0/gpu-1, start_s: 1, duration_s: 2 }')).where).toBe('test.yaml: faults[0].target');
    // Every kind accepts its proper target.
    const ok = parseScenario(
      base(`  - { kind: incast_congestion, target: leaf-0/p1, start_s: 1, duration_s: 2 }
  - { kind: ecmp_collision, target: leaf-0/p4, start_s: 1, duration_s: 2 }
  - { kind: link_degraded, target: spine-1/p0, start_s: 1, duration_s: 2 }
  - { kind: link_flap, target: leaf-1/p5, start_s: 1, duration_s: 2 }
  - { kind: pfc_storm, target: node-1/nic-3, start_s: 1, duration_s: 2 }
  - { kind: credit_starvation, target: nvsw-1/p3, start_s: 1, duration_s: 2 }
  - { kind: straggler_gpu, target: node-1/gpu-3, start_s: 1, duration_s: 2 }`),
      'ok.yaml',
    );
    expect(ok.faults).toHaveLength(7);
  });

  it('rejects job nodes out of range and a D that is not whole', () => {
    expect(errorOf(base('  []', 'jobs: [{ id: a, nodes: [0, 2] }]')).where).toBe('test.yaml: jobs[0].nodes[1]');
    const e = errorOf('faults: []\ntopology: { nodes: 3, gpus_per_node: 1, leaves: 2 }');
    expect(e.where).toBe('test.yaml: topology');
    expect(e.message).toContain('not whole');
  });

  it('loads the bundled examples and rejects the invalid ones by name', async () => {
    const s = await loadScenario(resolve(root, 'examples/incast-and-straggler.yaml'));
    expect(s.faults.map((f) => f.kind)).toEqual(['incast_congestion', 'straggler_gpu']);
    expect((await loadScenario(resolve(root, 'examples/demo.yaml'))).duration_s).toBe(0);
    const cases: Array<[string, string]> = [
      ['unknown-key.yaml', 'faults[0].sevrity'],
      ['nonexistent-target.yaml', 'faults[0].target'],
      ['negative-duration.yaml', 'faults[0].duration_s'],
    ];
    for (const [file, field] of cases) {
      const path = resolve(root, 'examples/invalid', file);
      await expect(loadScenario(path)).rejects.toMatchObject({ code: 'INVALID_SCENARIO', where: `${path}: ${field}` });
    }
  });
});
