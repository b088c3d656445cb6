/**
 * Evaluates every rule at each tick of event time (multiples of the evaluation interval) once
 * the clock has passed the tick by `settleMs`. The settle time lets the stalls behind the tick
 * arrive: the pipeline releases a stall only when the switch and GPU telemetry after its end are
 * in (≈1 s of event time), so root causes are in place when the rules look for them. Alerting
 * latency in event time is unaffected: an alert carries the tick's time, not the time it was
 * computed.
 */
import type { CollectiveEvent, PortSample, Stall } from '../core/records.js';
import type { Topology } from '../core/topology.js';
import { AlertInputs } from './alert-inputs.js';
import { createCondition } from './conditions/index.js';
import { EventClock } from './event-clock.js';
import type { RuleSet } from './rule-file.js';
import { RuleState, type EvaluatedAlert } from './rule-state.js';

/** Enough for the correlator's GPU look-around (1 s) plus a scrape interval and switch grace. */
export const DEFAULT_SETTLE_MS = 3_000;

/** Longest stretch of event time evaluated tick by tick in one go. */
const MAX_CATCH_UP_MS = 3_600_000;

export interface AlertEngineOptions {
  rules: RuleSet;
  topology?: Topology;
  settleMs?: number;
}

export interface Evaluation {
  t_ms: number;
  alerts: EvaluatedAlert[];
}

export class AlertEngine {
  readonly intervalMs: number;
  private readonly clock = new EventClock();
  private readonly states: RuleState[];
  private readonly inputs: AlertInputs;
  private readonly settleMs: number;
  private readonly retentionMs: number;
  private nextTick = Number.NaN;
  /** Oldest record time seen: the first tick follows from the data, not from how it was batched. */
  private earliestMs = Number.POSITIVE_INFINITY;
  private evaluations = 0;

  constructor(options: AlertEngineOptions) {
    this.intervalMs = options.rules.evaluation_interval_ms;
    this.settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
    this.states = options.rules.rules.map((r) => new RuleState(r, createCondition(r.condition)));
    this.retentionMs = Math.max(0, ...this.states.map((s) => s.lookbackMs)) + 2 * this.intervalMs;
    this.inputs = new AlertInputs(this.retentionMs, options.topology);
  }

  addPortSamples(samples: readonly PortSample[]): void {
    for (const s of samples) {
      this.clock.port.observe(s.device, s.ts_ms);
      if (s.ts_ms < this.earliestMs) this.earliestMs = s.ts_ms;
    }
    this.inputs.addPortSamples(samples);
  }

  addCollectiveEvents(events: readonly CollectiveEvent[]): void {
    for (const e of events) {
      this.clock.collective.observe(`${e.job}/${e.rank}`, e.end_us / 1000);
      if (e.end_us / 1000 < this.earliestMs) this.earliestMs = e.end_us / 1000;
    }
    this.inputs.addCollectiveEvents(events);
  }

  /** Stalls carry no clock of their own: they follow the telemetry, hence the settle time. */
  addStalls(stalls: readonly Stall[]): void {
    this.inputs.addStalls(stalls);
  }

  /** Evaluates every tick the clock has settled past. */
  advance(): Evaluation[] {
    return this.evaluateUpTo(this.clock.current() - this.settleMs);
  }

  /** End of stream: everything is in, so evaluate up to the newest record. */
  flush(): Evaluation[] {
    return this.evaluateUpTo(this.clock.newest());
  }

  stats(): { evaluations: number; evaluated_to_ms: number | null; active: Record<string, number> } {
    return {
      evaluations: this.evaluations,
      evaluated_to_ms: Number.isNaN(this.nextTick) ? null : this.nextTick - this.intervalMs,
      active: Object.fromEntries(this.states.map((s) => [s.rule.name, s.activeCount()])),
    };
  }

  private evaluateUpTo(limit: number): Evaluation[] {
    if (!Number.isFinite(limit)) return [];
    if (Number.isNaN(this.nextTick)) this.nextTick = Math.ceil(this.earliestMs / this.intervalMs) * this.intervalMs;
    // Every tick is evaluated (so batching cannot change the result), but not hours of them
    // after a long silence or a clock jump.
    const catchUpFrom = Math.floor((limit - MAX_CATCH_UP_MS) / this.intervalMs) * this.intervalMs;
    if (this.nextTick < catchUpFrom) this.nextTick = catchUpFrom;
    const out: Evaluation[] = [];
    for (; this.nextTick <= limit; this.nextTick += this.intervalMs) {
      const t = this.nextTick;
      const alerts = this.states.flatMap((s) => s.evaluate(t, this.inputs));
      this.evaluations++;
      this.inputs.prune(t);
      out.push({ t_ms: t, alerts });
    }
    return out;
  }
}
