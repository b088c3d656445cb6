import { test } from 'vitest';
import { expectAlertLifecycle } from './alert-lifecycle.js';

test('a PFC storm pages through Alertmanager with the pausing NIC as root cause, and resolves after it', async () => {
  await expectAlertLifecycle({
    scenario: 'test/alerting/fixtures/pfc-storm.yaml',
    rule: 'PfcPauseStorm',
    labels: { port: 'leaf-0/p4', device: 'leaf-0' },
    rootCause: { kind: 'pfc_storm', location: 'node-1/nic-0' },
  });
}, 600_000);
