/**
 * The end-to-end check shared by the fault scenarios: play a scenario through the real platform
 * with a real Alertmanager (whose own webhook receiver records its notifications) and a generic
 * webhook, and follow one expected alert from firing to resolved.
 */
import { expect } from 'vitest';
import { DEFAULT_RULES_FILE, loadRules } from '../../alerting/index.js';
import type { WebhookMessage } from '../../alerting/delivery/webhook-target.js';
import type { Alert } from '../../core/records.js';
import { startAlertmanager, startWebhookRecorder, type AmAlert } from '../harness/alertmanager.js';
import { runScenario } from './scenario-run.js';

export interface ExpectedAlert {
  scenario: string;
  rule: string;
  /** Labels the alert must carry (besides alertname and severity). */
  labels: Record<string, string>;
  rootCause: { kind: string; location: string };
}

const matches = (labels: Record<string, string>, want: Record<string, string>) => Object.entries(want).every(([k, v]) => labels[k] === v);

export async function expectAlertLifecycle(expected: ExpectedAlert): Promise<void> {
  const rules = loadRules(DEFAULT_RULES_FILE);
  const rule = rules.rules.find((r) => r.name === expected.rule)!;
  const windowMs = (rule.condition as { window: number }).window;
  const wantLabels = { ...expected.labels, alertname: expected.rule, severity: rule.severity };

  const amNotifications = await startWebhookRecorder();
  const am = await startAlertmanager({ webhookUrl: amNotifications.url });
  const webhook = await startWebhookRecorder();
  let seenInAlertmanager: AmAlert | undefined;
  try {
    const isExpected = (a: Alert) => a.rule === expected.rule && matches(a.labels, wantLabels);
    const run = await runScenario(expected.scenario, {
      alertmanager: am.url,
      webhooks: [webhook.url],
      // Runs while the replay is held: the alert is firing and the fault still on.
      onAlert: async (a) => {
        if (seenInAlertmanager || !isExpected(a) || a.state !== 'firing' || !a.annotations.root_cause) return;
        seenInAlertmanager = await pollAlertmanager(am.alerts, (x) => matches(x.labels, wantLabels) && x.annotations.root_cause === a.annotations.root_cause);
      },
    });

    const fault = run.groundTruth.find((f) => f.kind === expected.rootCause.kind)!;
    expect(fault, 'ground truth holds the injected fault').toBeDefined();
    const versions = run.alerts.filter(isExpected);
    const firing = versions.find((a) => a.state === 'firing');
    const resolved = versions.find((a) => a.state === 'resolved');
    expect(firing, `a firing ${expected.rule}; published: ${JSON.stringify(run.alerts.map((a) => [a.rule, a.state, a.labels]))}`).toBeDefined();

    // Detection delay, in event time: within `for` + two evaluation intervals of the violation.
    // The violation starts once the condition's window has seen the fault, at most `window` in.
    const delay = firing!.updated_ms - fault.start_ms;
    expect(delay).toBeGreaterThanOrEqual(0);
    expect(delay).toBeLessThanOrEqual(windowMs + rule.for_ms + 2 * rules.evaluation_interval_ms);

    // The root cause of the stalls behind it, in the annotations, and in Alertmanager.
    const last = versions.at(-1)!;
    expect(last.annotations.root_cause_kind).toBe(expected.rootCause.kind);
    expect(last.annotations.root_cause_location).toBe(expected.rootCause.location);
    expect(last.annotations.root_cause_stall).toMatch(/^train-a:\d+$/);
    expect(seenInAlertmanager, 'the alert reached Alertmanager while firing').toBeDefined();
    expect(seenInAlertmanager!.labels).toEqual(firing!.labels);
    expect(seenInAlertmanager!.annotations).toMatchObject({ root_cause: `${expected.rootCause.kind} at ${expected.rootCause.location}`, summary: expect.any(String) });
    expect(seenInAlertmanager!.status.state).toBe('active');

    // Resolved after the fault ended, in event time, one episode (one id) throughout.
    expect(resolved, 'the alert resolves after the fault ends').toBeDefined();
    expect(resolved!.ends_ms).toBeGreaterThanOrEqual(fault.end_ms);
    expect(resolved!.ends_ms).toBeLessThanOrEqual(fault.end_ms + windowMs + rule.keep_firing_for_ms + 2 * rules.evaluation_interval_ms);
    expect(resolved!.id).toBe(firing!.id);
    expect(resolved!.annotations.never_fired).toBeUndefined();

    // Alertmanager took the resolution: it no longer lists the alert, and told its receiver.
    await pollAlertmanager(am.alerts, (x) => matches(x.labels, wantLabels), 'absent');
    await amNotifications.waitFor((received) =>
      (received as WebhookMessage[]).some((m) => m.alerts.some((x) => x.status === 'resolved' && matches(x.labels, wantLabels))),
    );

    // The generic webhook got both, as Alertmanager webhook v4 payloads.
    const fromUs = webhook.received as WebhookMessage[];
    const statuses = fromUs.flatMap((m) => m.alerts.filter((x) => matches(x.labels, wantLabels)).map((x) => x.status));
    expect(fromUs.every((m) => m.version === '4')).toBe(true);
    expect(statuses[0]).toBe('firing');
    expect(statuses.at(-1)).toBe('resolved');
  } finally {
    await am.stop();
    await amNotifications.close();
    await webhook.close();
  }
}

/** Polls Alertmanager's GET /api/v2/alerts until an alert satisfies `match` (or none does). */
export async function pollAlertmanager(
  list: () => Promise<AmAlert[]>,
  match: (a: AmAlert) => boolean,
  want: 'present' | 'absent' = 'present',
  timeoutMs = 20_000,
): Promise<AmAlert | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: AmAlert[] = [];
  for (;;) {
    last = await list();
    const found = last.find(match);
    if (want === 'present' ? found : !found) return found;
    if (Date.now() > deadline) throw new Error(`Alertmanager: alert ${want === 'present' ? 'never appeared' : 'never went away'}; it lists ${JSON.stringify(last).slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
