import { describe, expect, test } from 'vitest';
import { AlertInputs } from '../../alerting/alert-inputs.js';
import type { Condition, Series } from '../../alerting/conditions/index.js';
import { alertId, fingerprint } from '../../alerting/fingerprint.js';
import { parseRules } from '../../alerting/rule-file.js';
import { RuleState } from '../../alerting/rule-state.js';
import type { Stall } from '../../core/records.js';

/** A condition that returns what the test scripted for each evaluation time. */
class Scripted implements Condition {
  readonly windowMs = 1_000;
  constructor(private readonly script: (t: number) => Series[]) {}
  evaluate(t: number): Series[] {
    return this.script(t);
  }
}

function ruleState(extra: string, script: (t: number) => Series[]): RuleState {
  const { rules } = parseRules(
    `rules:
  - name: Jitter
    condition: { kind: straggler_gpu }
    severity: critical
    labels: { team: fabric }
    annotations: { summary: "{{ $labels.gpu }} value {{ $value }}" }
${extra}`,
    'test.yaml',
  );
  return new RuleState(rules[0]!, new Scripted(script));
}

const gpu = (g: string, value = 4): Series => ({ labels: { gpu: g, job: 'train-a' }, value });

/** Runs evaluations at t = 1000, 2000, … and returns the state of the alert at each. */
function run(state: RuleState, until: number, inputs = new AlertInputs(60_000)) {
  const out: Array<{ t: number; state?: string; changed?: boolean; id?: string; record?: ReturnType<RuleState['evaluate']>[number] }> = [];
  for (let t = 1_000; t <= until; t += 1_000) {
    const [a] = state.evaluate(t, inputs);
    out.push({ t, state: a?.record.state, changed: a?.changed, id: a?.record.id, record: a });
  }
  return out;
}

describe('alert state machine', () => {
  test('pending → firing after `for` → resolved when the condition clears', () => {
    const s = ruleState('    for: 2s\n', (t) => (t >= 2_000 && t <= 6_000 ? [gpu('node-2/gpu-1')] : []));
    const seen = run(s, 8_000);
    expect(seen.map((x) => x.state)).toEqual([undefined, 'pending', 'pending', 'firing', 'firing', 'firing', 'resolved', undefined]);
    expect(seen.map((x) => x.changed)).toEqual([undefined, true, false, true, false, false, true, undefined]);
    const labels = { alertname: 'Jitter', gpu: 'node-2/gpu-1', job: 'train-a', severity: 'critical', team: 'fabric' };
    const firing = seen[3]!.record!;
    expect(firing.record.labels).toEqual(labels);
    expect(Object.keys(firing.record.labels)).toEqual(Object.keys(labels).sort());
    expect(firing.record).toMatchObject({ id: alertId(labels, 2_000), starts_ms: 2_000, ends_ms: 0, updated_ms: 4_000, value: 4 });
    expect(firing.fired_ms).toBe(4_000);
    expect(firing.fingerprint).toBe(fingerprint(labels));
    expect(firing.record.annotations.summary).toBe('node-2/gpu-1 value 4');
    expect(seen[6]!.record!.record).toMatchObject({ state: 'resolved', ends_ms: 7_000, id: firing.record.id });
    // The same episode keeps one id from pending to resolved.
    expect(new Set(seen.filter((x) => x.id).map((x) => x.id)).size).toBe(1);
  });

  test('no `for`: fires at the first evaluation that sees the violation', () => {
    const s = ruleState('', (t) => (t === 3_000 ? [gpu('node-0/gpu-0')] : []));
    expect(run(s, 4_000).map((x) => x.state)).toEqual([undefined, undefined, 'firing', 'resolved']);
  });

  test('keep_firing_for holds a firing alert through short gaps', () => {
    const on = new Set([1_000, 2_000, 4_000]);
    const s = ruleState('    keep_firing_for: 2s\n', (t) => (on.has(t) ? [gpu('node-0/gpu-0')] : []));
    // Cleared at 3 s (kept), back at 4 s, cleared from 5 s: kept at 5 and 6, resolved at 7.
    expect(run(s, 8_000).map((x) => x.state)).toEqual(['firing', 'firing', 'firing', 'firing', 'firing', 'firing', 'resolved', undefined]);
  });

  test('a pending alert that clears never fires, and is closed in the store', () => {
    const s = ruleState('    for: 5s\n', (t) => (t <= 2_000 ? [gpu('node-0/gpu-0')] : []));
    const seen = run(s, 4_000);
    expect(seen.map((x) => x.state)).toEqual(['pending', 'pending', 'resolved', undefined]);
    expect(seen[2]!.record!.fired_ms).toBeUndefined();
    expect(seen[2]!.record!.record.annotations.never_fired).toBe('true');
  });

  test('one alert per distinct label set; a new episode gets a new id', () => {
    const s = ruleState('', (t) => (t === 1_000 ? [gpu('a'), gpu('b')] : t === 3_000 ? [gpu('a')] : []));
    const first = s.evaluate(1_000, new AlertInputs(60_000));
    expect(first.map((a) => a.record.labels.gpu)).toEqual(['a', 'b']);
    s.evaluate(2_000, new AlertInputs(60_000));
    const again = s.evaluate(3_000, new AlertInputs(60_000));
    expect(again[0]!.record.id).not.toBe(first[0]!.record.id);
    expect(again[0]!.fingerprint).toBe(first[0]!.fingerprint);
  });

  test('the root cause of the stalls behind the alert goes into its annotations, also when found late', () => {
    const inputs = new AlertInputs(60_000);
    const s = ruleState('', (t) => (t <= 3_000 ? [gpu('node-2/gpu-1')] : []));
    const seen: string[] = [];
    for (let t = 1_000; t <= 4_000; t += 1_000) {
      if (t === 2_000) inputs.addStalls([stall('train-a:7', 1_500, 'straggler_gpu', 'node-2/gpu-1'), stall('train-a:8', 1_600, 'incast_congestion', 'leaf-0/p4')]);
      const [a] = s.evaluate(t, inputs);
      seen.push(`${a!.record.state}:${a!.changed}:${a!.record.annotations.root_cause ?? '-'}`);
    }
    expect(seen).toEqual(['firing:true:-', 'firing:true:straggler_gpu at node-2/gpu-1', 'firing:false:straggler_gpu at node-2/gpu-1', 'resolved:true:straggler_gpu at node-2/gpu-1']);
  });
});

function stall(id: string, endMs: number, kind: Stall['root_cause']['kind'], location: string): Stall {
  return {
    id,
    job: 'train-a',
    collective: 'AllReduce',
    seq: 7,
    start_ms: endMs - 100,
    end_ms: endMs,
    duration_us: 100_000,
    expected_us: 40_000,
    slowest_rank: 5,
    ranks: [],
    root_cause: { kind, location, confidence: 0.8, evidence: [{ signal: 'start_skew_us', location, value: 60_000, unit: 'us' }] },
  };
}
