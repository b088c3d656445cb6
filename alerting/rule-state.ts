/**
 * One rule's alerts and their lifecycle, Prometheus' semantics on event time:
 *   inactive → pending (condition true) → firing (still true `for` later; at once when `for` is 0)
 *   firing → resolved (condition false for `keep_firing_for`, or at once when that is 0)
 *   pending → dropped when the condition clears before `for` (Prometheus forgets it; we publish
 *   it once as resolved with annotation never_fired="true", so the store does not keep a stale
 *   pending alert).
 * One alert per distinct label set: the series' labels, the rule's labels, alertname, severity.
 */
import type { Alert, AlertState } from '../core/records.js';
import type { AlertInputs } from './alert-inputs.js';
import type { Condition } from './conditions/index.js';
import { alertId, fingerprint, sortedLabels } from './fingerprint.js';
import { rootCauseAnnotations, rootCauseStall } from './root-cause-annotations.js';
import type { AlertRule } from './rule-file.js';

/** One alert as of one evaluation. */
export interface EvaluatedAlert {
  record: Alert;
  fingerprint: string;
  /** Event time it started firing (Alertmanager's startsAt), when it did. */
  fired_ms?: number;
  /** True when its state or root cause changed at this evaluation: a new version to publish. */
  changed: boolean;
}

interface ActiveAlert {
  id: string;
  fingerprint: string;
  labels: Record<string, string>;
  state: Exclude<AlertState, 'resolved'>;
  active_ms: number;
  fired_ms?: number;
  /** First evaluation at which a firing alert's condition was false (keep_firing_for counts from it). */
  keep_firing_since_ms?: number;
  value: number;
  rootCause: Record<string, string>;
}

export class RuleState {
  private readonly active = new Map<string, ActiveAlert>();

  constructor(
    readonly rule: AlertRule,
    private readonly condition: Condition,
  ) {}

  /** How far back this rule needs data: its window, plus the time an alert can stay up on it. */
  get lookbackMs(): number {
    return this.condition.windowMs + this.rule.for_ms + this.rule.keep_firing_for_ms;
  }

  activeCount(): number {
    return this.active.size;
  }

  /** Evaluates at event time `t`; returns every alert that is active, or resolved now. */
  evaluate(t: number, inputs: AlertInputs): EvaluatedAlert[] {
    const { rule } = this;
    const violating = new Map<string, { labels: Record<string, string>; value: number }>();
    for (const s of this.condition.evaluate(t, inputs)) {
      const labels = sortedLabels({ ...s.labels, ...rule.labels, alertname: rule.name, severity: rule.severity });
      violating.set(fingerprint(labels), { labels, value: s.value });
    }

    const out: EvaluatedAlert[] = [];
    for (const [fp, v] of violating) {
      let a = this.active.get(fp);
      let changed = false;
      if (!a) {
        a = { id: alertId(v.labels, t), fingerprint: fp, labels: v.labels, state: 'pending', active_ms: t, value: v.value, rootCause: {} };
        this.active.set(fp, a);
        changed = true;
      }
      a.value = v.value;
      a.keep_firing_since_ms = undefined;
      if (a.state === 'pending' && t - a.active_ms >= rule.for_ms) {
        a.state = 'firing';
        a.fired_ms = t;
        changed = true;
      }
      if (this.refreshRootCause(a, t, inputs)) changed = true;
      out.push(this.version(a, a.state, 0, t, changed));
    }

    for (const [fp, a] of [...this.active]) {
      if (violating.has(fp)) continue;
      if (a.state === 'firing' && rule.keep_firing_for_ms > 0) {
        a.keep_firing_since_ms ??= t;
        if (t - a.keep_firing_since_ms < rule.keep_firing_for_ms) {
          out.push(this.version(a, 'firing', 0, t, this.refreshRootCause(a, t, inputs)));
          continue;
        }
      }
      this.active.delete(fp);
      // A stall spanning the whole violation is only published once it ends: look once more.
      this.refreshRootCause(a, t, inputs);
      out.push(this.version(a, 'resolved', t, t, true));
    }
    return out;
  }

  /**
   * Looks up the root cause again (stalls arrive after the samples) over the stalls that ended
   * since the window before the alert became active; true when it changed.
   */
  private refreshRootCause(a: ActiveAlert, t: number, inputs: AlertInputs): boolean {
    const stall = rootCauseStall(a.labels, a.active_ms - this.condition.windowMs, t, inputs);
    if (!stall) return false; // keep the last one found
    const next = rootCauseAnnotations(stall);
    const changed = next.root_cause !== a.rootCause.root_cause;
    a.rootCause = next;
    return changed;
  }

  private version(a: ActiveAlert, state: AlertState, endsMs: number, t: number, changed: boolean): EvaluatedAlert {
    const data = { labels: a.labels, value: a.value };
    const annotations: Record<string, string> = {};
    for (const [k, tpl] of Object.entries(this.rule.annotations)) annotations[k] = tpl.render(data);
    Object.assign(annotations, a.rootCause);
    if (state === 'resolved' && a.fired_ms === undefined) annotations.never_fired = 'true';
    return {
      record: {
        id: a.id,
        rule: this.rule.name,
        state,
        labels: a.labels,
        annotations,
        starts_ms: a.active_ms,
        ends_ms: endsMs,
        value: a.value,
        updated_ms: t,
      },
      fingerprint: a.fingerprint,
      fired_ms: a.fired_ms,
      changed,
    };
  }
}
