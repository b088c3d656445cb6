/**
 * Alertmanager's v2 API (`POST /api/v2/alerts`), with the timestamps Prometheus sends:
 * firing alerts carry endsAt = now + 4 × max(resend interval, evaluation interval), so
 * Alertmanager resolves them by itself if fabricscope disappears; resolved ones carry their
 * resolve time. Alertmanager judges liveness on its own clock, while fabricscope evaluates on
 * event time (a replay may be months old or run ahead of the clock at full speed), so event
 * times are clamped to the wall clock at sending: startsAt ≤ now, and a resolved endsAt ≤ now
 * so that Alertmanager sees it as resolved at once.
 */
import type { Logger } from '../../core/log.js';
import type { NotifiedAlert } from './notified-alert.js';
import { postJson } from './http-post.js';
import { OutboxTarget } from './outbox-target.js';

export interface AlertmanagerTargetOptions {
  /** Base URL, e.g. http://127.0.0.1:9093 (a path prefix is kept). */
  url: string;
  /** How long a firing alert stays valid without a re-send: 4 × max(resend, evaluation interval). */
  validForMs: number;
  /** Link back to the alert, e.g. the platform's /api/v1/alerts. */
  generatorUrl?: string;
  logger: Logger;
  now?: () => number;
}

export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

export class AlertmanagerTarget extends OutboxTarget {
  readonly name: string;
  readonly resends = true;
  private readonly now: () => number;
  private readonly endpoint: string;

  constructor(private readonly options: AlertmanagerTargetOptions) {
    super(options.logger);
    this.name = `alertmanager ${options.url}`;
    this.now = options.now ?? Date.now;
    this.endpoint = `${options.url.replace(/\/+$/, '')}/api/v2/alerts`;
  }

  // Timestamps are computed when each attempt is made, so a retry after an outage still
  // carries a fresh endsAt.
  protected send(alerts: NotifiedAlert[]): Promise<void> {
    return postJson(this.endpoint, alerts.map((a) => this.postable(a)));
  }

  postable(a: NotifiedAlert): PostableAlert {
    const now = this.now();
    const endsMs = a.status === 'resolved' ? Math.min(a.resolved_ms ?? now, now) : now + this.options.validForMs;
    const startsMs = Math.min(a.fired_ms, now, endsMs);
    return {
      labels: a.labels,
      annotations: a.annotations,
      startsAt: new Date(startsMs).toISOString(),
      endsAt: new Date(endsMs).toISOString(),
      ...(this.options.generatorUrl ? { generatorURL: this.options.generatorUrl } : {}),
    };
  }
}
