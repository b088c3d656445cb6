import { afterEach, describe, expect, test } from 'vitest';
import { AlertmanagerTarget } from '../../alerting/delivery/alertmanager-target.js';
import type { DeliveryTarget, NotifiedAlert } from '../../alerting/delivery/notified-alert.js';
import { Notifier } from '../../alerting/delivery/notifier.js';
import { Outbox, PermanentDeliveryError } from '../../alerting/delivery/outbox.js';
import { WebhookTarget, ZERO_TIME, type WebhookMessage } from '../../alerting/delivery/webhook-target.js';
import { fingerprint } from '../../alerting/fingerprint.js';
import type { EvaluatedAlert } from '../../alerting/rule-state.js';
import { createLogger } from '../../core/log.js';
import { startWebhookRecorder, type WebhookRecorder } from '../harness/alertmanager.js';

const logger = createLogger('silent');
const labels = { alertname: 'PfcPauseStorm', port: 'leaf-0/p4', severity: 'critical' };

function notified(status: 'firing' | 'resolved', extra: Partial<NotifiedAlert> = {}): NotifiedAlert {
  return {
    id: `${fingerprint(labels)}-1000`,
    fingerprint: fingerprint(labels),
    status,
    labels,
    annotations: { summary: 'paused', root_cause: 'pfc_storm at node-1/nic-0' },
    fired_ms: Date.UTC(2026, 0, 1, 0, 0, 12),
    ...(status === 'resolved' ? { resolved_ms: Date.UTC(2026, 0, 1, 0, 0, 19) } : {}),
    value: 0.9,
    ...extra,
  };
}

let recorder: WebhookRecorder | undefined;
afterEach(async () => {
  await recorder?.close();
  recorder = undefined;
});

describe('outbox', () => {
  test('retries with back-off until the receiver is back, and keeps only the latest version per key', async () => {
    const sent: string[][] = [];
    let up = false;
    const box = new Outbox<string>({
      logger,
      initialBackoffMs: 5,
      maxBackoffMs: 20,
      send: async (items) => {
        if (!up) throw new Error('connection refused');
        sent.push(items);
      },
    });
    box.put('a', 'a1');
    box.put('b', 'b1');
    await new Promise((r) => setTimeout(r, 30));
    box.put('a', 'a2'); // supersedes a1 while the receiver is down
    expect(box.stats().pending).toBe(2);
    expect(box.stats().retries).toBeGreaterThan(1);
    up = true;
    expect(await box.drain(5_000)).toBe(true);
    expect(sent).toEqual([['b1', 'a2']]);
    expect(box.stats()).toMatchObject({ pending: 0, delivered: 2, dropped: 0 });
    box.close();
  });

  test('bounded: beyond capacity the least recently updated entry goes, and is counted', () => {
    const box = new Outbox<number>({ logger, capacity: 2, send: () => new Promise(() => {}) });
    box.put('a', 1);
    box.put('b', 2);
    box.put('c', 3);
    expect(box.stats()).toMatchObject({ pending: 2, dropped: 1 });
    box.close();
  });

  test('a receiver that refuses the content (4xx) does not block the queue', async () => {
    let calls = 0;
    const box = new Outbox<number>({
      logger,
      send: async () => {
        calls++;
        throw new PermanentDeliveryError('400 bad alert');
      },
    });
    box.put('a', 1);
    expect(await box.drain(1_000)).toBe(true);
    expect(calls).toBe(1);
    expect(box.stats()).toMatchObject({ rejected: 1, pending: 0 });
  });
});

describe('Alertmanager timestamps (Prometheus semantics on event time)', () => {
  const now = Date.UTC(2026, 5, 1);
  const target = new AlertmanagerTarget({ url: 'http://127.0.0.1:1', validForMs: 240_000, logger, now: () => now, generatorUrl: 'http://x/api/v1/alerts' });

  test('firing: startsAt is when it fired, endsAt now + 4 × resend', () => {
    expect(target.postable(notified('firing'))).toEqual({
      labels,
      annotations: { summary: 'paused', root_cause: 'pfc_storm at node-1/nic-0' },
      startsAt: '2026-01-01T00:00:12.000Z',
      endsAt: new Date(now + 240_000).toISOString(),
      generatorURL: 'http://x/api/v1/alerts',
    });
  });

  test('resolved: endsAt is when it resolved', () => {
    expect(target.postable(notified('resolved'))).toMatchObject({ startsAt: '2026-01-01T00:00:12.000Z', endsAt: '2026-01-01T00:00:19.000Z' });
  });

  test('event time ahead of the wall clock (a full-speed replay) is clamped to now', () => {
    const ahead = notified('resolved', { fired_ms: now + 5_000, resolved_ms: now + 9_000 });
    const p = target.postable(ahead);
    expect(p.endsAt).toBe(new Date(now).toISOString());
    expect(p.startsAt).toBe(new Date(now).toISOString());
  });
});

