import { describe, expect, test } from 'vitest';
import { DEFAULT_RULES_FILE, loadRules, parseRules } from '../../alerting/index.js';
import { formatDuration, parseDurationMs } from '../../alerting/duration.js';
import { Template } from '../../alerting/template.js';

const rule = (body: string) => `rules:\n  - name: R1\n${body}`;

function errorOf(text: string): string {
  try {
    parseRules(text, 'rules.yaml');
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('rule file', () => {
  test('the shipped default rules load, one per rule kind', () => {
    const set = loadRules(DEFAULT_RULES_FILE);
    expect(set.evaluation_interval_ms).toBe(1_000);
    expect(new Set(set.rules.map((r) => r.condition.kind))).toEqual(
      new Set(['collective_jitter', 'collective_latency_budget', 'port_queueing_delay', 'pfc_pause_fraction', 'credit_stall_fraction', 'straggler_gpu']),
    );
    for (const r of set.rules) expect(Object.keys(r.annotations)).toContain('summary');
  });

  test('a full rule: durations, defaults, labels, templates', () => {
    const set = parseRules(
      `evaluation_interval: 500ms
rules:
  - name: PfcStorm
    condition: { kind: pfc_pause_fraction, fraction: 0.4 }
    for: 1m30s
    keep_firing_for: 10s
    severity: critical
    labels: { team: fabric }
    annotations:
      summary: "{{ $labels.port }} paused {{ $value | humanizePercentage }}"
`,
      'x.yaml',
    );
    const r = set.rules[0]!;
    expect(set.evaluation_interval_ms).toBe(500);
    expect(r).toMatchObject({ name: 'PfcStorm', for_ms: 90_000, keep_firing_for_ms: 10_000, severity: 'critical', labels: { team: 'fabric' } });
    expect(r.condition).toEqual({ kind: 'pfc_pause_fraction', fraction: 0.4, window: 1_000 });
    expect(r.annotations.summary!.render({ labels: { port: 'leaf-0/p4' }, value: 0.4321 })).toBe('leaf-0/p4 paused 43.21%');
  });

  test('errors name the file, the rule and the field', () => {
    expect(errorOf(rule('    condition: { kind: pfc_pause_fraction, fraction: 0.5, windw: 1s }\n'))).toMatch(
      /rules\.yaml: rule "R1" field condition: unknown key "windw"/,
    );
    expect(errorOf(rule('    condition: { kind: pfc_pause_fraction, fraction: 1.5 }\n'))).toMatch(/rule "R1" field condition\.fraction: /);
    expect(errorOf(rule('    condition: { kind: pfc_pause_fraction, fraction: 0.5 }\n    for: 5 minutes\n'))).toMatch(
      /rule "R1" field for: "5 minutes" is not a duration/,
    );
    expect(errorOf(rule('    condition: { kind: link_sadness }\n'))).toMatch(/rule "R1" field condition\.kind: Invalid discriminator value.*'collective_jitter'/);
    expect(errorOf(rule('    condition: { kind: collective_jitter, window: 5s }\n'))).toMatch(/rule "R1" field condition\.p99_over_p50: give p99_over_p50, cv or both/);
    expect(errorOf(rule('    condition: { kind: straggler_gpu }\n    annotations: { summary: "{{ $labels.gpu }} {{ .Value }}" }\n'))).toMatch(
      /rule "R1" field annotations\.summary: unsupported template action "\{\{ \.Value \}\}"/,
    );
    expect(errorOf(rule('    condition: { kind: straggler_gpu }\n    labels: { alertname: x }\n'))).toMatch(/rule "R1" field labels\.alertname: /);
    expect(errorOf(rule('    condition: { kind: straggler_gpu }\n    severity: page\n'))).toMatch(/rule "R1" field severity: /);
    expect(errorOf(rule('    condition: { kind: straggler_gpu }\n    colour: red\n'))).toMatch(/rule "R1": unknown key "colour"/);
    expect(errorOf(`rules:\n  - name: A\n    condition: { kind: straggler_gpu }\n  - name: A\n    condition: { kind: straggler_gpu }\n`)).toMatch(
      /rule "A" field name: another rule has this name/,
    );
    expect(errorOf(`rules:\n  - condition: { kind: straggler_gpu }\n`)).toMatch(/rule #1 field name: /);
    expect(errorOf(`rule: []\n`)).toMatch(/rules\.yaml: (rules|): /);
    expect(errorOf(`rules: [\n`)).toMatch(/rules\.yaml: not valid YAML/);
  });
});

describe('durations and templates', () => {
  test('durations', () => {
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('1h2m3s')).toBe(3_723_000);
    expect(parseDurationMs(1500)).toBe(1500);
    expect(parseDurationMs('1500')).toBe(1500);
    expect(parseDurationMs('5 s')).toBeUndefined();
    expect(parseDurationMs('-1s')).toBeUndefined();
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(1_500)).toBe('1500ms');
  });

  test('templates', () => {
    const data = { labels: { job: 'train-a' }, value: 1.23456 };
    expect(Template.compile('{{ $labels.job }} at {{$value}}').render(data)).toBe('train-a at 1.235');
    expect(Template.compile('{{ $value | printf "%.1f" }}').render(data)).toBe('1.2');
    expect(Template.compile('{{ $labels.missing }}|').render(data)).toBe('|');
    expect(() => Template.compile('{{ $value | humanize }}')).toThrow(/unsupported template function "humanize"/);
    expect(() => Template.compile('{{ $labels.job }')).toThrow(/unbalanced/);
  });
});
