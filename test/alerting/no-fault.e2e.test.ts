import { expect, test } from 'vitest';
import type { WebhookMessage } from '../../alerting/delivery/webhook-target.js';
import { startAlertmanager, startWebhookRecorder } from '../harness/alertmanager.js';
import { runScenario } from './scenario-run.js';

test('a healthy fabric fires nothing', async () => {
  const am = await startAlertmanager();
  const webhook = await startWebhookRecorder();
  try {
    const run = await runScenario('test/alerting/fixtures/no-fault.yaml', { alertmanager: am.url, webhooks: [webhook.url] });
    expect(run.groundTruth).toEqual([]);
    expect(run.alerts.filter((a) => a.state === 'firing' || (a.state === 'resolved' && a.annotations.never_fired !== 'true'))).toEqual([]);
    expect(await am.alerts()).toEqual([]);
    expect(webhook.received as WebhookMessage[]).toEqual([]);
  } finally {
    await am.stop();
    await webhook.close();
  }
}, 600_000);
