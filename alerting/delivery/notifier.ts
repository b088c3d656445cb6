/**
 * Decides what to send to whom, on the wall clock (delivery is about receivers that live in real
 * time, whatever event time the evaluation runs on), following Prometheus' notifier:
 * - an alert is sent when it starts firing, when its root cause changes and when it resolves;
 * - firing alerts are re-sent to Alertmanager every `resendIntervalMs`, each time with a fresh
 *   endsAt, so Alertmanager keeps them alive only as long as fabricscope does;
 * - resolved alerts are re-sent for `resolvedRetentionMs` (15 min in Prometheus) in case a
 *   notification was lost on Alertmanager's side.
 * Pending alerts are never sent.
 */
import type { Logger } from '../../core/log.js';
import type { EvaluatedAlert } from '../rule-state.js';
import type { DeliveryTarget, NotifiedAlert } from './notified-alert.js';
import type { OutboxStats } from './outbox.js';

export const DEFAULT_RESEND_INTERVAL_MS = 60_000;
export const RESOLVED_RETENTION_MS = 15 * 60_000;

export interface NotifierOptions {
  targets: DeliveryTarget[];
  resendIntervalMs?: number;
  resolvedRetentionMs?: number;
  logger: Logger;
  now?: () => number;
}

interface Tracked {
  alert: NotifiedAlert;
  lastSentMs: number;
  /** Wall time it resolved: when it stops being re-sent. */
  resolvedWallMs?: number;
}

export class Notifier {
  private readonly tracked = new Map<string, Tracked>();
  private readonly resendMs: number;
  private readonly retentionMs: number;
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;
  private sent = 0;

  constructor(private readonly options: NotifierOptions) {
    this.resendMs = options.resendIntervalMs ?? DEFAULT_RESEND_INTERVAL_MS;
    this.retentionMs = options.resolvedRetentionMs ?? RESOLVED_RETENTION_MS;
    this.now = options.now ?? Date.now;
  }

  get targets(): readonly DeliveryTarget[] {
    return this.options.targets;
  }

  /** Starts the periodic re-sends (idle platforms still refresh Alertmanager). */
  start(): void {
    this.timer ??= setInterval(() => this.resendDue(), Math.max(1_000, Math.floor(this.resendMs / 2)));
    this.timer.unref();
  }

  /** Takes one evaluation's alerts: sends what changed, then whatever is due for a re-send. */
  update(alerts: readonly EvaluatedAlert[]): void {
    const now = this.now();
    const changed: NotifiedAlert[] = [];
    for (const e of alerts) {
      if (e.fired_ms === undefined) continue; // pending, or cleared without firing
      const r = e.record;
      const status = r.state === 'resolved' ? 'resolved' : 'firing';
      const alert: NotifiedAlert = {
        id: r.id,
        fingerprint: e.fingerprint,
        status,
        labels: r.labels,
        annotations: r.annotations,
        fired_ms: e.fired_ms,
        ...(status === 'resolved' ? { resolved_ms: r.ends_ms } : {}),
        value: r.value,
      };
      const t = this.tracked.get(e.fingerprint);
      const isNew = !t || t.alert.id !== alert.id || t.alert.status !== status;
      if (isNew || e.changed) {
        this.tracked.set(e.fingerprint, { alert, lastSentMs: now, ...(status === 'resolved' ? { resolvedWallMs: now } : {}) });
        changed.push(alert);
      } else {
        t.alert = alert; // latest value and annotations for the next re-send
      }
    }
    this.send(changed, this.options.targets);
    this.resendDue();
  }

  async drain(timeoutMs: number): Promise<boolean> {
    const results = await Promise.all(this.options.targets.map((t) => t.drain(timeoutMs)));
    return results.every(Boolean);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const t of this.options.targets) t.close();
  }

  stats(): { tracked: number; sent: number; targets: Record<string, OutboxStats> } {
    return { tracked: this.tracked.size, sent: this.sent, targets: Object.fromEntries(this.options.targets.map((t) => [t.name, t.stats()])) };
  }

  private resendDue(): void {
    const now = this.now();
    const due: NotifiedAlert[] = [];
    for (const [fp, t] of this.tracked) {
      if (t.resolvedWallMs !== undefined && now - t.resolvedWallMs >= this.retentionMs) {
        this.tracked.delete(fp);
        continue;
      }
      if (now - t.lastSentMs >= this.resendMs) {
        t.lastSentMs = now;
        due.push(t.alert);
      }
    }
    this.send(
      due,
      this.options.targets.filter((t) => t.resends),
    );
  }

  private send(alerts: NotifiedAlert[], targets: readonly DeliveryTarget[]): void {
    if (alerts.length === 0 || targets.length === 0) return;
    this.sent += alerts.length;
    for (const t of targets) t.enqueue(alerts);
  }
}
