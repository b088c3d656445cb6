/**
 * Plays a scenario through the real platform (Platform.start at full speed, lockstep) with
 * alerting on, and captures every alert version published on the bus. `onAlert` runs inside a
 * consumer group of the `alerts` topic: at full speed the simulator waits for the bus to drain
 * after each GPU interval, so whatever the callback awaits holds the replay still (e.g. looking
 * at Alertmanager while an alert is firing, before the fault ends).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Platform } from '../../cli/platform.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import type { Alert, GroundTruthFault } from '../../core/records.js';
import { tempDir } from '../harness/cli-process.js';

export interface ScenarioRun {
  alerts: Alert[];
  groundTruth: GroundTruthFault[];
  data: string;
}

export interface ScenarioRunOptions {
  alertmanager?: string;
  webhooks?: string[];
  alertRules?: string;
  onAlert?: (alert: Alert) => Promise<void>;
}

export async function runScenario(scenario: string, options: ScenarioRunOptions = {}): Promise<ScenarioRun> {
  const data = tempDir('alerting');
  const config = loadConfig({
    flags: {
      scenario,
      speed: 'max',
      data,
      otlp_http_port: 0,
      otlp_grpc_port: 0,
      log_level: 'warn',
      ...(options.alertmanager ? { alertmanager: options.alertmanager } : {}),
      ...(options.webhooks ? { webhooks: options.webhooks.join(',') } : {}),
      ...(options.alertRules ? { alert_rules: options.alertRules } : {}),
    },
    env: {},
  });
  const platform = await Platform.start(config, createLogger(process.env.TEST_LOG_LEVEL === 'info' ? 'info' : 'warn'), { withApi: false });
  const alerts: Alert[] = [];
  const capture = platform.parts.bus!.subscribe('alerts', 'test-capture', async (batch) => {
    for (const a of batch) {
      alerts.push(a);
      await options.onAlert?.(a);
    }
  });
  try {
    await platform.play();
    await platform.finish();
  } finally {
    await capture.close();
    await platform.stop();
  }
  const groundTruth = JSON.parse(readFileSync(join(data, 'ground-truth.json'), 'utf8')) as GroundTruthFault[];
  return { alerts, groundTruth, data };
}
