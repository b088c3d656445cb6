import { expect, test } from 'vitest';
import { AlertmanagerTarget } from '../../alerting/delivery/alertmanager-target.js';
import { fingerprint } from '../../alerting/fingerprint.js';
import { createLogger } from '../../core/log.js';
import { freePort, startAlertmanager } from '../harness/alertmanager.js';

test('alerts raised while Alertmanager is down reach it once it is up, with a fresh endsAt', async () => {
  const port = await freePort();
  const target = new AlertmanagerTarget({ url: `http://127.0.0.1:${port}`, validForMs: 240_000, logger: createLogger('silent') });
  const labels = { alertname: 'StragglerGpu', gpu: 'node-2/gpu-1', job: 'train-a', severity: 'critical' };
  target.enqueue([
    {
      id: `${fingerprint(labels)}-1`,
      fingerprint: fingerprint(labels),
      status: 'firing',
      labels,
      annotations: { root_cause: 'straggler_gpu at node-2/gpu-1' },
      fired_ms: Date.UTC(2026, 0, 1, 0, 0, 12),
      value: 5,
    },
  ]);
  await new Promise((r) => setTimeout(r, 800));
  expect(target.stats().retries).toBeGreaterThan(0);
  expect(target.stats().pending).toBe(1);

  const am = await startAlertmanager({ port });
  try {
    expect(await target.drain(60_000)).toBe(true);
    const [alert, ...rest] = await am.alerts();
    expect(rest).toEqual([]);
    expect(alert!.labels).toEqual(labels);
    expect(alert!.annotations.root_cause).toBe('straggler_gpu at node-2/gpu-1');
    expect(alert!.startsAt).toMatch(/^2026-01-01T00:00:12(\.000)?Z$/);
    expect(Date.parse(alert!.endsAt)).toBeGreaterThan(Date.now() + 120_000);
  } finally {
    target.close();
    await am.stop();
  }
}, 120_000);
