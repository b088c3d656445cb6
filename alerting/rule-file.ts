/**
 * Alert rules in YAML, in the spirit of Prometheus alerting rules:
 *
 *   evaluation_interval: 1s          # event time
 *   rules:
 *     - name: PfcPauseStorm
 *       condition: { kind: pfc_pause_fraction, window: 1s, fraction: 0.5 }
 *       for: 1s
 *       keep_firing_for: 0s
 *       severity: critical
 *       labels: { team: fabric }
 *       annotations:
 *         summary: "{{ $labels.port }} paused {{ $value | humanizePercentage }} of the time"
 *
 * Validated strictly (unknown keys are errors); every error names the rule and the field.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { conditionSchema, type ConditionSpec } from './conditions/index.js';
import { durationField } from './duration.js';
import { Template } from './template.js';

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Labels the engine sets itself. */
const RESERVED_LABELS = new Set(['alertname', 'severity']);
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RULE_NAME = /^[A-Za-z_][A-Za-z0-9_:]*$/;

const labelMap = z.record(z.string().regex(LABEL_NAME, 'label names are [A-Za-z_][A-Za-z0-9_]*'), z.string());

const ruleSchema = z
  .object({
    name: z.string().regex(RULE_NAME, 'rule names are [A-Za-z_][A-Za-z0-9_:]* (they become the alertname label)'),
    condition: conditionSchema,
    for: durationField.default(0),
    keep_firing_for: durationField.default(0),
    severity: z.enum(SEVERITIES).default('warning'),
    labels: labelMap.default({}),
    annotations: z.record(z.string().regex(LABEL_NAME, 'annotation names are [A-Za-z_][A-Za-z0-9_]*'), z.string()).default({}),
  })
  .strict();

const ruleFileSchema = z
  .object({
    evaluation_interval: durationField.default(1_000),
    rules: z.array(z.unknown()),
  })
  .strict();

export interface AlertRule {
  name: string;
  condition: ConditionSpec;
  for_ms: number;
  keep_firing_for_ms: number;
  severity: Severity;
  labels: Record<string, string>;
  annotations: Record<string, Template>;
}

export interface RuleSet {
  /** Event time between two evaluations. */
  evaluation_interval_ms: number;
  rules: AlertRule[];
}

/** Parses and validates a rule file's text; `source` names it in errors. */
export function parseRules(text: string, source: string): RuleSet {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`not valid YAML: ${(e as Error).message}`, source);
  }
  const file = ruleFileSchema.safeParse(doc ?? {});
  if (!file.success) throw new ConfigError(describeIssue(file.error.issues[0]!), `${source}: ${pathOf(file.error.issues[0]!.path)}`);
  if (file.data.evaluation_interval <= 0) throw new ConfigError('must be longer than 0', `${source}: evaluation_interval`);

  const names = new Set<string>();
  const rules = file.data.rules.map((raw, i) => {
    const rawName = (raw as { name?: unknown } | null)?.name;
    const where = (field: string) => `${source}: rule ${typeof rawName === 'string' ? `"${rawName}"` : `#${i + 1}`}${field ? ` field ${field}` : ''}`;
    const parsed = ruleSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ConfigError(describeIssue(issue), where(pathOf(issue.path)));
    }
    const r = parsed.data;
    if (names.has(r.name)) throw new ConfigError('another rule has this name', where('name'));
    names.add(r.name);
    for (const label of Object.keys(r.labels)) {
      if (RESERVED_LABELS.has(label)) throw new ConfigError(`"${label}" is set by the engine (from name / severity)`, where(`labels.${label}`));
    }
    const annotations: Record<string, Template> = {};
    for (const [key, text] of Object.entries(r.annotations)) {
      try {
        annotations[key] = Template.compile(text);
      } catch (e) {
        throw new ConfigError((e as Error).message, where(`annotations.${key}`));
      }
    }
    return {
      name: r.name,
      condition: r.condition,
      for_ms: r.for,
      keep_firing_for_ms: r.keep_firing_for,
      severity: r.severity,
      labels: r.labels,
      annotations,
    } satisfies AlertRule;
  });
  return { evaluation_interval_ms: file.data.evaluation_interval, rules };
}

export function loadRules(file: string): RuleSet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read alert rules: ${(e as Error).message}`, file);
  }
  return parseRules(text, file);
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    default:
      return issue.message;
  }
}
