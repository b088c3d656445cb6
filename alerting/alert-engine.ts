/**
 * Evaluates every rule at each tick of event time (multiples of the evaluation interval) once
 * the clock has passed the tick (event-clock.ts): the telemetry up to the tick is in, and so
 * are the stalls ending by it — each job's correlator says how far its stalls are published.
 * The pipeline releases a stall only when the switch and GPU telemetry after its end are in, so
 * root causes are in place when the rules look for them; `settleMs` of slack behind the
 * telemetry covers a job whose stalls come without progress. Alerting latency in event time is
 * unaffected: an alert carries the tick's time, not the time it was computed.
 */
import { isStallProgress, type CollectiveEvent, type PortSample, type Stall, type StallStreamRecord } from '../core/records.js';
import type { Topology } from '../core/topology.js';
import { AlertInputs, STALL_RETENTION_MS } from './alert-inputs.js';
import { createCondition } from './conditions/index.js';
import { EventClock, type ClockStream } from './event-clock.js';
import type { RuleSet } from './rule-file.js';
import { RuleState, type EvaluatedAlert } from './rule-state.js';

/**
 * Without stall progress: enough for the correlator to release a stall — each GPU's first scrape
 * after its end (one ~1 s scrape interval) and two switch intervals of grace — with slack. It is
 * also how far behind the telemetry every tick is judged, so it is most of the alert latency.
 */
export const DEFAULT_SETTLE_MS = 2_000;

/** Longest stretch of event time evaluated tick by tick in one go. */
const MAX_CATCH_UP_MS = 3_600_000;

export type AlertStream = ClockStream | 'stalls';

export interface AlertEngineOptions {
  rules: RuleSet;
  topology?: Topology;
  settleMs?: number;
  /**
   * Whether the bus may still hold records of an input stream for this engine (core/bus.ts
   * Subscription.hasBacklog); never, when absent. Silence is taken for idleness only when
   * nothing waits, and the first tick waits until every input has been read once, so an
   * engine rebuilding its state by replay starts where the data starts.
   */
  waiting?: (stream: AlertStream) => boolean;
}

export interface Evaluation {
  t_ms: number;
  alerts: EvaluatedAlert[];
}

export class AlertEngine {
  readonly intervalMs: number;
  private readonly clock: EventClock;
  private readonly waiting: (stream: AlertStream) => boolean;
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
    this.waiting = options.waiting ?? (() => false);
    this.clock = new EventClock(this.waiting);
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
      this.clock.observeCall(e.job, e.rank, e.end_us / 1000);
      if (e.end_us / 1000 < this.earliestMs) this.earliestMs = e.end_us / 1000;
    }
    this.inputs.addCollectiveEvents(events);
  }

  /** Stalls, and each job's stall progress: how far its stalls are all in (event-clock.ts). */
  addStalls(records: readonly StallStreamRecord[]): void {
    const stalls: Stall[] = [];
    for (const r of records) {
      if (isStallProgress(r)) this.clock.observeStallProgress(r.job, r.through_ms);
      else stalls.push(r);
    }
    this.inputs.addStalls(stalls);
  }

  /** Evaluates every tick the clock has settled past. */
  advance(): Evaluation[] {
    // The first tick follows from the oldest record: not before every input has been read once.
    if (Number.isNaN(this.nextTick) && (['port', 'collective', 'stalls'] as const).some((s) => this.waiting(s))) return [];
    return this.evaluateUpTo(this.clock.current(this.settleMs));
  }

  /** Whether the stalls of every call seen are in (the correlators vouched for them): what an end-of-stream flush waits for. */
  stallsCaughtUp(): boolean {
    return this.clock.stallsCaughtUp();
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
      this.clock.forgetJobsBefore(t - STALL_RETENTION_MS);
      out.push({ t_ms: t, alerts });
    }
    return out;
  }
}
