import { expect, test } from 'vitest';
import { runScenario } from './scenario-run.js';

test('every occurrence of a repeated incast fires PortQueueingDelay at its port, and each resolves after it', async () => {
  const { alerts, groundTruth } = await runScenario('test/alerting/fixtures/repeated-incast.yaml');
  const incasts = groundTruth.filter((f) => f.kind === 'incast_congestion');
  expect(incasts.length).toBe(2);
  const queueing = alerts.filter((a) => a.rule === 'PortQueueingDelay' && a.labels.port === 'leaf-0/p8');
  for (const incast of incasts) {
    const during = queueing.filter((a) => a.updated_ms >= incast.start_ms && a.updated_ms <= incast.end_ms);
    const firing = during.find((a) => a.state === 'firing');
    expect(firing, `incast ${incast.id} from ${incast.start_ms} to ${incast.end_ms}: ${JSON.stringify(during.map((a) => [a.state, a.updated_ms, a.value]))}`).toBeDefined();
    const resolved = queueing.find((a) => a.id === firing!.id && a.state === 'resolved');
    expect(resolved?.updated_ms, `incast ${incast.id} resolves`).toBeGreaterThan(incast.end_ms);
  }
}, 300_000);
