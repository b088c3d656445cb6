import { test } from 'vitest';
import { expectAlertLifecycle } from './alert-lifecycle.js';

test('a straggler GPU pages through Alertmanager with the GPU as root cause, and resolves after it', async () => {
  await expectAlertLifecycle({
    scenario: 'test/alerting/fixtures/straggler.yaml',
    rule: 'StragglerGpu',
    labels: { gpu: 'node-2/gpu-1', job: 'train-a' },
    rootCause: { kind: 'straggler_gpu', location: 'node-2/gpu-1' },
  });
}, 600_000);
