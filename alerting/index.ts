/**
 * The alerting part's entry point: loads the rules (the shipped defaults unless a file is
 * given, none when it is `none`), builds the receivers (Alertmanager, webhooks) and starts the
 * stage on the bus.
 */
import type { Bus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { Topology } from '../core/topology.js';
import { AlertingStage } from './alerting-stage.js';
import { DEFAULT_RULES_FILE } from './default-rules.js';
import { AlertmanagerTarget } from './delivery/alertmanager-target.js';
import type { DeliveryTarget } from './delivery/notified-alert.js';
import { DEFAULT_RESEND_INTERVAL_MS, Notifier } from './delivery/notifier.js';
import { WebhookTarget } from './delivery/webhook-target.js';
import { loadRules, type RuleSet } from './rule-file.js';

export { AlertingStage, type AlertingStats } from './alerting-stage.js';
export { DEFAULT_RULES_FILE } from './default-rules.js';
export { loadRules, parseRules, type AlertRule, type RuleSet } from './rule-file.js';

export interface AlertingSettings {
  /** A rule file, `none` to turn alerting off; the shipped defaults when absent. */
  alert_rules?: string;
  /** Overrides the rule file's evaluation_interval (event time). */
  alert_eval_interval_ms?: number;
  /** Wall-clock re-send interval of firing alerts to Alertmanager. */
  alert_resend_interval_ms?: number;
  alertmanager?: string;
  webhooks?: string[];
  /** The platform's public base URL, for links back (generatorURL, externalURL). */
  external_url?: string;
}

export function loadRuleSet(settings: AlertingSettings): RuleSet | undefined {
  if (settings.alert_rules === 'none') return undefined;
  const rules = loadRules(settings.alert_rules ?? DEFAULT_RULES_FILE);
  if (settings.alert_eval_interval_ms !== undefined) rules.evaluation_interval_ms = settings.alert_eval_interval_ms;
  return rules;
}

/** Starts alerting on the bus, or returns undefined when it is turned off. */
export function startAlerting(options: { bus: Bus; topology?: Topology; settings: AlertingSettings; logger: Logger }): AlertingStage | undefined {
  const { settings } = options;
  const logger = options.logger.child('alerting');
  const rules = loadRuleSet(settings);
  if (!rules) return undefined;
  const resendIntervalMs = settings.alert_resend_interval_ms ?? DEFAULT_RESEND_INTERVAL_MS;
  const generatorUrl = settings.external_url ? `${settings.external_url.replace(/\/+$/, '')}/api/v1/alerts` : undefined;
  const targets: DeliveryTarget[] = [];
  if (settings.alertmanager) {
    targets.push(
      new AlertmanagerTarget({
        url: settings.alertmanager,
        // Prometheus: ValidUntil = now + 4 × max(resend delay, evaluation interval).
        validForMs: 4 * Math.max(resendIntervalMs, rules.evaluation_interval_ms),
        generatorUrl,
        logger: logger.child('alertmanager'),
      }),
    );
  }
  for (const url of settings.webhooks ?? []) {
    targets.push(new WebhookTarget({ url, externalUrl: settings.external_url, logger: logger.child('webhook') }));
  }
  const notifier = targets.length > 0 ? new Notifier({ targets, resendIntervalMs, logger: logger.child('notifier') }) : undefined;
  const stage = new AlertingStage({ bus: options.bus, rules, topology: options.topology, notifier, logger });
  stage.start();
  logger.info('alerting started', {
    rules: rules.rules.length,
    evaluation_interval_ms: rules.evaluation_interval_ms,
    receivers: targets.map((t) => t.name),
  });
  return stage;
}
