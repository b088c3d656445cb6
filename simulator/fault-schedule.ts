/**
 * Expands the scenario's faults (with `every_s` recurrences) into concrete occurrences on the
 * simulated timeline. The engine asks "what is active at t" and the ground truth lists every
 * occurrence that has started.
 */
import type { GroundTruthFault } from '../core/records.js';
import type { FaultKind } from '../core/names.js';
import type { Scenario, ScenarioFault } from './scenario.js';

export interface FaultOccurrence {
  id: string;
  kind: FaultKind;
  target: string;
  /** Simulated µs since t=0. */
  start_us: number;
  end_us: number;
  severity: number;
}

export class FaultSchedule {
  private readonly faults: readonly ScenarioFault[];
  private readonly startMs: number;
  /** Simulated end (µs), Infinity when the scenario runs until stopped. */
  private readonly horizonUs: number;

  constructor(scenario: Scenario, startMs: number) {
    this.faults = scenario.faults;
    this.startMs = startMs;
    this.horizonUs = scenario.duration_s > 0 ? scenario.duration_s * 1e6 : Infinity;
  }

  /** Occurrences that start before `untilUs` (and before the scenario ends), in start order. */
  occurrencesStartedBefore(untilUs: number): FaultOccurrence[] {
    const out: FaultOccurrence[] = [];
    const limit = Math.min(untilUs, this.horizonUs);
    this.faults.forEach((f, i) => {
      for (let k = 0; ; k++) {
        const start = (f.start_s + k * (f.every_s ?? 0)) * 1e6;
        if (start >= limit || (k > 0 && f.every_s === undefined)) break;
        out.push({ id: `fault-${i}-${k}`, kind: f.kind, target: f.target, start_us: start, end_us: start + f.duration_s * 1e6, severity: f.severity });
      }
    });
    return out.sort((a, b) => a.start_us - b.start_us || a.id.localeCompare(b.id));
  }

  /** The occurrence of fault `kind` at `target` active at `tUs`, if any. */
  activeAt(kind: FaultKind, target: string, tUs: number): FaultOccurrence | undefined {
    if (tUs >= this.horizonUs) return undefined;
    for (let i = 0; i < this.faults.length; i++) {
      const f = this.faults[i]!;
      if (f.kind !== kind || f.target !== target) continue;
      const occ = this.occurrenceAround(f, i, tUs);
      if (occ && tUs >= occ.start_us && tUs < occ.end_us) return occ;
    }
    return undefined;
  }

  /** Every fault of a kind (targets the engine must watch). */
  ofKind(kind: FaultKind): ScenarioFault[] {
    return this.faults.filter((f) => f.kind === kind);
  }

  /** The next instant after `tUs` at which any fault of `kind` on `target` starts or ends. */
  nextChangeAfter(kind: FaultKind, target: string, tUs: number): number {
    let best = Infinity;
    for (const f of this.faults) {
      if (f.kind !== kind || f.target !== target) continue;
      const startUs = f.start_s * 1e6;
      const durUs = f.duration_s * 1e6;
      const everyUs = f.every_s === undefined ? undefined : f.every_s * 1e6;
      const k = everyUs === undefined || tUs < startUs ? 0 : Math.floor((tUs - startUs) / everyUs);
      for (const kk of [k, k + 1]) {
        if (kk > 0 && everyUs === undefined) continue;
        const s = startUs + kk * (everyUs ?? 0);
        for (const edge of [s, s + durUs]) if (edge > tUs && edge < best) best = edge;
      }
    }
    return best;
  }

  toGroundTruth(occ: FaultOccurrence): GroundTruthFault {
    return {
      id: occ.id,
      kind: occ.kind,
      target: occ.target,
      start_ms: this.startMs + occ.start_us / 1000,
      end_ms: this.startMs + Math.min(occ.end_us, this.horizonUs) / 1000,
      severity: occ.severity,
    };
  }

  private occurrenceAround(f: ScenarioFault, index: number, tUs: number): FaultOccurrence | undefined {
    const startUs = f.start_s * 1e6;
    if (tUs < startUs) return undefined;
    const k = f.every_s === undefined ? 0 : Math.floor((tUs - startUs) / (f.every_s * 1e6));
    const s = startUs + k * (f.every_s ?? 0) * 1e6;
    return { id: `fault-${index}-${k}`, kind: f.kind, target: f.target, start_us: s, end_us: s + f.duration_s * 1e6, severity: f.severity };
  }
}