describe('webhook (Alertmanager v4 payload)', () => {
  test('firing and resolved notifications, grouped by alertname', async () => {
    recorder = await startWebhookRecorder();
    const target = new WebhookTarget({ url: recorder.url, externalUrl: 'http://127.0.0.1:8080', logger });
    target.enqueue([notified('firing')]);
    await recorder.waitFor((r) => r.length === 1);
    target.enqueue([notified('resolved')]);
    await recorder.waitFor((r) => r.length === 2);
    const [firing, resolved] = recorder.received as WebhookMessage[];
    expect(firing).toEqual({
      version: '4',
      groupKey: '{}:{alertname="PfcPauseStorm"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'fabricscope',
      groupLabels: { alertname: 'PfcPauseStorm' },
      commonLabels: labels,
      commonAnnotations: { summary: 'paused', root_cause: 'pfc_storm at node-1/nic-0' },
      externalURL: 'http://127.0.0.1:8080',
      alerts: [
        {
          status: 'firing',
          labels,
          annotations: { summary: 'paused', root_cause: 'pfc_storm at node-1/nic-0' },
          startsAt: '2026-01-01T00:00:12.000Z',
          endsAt: ZERO_TIME,
          generatorURL: 'http://127.0.0.1:8080',
          fingerprint: fingerprint(labels),
        },
      ],
    });
    expect(firing!.alerts[0]!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(resolved).toMatchObject({ status: 'resolved', alerts: [{ status: 'resolved', endsAt: '2026-01-01T00:00:19.000Z' }] });
    target.close();
  });

  test('nothing is lost while the receiver is down for a while', async () => {
    recorder = await startWebhookRecorder();
    recorder.failWith = 503;
    const target = new WebhookTarget({ url: recorder.url, logger });
    target.enqueue([notified('firing')]);
    await new Promise((r) => setTimeout(r, 600)); // a few failed attempts
    expect(target.stats().retries).toBeGreaterThan(0);
    expect(target.stats().pending).toBe(1);
    recorder.failWith = undefined;
    expect(await target.drain(10_000)).toBe(true);
    expect((recorder.received as WebhookMessage[])[0]!.alerts[0]!.status).toBe('firing');
    target.close();
  });
});

describe('notifier', () => {
  class Capture implements DeliveryTarget {
    readonly batches: NotifiedAlert[][] = [];
    constructor(
      readonly name: string,
      readonly resends: boolean,
    ) {}
    enqueue(alerts: readonly NotifiedAlert[]) {
      this.batches.push([...alerts]);
    }
    drain = async () => true;
    stats = () => ({ pending: 0, delivered: 0, retries: 0, rejected: 0, dropped: 0 });
    close() {}
  }

  const evaluated = (state: 'pending' | 'firing' | 'resolved', changed: boolean, fired = true): EvaluatedAlert => ({
    record: { id: 'fp-1', rule: 'R', state, labels, annotations: {}, starts_ms: 1_000, ends_ms: state === 'resolved' ? 9_000 : 0, value: 1, updated_ms: 0 },
    fingerprint: 'fp',
    ...(fired ? { fired_ms: 2_000 } : {}),
    changed,
  });

  test('sends on change; re-sends firing alerts to Alertmanager only, every resend interval of wall time', () => {
    let now = 0;
    const am = new Capture('am', true);
    const hook = new Capture('hook', false);
    const n = new Notifier({ targets: [am, hook], resendIntervalMs: 60_000, resolvedRetentionMs: 15 * 60_000, logger, now: () => now });
    n.update([evaluated('pending', true, false)]);
    expect(am.batches).toHaveLength(0); // pending alerts are never sent
    n.update([evaluated('firing', true)]);
    expect(am.batches.map((b) => b[0]!.status)).toEqual(['firing']);
    expect(hook.batches).toHaveLength(1);
    now = 30_000;
    n.update([evaluated('firing', false)]);
    expect(am.batches).toHaveLength(1);
    now = 60_000;
    n.update([evaluated('firing', false)]);
    expect(am.batches).toHaveLength(2);
    expect(hook.batches).toHaveLength(1);
    now = 70_000;
    n.update([evaluated('resolved', true)]);
    expect(am.batches.at(-1)![0]).toMatchObject({ status: 'resolved', resolved_ms: 9_000 });
    expect(hook.batches.at(-1)![0]!.status).toBe('resolved');
    // Resolved alerts are re-sent for the retention, then forgotten.
    now = 130_000;
    n.update([]);
    expect(am.batches.at(-1)![0]!.status).toBe('resolved');
    now = 70_000 + 15 * 60_000;
    n.update([]);
    expect(n.stats().tracked).toBe(0);
  });
});
