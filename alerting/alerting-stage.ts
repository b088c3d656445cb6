/**
 * The alerting stage on the bus: consumer group `alerting` on port_samples, collective_events
 * and stalls. Each batch moves the event-time clock; every settled tick is evaluated; alert
 * versions whose state or root cause changed are published on `alerts` (the sink stores them,
 * the API serves them) and every evaluation goes to the notifier for delivery.
 */
import type { Bus, Subscription } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { Alert } from '../core/records.js';
import type { Topology } from '../core/topology.js';
import { AlertEngine, type AlertStream, type Evaluation } from './alert-engine.js';
import type { Notifier } from './delivery/notifier.js';
import type { RuleSet } from './rule-file.js';

export const ALERTING_GROUP = 'alerting';
const PUBLISH_ATTEMPTS = 5;
/** How long an end-of-stream flush waits for the correlators' last stalls. */
const FLUSH_STALLS_WAIT_MS = 10_000;
/** How long stop() waits for receivers to take what is queued. */
const STOP_DRAIN_MS = 5_000;

export interface AlertingStageOptions {
  bus: Bus;
  rules: RuleSet;
  topology?: Topology;
  notifier?: Notifier;
  logger: Logger;
  settleMs?: number;
}

export interface AlertingStats {
  rules: number;
  evaluations: number;
  evaluated_to_ms: number | null;
  active: Record<string, number>;
  published: number;
  dropped: number;
  delivery?: ReturnType<Notifier['stats']>;
}

export class AlertingStage {
  private readonly engine: AlertEngine;
  private readonly subs: Subscription[] = [];
  private readonly inputs: Partial<Record<AlertStream, Subscription>> = {};
  /** Evaluations are published strictly in order, whichever topic's batch produced them. */
  private chain: Promise<void> = Promise.resolve();
  private published = 0;
  private dropped = 0;

  constructor(private readonly options: AlertingStageOptions) {
    this.engine = new AlertEngine({
      rules: options.rules,
      topology: options.topology,
      settleMs: options.settleMs,
      // Before start() nothing is subscribed, and nothing arrives either.
      waiting: (stream) => this.inputs[stream]?.hasBacklog() ?? true,
    });
  }

  start(): void {
    const { bus } = this.options;
    this.inputs.port = bus.subscribe('port_samples', ALERTING_GROUP, async (batch) => {
      this.engine.addPortSamples(batch);
      await this.emit(this.engine.advance());
    });
    this.inputs.collective = bus.subscribe('collective_events', ALERTING_GROUP, async (batch) => {
      this.engine.addCollectiveEvents(batch);
      await this.emit(this.engine.advance());
    });
    this.inputs.stalls = bus.subscribe('stalls', ALERTING_GROUP, async (batch) => {
      this.engine.addStalls(batch);
    });
    this.subs.push(this.inputs.port, this.inputs.collective, this.inputs.stalls);
    this.options.notifier?.start();
  }

  /**
   * End of a finite stream: waits (bounded) for the stalls of every call seen — correlators in
   * other processes publish their last ones when they stop, and this process's drain cannot
   * know of records it has not fetched — then evaluates up to the newest record and waits
   * until published.
   */
  async flush(): Promise<void> {
    const deadline = Date.now() + FLUSH_STALLS_WAIT_MS;
    while (!this.engine.stallsCaughtUp() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (!this.engine.stallsCaughtUp()) {
      this.options.logger.warn("evaluating the end of the stream without every job's last stalls", { waited_ms: FLUSH_STALLS_WAIT_MS });
    }
    await this.emit(this.engine.flush());
  }

  /** Stops consuming, then gives receivers a bounded time to take what is queued. */
  async stop(): Promise<void> {
    await Promise.all(this.subs.splice(0).map((s) => s.close()));
    await this.chain;
    const notifier = this.options.notifier;
    if (!notifier) return;
    const delivered = await notifier.drain(STOP_DRAIN_MS);
    if (!delivered) this.options.logger.warn('stopping with undelivered alerts', { delivery: notifier.stats().targets });
    notifier.stop();
  }

  stats(): AlertingStats {
    return {
      rules: this.options.rules.rules.length,
      ...this.engine.stats(),
      published: this.published,
      dropped: this.dropped,
      ...(this.options.notifier ? { delivery: this.options.notifier.stats() } : {}),
    };
  }

  private emit(evaluations: Evaluation[]): Promise<void> {
    if (evaluations.length === 0) return this.chain;
    this.chain = this.chain.then(async () => {
      for (const ev of evaluations) {
        const changed = ev.alerts.filter((a) => a.changed).map((a) => a.record);
        for (const a of changed) this.options.logger.info('alert', { rule: a.rule, state: a.state, labels: a.labels, at: new Date(ev.t_ms).toISOString() });
        await this.publish(changed);
        this.options.notifier?.update(ev.alerts);
      }
    }).catch((e: unknown) => this.options.logger.error('alert evaluation output failed', { error: (e as Error).message }));
    return this.chain;
  }

  private async publish(alerts: Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.bus.publish('alerts', alerts);
        this.published += alerts.length;
        return;
      } catch (e) {
        if (attempt >= PUBLISH_ATTEMPTS) {
          this.dropped += alerts.length;
          this.options.logger.error('could not publish alerts', { alerts: alerts.length, error: (e as Error).message });
          return;
        }
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    }
  }
}
