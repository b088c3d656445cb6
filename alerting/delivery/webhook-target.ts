/**
 * A generic webhook receiving what Alertmanager's webhook receiver sends (payload version 4),
 * so anything built for Alertmanager webhooks accepts fabricscope directly. Alerts are grouped
 * by alertname, one POST per group. Webhooks are told of changes only (firing, root cause found,
 * resolved), not the periodic re-sends meant for Alertmanager's liveness. Times are event times;
 * firing alerts carry Alertmanager's zero endsAt.
 */
import type { Logger } from '../../core/log.js';
import { fingerprint } from '../fingerprint.js';
import type { NotifiedAlert } from './notified-alert.js';
import { postJson } from './http-post.js';
import { OutboxTarget } from './outbox-target.js';

/** What Alertmanager puts in endsAt of a firing alert (Go's zero time). */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface WebhookTargetOptions {
  url: string;
  /** The `receiver` field. */
  receiver?: string;
  /** The `externalURL` field: where a human goes from the notification. */
  externalUrl?: string;
  logger: Logger;
}

export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface WebhookMessage {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

export class WebhookTarget extends OutboxTarget {
  readonly name: string;
  readonly resends = false;

  constructor(private readonly options: WebhookTargetOptions) {
    super(options.logger);
    this.name = `webhook ${options.url}`;
  }

  protected async send(alerts: NotifiedAlert[]): Promise<void> {
    for (const message of this.messages(alerts)) await postJson(this.options.url, message);
  }

  /** One v4 message per alertname among `alerts`. */
  messages(alerts: readonly NotifiedAlert[]): WebhookMessage[] {
    const groups = new Map<string, NotifiedAlert[]>();
    for (const a of alerts) {
      const name = a.labels.alertname ?? '';
      groups.set(name, [...(groups.get(name) ?? []), a]);
    }
    const externalURL = this.options.externalUrl ?? '';
    return [...groups].map(([alertname, group]) => ({
      version: '4',
      groupKey: `{}:{alertname=${JSON.stringify(alertname)}}`,
      truncatedAlerts: 0,
      status: group.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
      receiver: this.options.receiver ?? 'fabricscope',
      groupLabels: { alertname },
      commonLabels: common(group.map((a) => a.labels)),
      commonAnnotations: common(group.map((a) => a.annotations)),
      externalURL,
      alerts: group.map((a) => ({
        status: a.status,
        labels: a.labels,
        annotations: a.annotations,
        startsAt: new Date(a.fired_ms).toISOString(),
        endsAt: a.status === 'resolved' && a.resolved_ms !== undefined ? new Date(a.resolved_ms).toISOString() : ZERO_TIME,
        generatorURL: externalURL,
        fingerprint: fingerprint(a.labels),
      })),
    }));
  }
}

/** The pairs every map shares. */
function common(maps: ReadonlyArray<Record<string, string>>): Record<string, string> {
  const [first, ...rest] = maps;
  if (!first) return {};
  return Object.fromEntries(Object.entries(first).filter(([k, v]) => rest.every((m) => m[k] === v)));
}
