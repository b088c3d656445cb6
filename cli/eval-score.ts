/**
 * Scoring of root causes against the simulator's ground truth (`fabricscope eval`). Pure: it sees
 * what each scenario played — its topology, jobs, injected faults and the stalls the platform
 * stored — and nothing of how the verdicts were reached.
 *
 * Rules (printed with every report, so a reader knows what the figures mean):
 * - A verdict is one stall's root cause. A named verdict is correct when its kind is the fault's
 *   kind, its location is the fault's target or the other end of its link (Topology.sameLocation),
 *   the fault lies on the stalled job's footprint (below), and the stall overlaps the fault's window
 *   extended by MATCH_GRACE_MS after its end (queues drain, DCQCN recovers). An `unknown` verdict is
 *   correct only when no fault on the job's footprint overlaps the stall (nothing there to name).
 * - A job's footprint: its GPUs, the NICs its inter-node transfers use, and every link its transfers
 *   may cross (all ECMP paths), from the collective model of core/collective-routing.ts.
 * - A fault counts for recall only when it made some job wait: it lies on a job's footprint and a
 *   stall of that job overlaps its window. A fault no job waits on is not a root cause (DESIGN.md):
 *   it is listed as "no job waited", not missed; blaming it would still be a wrong verdict.
 * - Detection delay: event time from the fault's start to the end of the first stall that named it.
 */
import { allToAllTransfers, ringTransfers, transferPorts, treeTransfers, type Transfer } from '../core/collective-routing.js';
import { FAULT_KINDS, gpuName, nicName, parseName, type RootCauseKind } from '../core/names.js';
import type { GroundTruthFault, RootCause } from '../core/records.js';
import { Topology, type TopologySpec } from '../core/topology.js';

/** After a fault ends its effects linger briefly (queues drain, rates recover): stalls that start within this still belong to it. */
export const MATCH_GRACE_MS = 1_000;

/** The issue 6 bar. */
export const BAR = { precision: 0.95, recall: 0.95, kind_recall: 0.9, median_delay_switch_intervals: 2 } as const;

export interface EvalJob {
  id: string;
  nodes: number[];
  collective: string;
  algorithm?: string;
}

export interface EvalStall {
  id: string;
  job: string;
  start_ms: number;
  end_ms: number;
  root_cause: Pick<RootCause, 'kind' | 'location' | 'confidence'>;
}

/** What one scenario played, as the per-scenario child reports it. */
export interface ScenarioOutcome {
  scenario: string;
  file: string;
  switch_interval_ms: number;
  topology: TopologySpec;
  jobs: EvalJob[];
  faults: GroundTruthFault[];
  stalls: EvalStall[];
  wall_s: number;
}

export interface KindScore {
  kind: RootCauseKind | 'overall';
  verdicts: number;
  correct_verdicts: number;
  precision: number | null;
  faults: number;
  /** Faults some job waited on (the recall denominator). */
  effective_faults: number;
  detected: number;
  recall: number | null;
  median_delay_ms: number | null;
  max_delay_ms: number | null;
}

export interface FaultScore {
  scenario: string;
  id: string;
  kind: string;
  target: string;
  start_ms: number;
  effective: boolean;
  detected: boolean;
  delay_ms: number | null;
  /** Verdicts among the stalls that overlap it, by `kind@location`. */
  verdicts: Record<string, number>;
}

export interface ScenarioScore {
  scenario: string;
  faults: number;
  effective_faults: number;
  detected: number;
  stalls: number;
  correct_verdicts: number;
  wall_s: number;
}

export interface EvalReport {
  rules: string[];
  bar: typeof BAR & { median_delay_ms: number };
  switch_interval_ms: number;
  kinds: KindScore[];
  overall: KindScore;
  scenarios: ScenarioScore[];
  faults: FaultScore[];
  /** Wrong verdicts, for the reader to see what went wrong (at most a few per scenario). */
  wrong_verdicts: Array<{ scenario: string; stall: string; start_ms: number; verdict: string; active_faults: string[] }>;
  pass: boolean;
  failures: string[];
}

export const RULES = [
  `verdict = one stall's root cause; named verdicts are correct when kind matches, location is the fault target or the other end of its link, the fault is on the stalled job's footprint, and the stall overlaps the fault window + ${MATCH_GRACE_MS} ms`,
  'an unknown verdict is correct only when no fault on the job footprint overlaps the stall',
  'recall counts only faults that made some job wait (on a job footprint and overlapped by a stall of that job); faults no job waited on are listed, not counted as missed',
  'detection delay = event time from fault start to the end of the first stall that named it',
];

/** Where a job's traffic can be: GPUs, NICs and link ids it may cross. */
export class Footprint {
  readonly gpus = new Set<string>();
  readonly nics = new Set<string>();
  readonly links = new Set<string>();

  constructor(
    readonly topology: Topology,
    job: EvalJob,
  ) {
    const G = topology.spec.gpus_per_node;
    for (const n of job.nodes) for (let g = 0; g < G; g++) this.gpus.add(gpuName(n, g));
    const transfers = jobTransfers(job, G);
    for (const p of transferPorts(topology, transfers)) this.links.add(topology.linkId(p));
    for (const t of transfers) {
      if (t.fabric === 'up') continue;
      this.nics.add(nicName(t.src.node, t.src.gpu));
      this.nics.add(nicName(t.dst.node, t.dst.gpu));
      // The NIC links themselves (both directions): the source's downlink carries its traffic in.
      this.links.add(topology.linkId(topology.nicAttachment(t.src.node, t.src.gpu).port));
    }
  }

  has(target: string): boolean {
    const parsed = parseName(target);
    if (parsed?.kind === 'gpu') return this.gpus.has(target);
    if (parsed?.kind === 'nic') return this.nics.has(target);
    return this.links.has(this.topology.linkId(target));
  }
}

function jobTransfers(job: EvalJob, G: number): Transfer[] {
  if (/alltoall/i.test(job.collective)) return allToAllTransfers(job.nodes, G);
  if (/allreduce/i.test(job.collective) && job.algorithm === 'tree') return treeTransfers(job.nodes, G);
  return ringTransfers(job.nodes, G);
}

const overlaps = (s: EvalStall, f: GroundTruthFault) => s.start_ms <= f.end_ms + MATCH_GRACE_MS && s.end_ms >= f.start_ms;

export function scoreOutcomes(outcomes: readonly ScenarioOutcome[]): EvalReport {
  const switchMs = Math.max(...outcomes.map((o) => o.switch_interval_ms), 0) || 100;
  const verdictTally = new Map<string, { verdicts: number; correct: number }>();
  const faultScores: FaultScore[] = [];
  const scenarios: ScenarioScore[] = [];
  const wrong: EvalReport['wrong_verdicts'] = [];

  for (const o of outcomes) {
    const topology = new Topology(o.topology);
    const footprints = new Map(o.jobs.map((j) => [j.id, new Footprint(topology, j)]));
    const onJob = (f: GroundTruthFault, job: string) => footprints.get(job)?.has(f.target) ?? false;
    let correctHere = 0;
    let wrongHere = 0;
    for (const s of o.stalls) {
      const active = o.faults.filter((f) => overlaps(s, f) && onJob(f, s.job));
      const rc = s.root_cause;
      const correct =
        rc.kind === 'unknown'
          ? active.length === 0
          : active.some((f) => f.kind === rc.kind && topology.sameLocation(rc.location, f.target));
      const t = verdictTally.get(rc.kind) ?? { verdicts: 0, correct: 0 };
      t.verdicts++;
      if (correct) t.correct++;
      verdictTally.set(rc.kind, t);
      if (correct) correctHere++;
      else if (wrongHere++ < 5) {
        wrong.push({ scenario: o.scenario, stall: s.id, start_ms: s.start_ms, verdict: `${rc.kind}@${rc.location}`, active_faults: active.map((f) => `${f.kind}@${f.target}`) });
      }
    }
    let effectiveHere = 0;
    let detectedHere = 0;
    for (const f of o.faults) {
      const waited = o.stalls.filter((s) => overlaps(s, f) && onJob(f, s.job));
      const effective = waited.length > 0;
      const named = waited.filter((s) => s.root_cause.kind === f.kind && topology.sameLocation(s.root_cause.location, f.target));
      const delay = named.length > 0 ? Math.max(0, Math.min(...named.map((s) => s.end_ms)) - f.start_ms) : null;
      const verdicts: Record<string, number> = {};
      for (const s of waited) {
        const key = `${s.root_cause.kind}@${s.root_cause.location}`;
        verdicts[key] = (verdicts[key] ?? 0) + 1;
      }
      if (effective) effectiveHere++;
      if (effective && named.length > 0) detectedHere++;
      faultScores.push({ scenario: o.scenario, id: f.id, kind: f.kind, target: f.target, start_ms: f.start_ms, effective, detected: effective && named.length > 0, delay_ms: delay === null ? null : round(delay), verdicts });
    }
    scenarios.push({ scenario: o.scenario, faults: o.faults.length, effective_faults: effectiveHere, detected: detectedHere, stalls: o.stalls.length, correct_verdicts: correctHere, wall_s: o.wall_s });
  }

  const kindRow = (kind: RootCauseKind | 'overall'): KindScore => {
    const fs = faultScores.filter((f) => kind === 'overall' || f.kind === kind);
    const eff = fs.filter((f) => f.effective);
    const det = eff.filter((f) => f.detected);
    const delays = det.map((f) => f.delay_ms!).sort((a, b) => a - b);
    const tallies = kind === 'overall' ? [...verdictTally.values()] : [verdictTally.get(kind) ?? { verdicts: 0, correct: 0 }];
    const verdicts = tallies.reduce((a, t) => a + t.verdicts, 0);
    const correct = tallies.reduce((a, t) => a + t.correct, 0);
    return {
      kind,
      verdicts,
      correct_verdicts: correct,
      precision: verdicts > 0 ? round(correct / verdicts, 4) : null,
      faults: fs.length,
      effective_faults: eff.length,
      detected: det.length,
      recall: eff.length > 0 ? round(det.length / eff.length, 4) : null,
      median_delay_ms: delays.length > 0 ? round(medianOf(delays)) : null,
      max_delay_ms: delays.length > 0 ? round(delays[delays.length - 1]!) : null,
    };
  };
  const kinds = ([...FAULT_KINDS, 'unknown'] as RootCauseKind[]).map(kindRow);
  const overall = kindRow('overall');

  const failures: string[] = [];
  const medianDelayBar = BAR.median_delay_switch_intervals * switchMs;
  if ((overall.precision ?? 0) < BAR.precision) failures.push(`overall precision ${overall.precision} < ${BAR.precision}`);
  if ((overall.recall ?? 0) < BAR.recall) failures.push(`overall recall ${overall.recall} < ${BAR.recall}`);
  for (const k of kinds) {
    if (k.kind !== 'unknown' && k.recall !== null && k.recall < BAR.kind_recall) failures.push(`${k.kind} recall ${k.recall} < ${BAR.kind_recall}`);
  }
  if (overall.median_delay_ms === null || overall.median_delay_ms > medianDelayBar) {
    failures.push(`median detection delay ${overall.median_delay_ms} ms > ${medianDelayBar} ms (${BAR.median_delay_switch_intervals} switch intervals)`);
  }
  return {
    rules: RULES,
    bar: { ...BAR, median_delay_ms: medianDelayBar },
    switch_interval_ms: switchMs,
    kinds,
    overall,
    scenarios,
    faults: faultScores,
    wrong_verdicts: wrong,
    pass: failures.length === 0,
    failures,
  };
}

/** The report as a fixed-width table: per kind and overall, then per scenario. */
export function renderReport(r: EvalReport): string {
  const fmt = (v: number | null, digits = 3) => (v === null ? '-' : v.toFixed(digits));
  const ms = (v: number | null) => (v === null ? '-' : `${Math.round(v)}`);
  const lines: string[] = [];
  const head = ['kind', 'verdicts', 'precision', 'faults', 'waited', 'found', 'recall', 'delay_med_ms', 'delay_max_ms'];
  const rows = [...r.kinds, r.overall].map((k) => [
    k.kind,
    String(k.verdicts),
    fmt(k.precision),
    String(k.faults),
    String(k.effective_faults),
    String(k.detected),
    fmt(k.recall),
    ms(k.median_delay_ms),
    ms(k.max_delay_ms),
  ]);
  lines.push(...table(head, rows));
  lines.push('');
  lines.push(
    ...table(
      ['scenario', 'faults', 'waited', 'found', 'stalls', 'correct', 'wall_s'],
      r.scenarios.map((s) => [s.scenario, String(s.faults), String(s.effective_faults), String(s.detected), String(s.stalls), String(s.correct_verdicts), s.wall_s.toFixed(1)]),
    ),
  );
  const idle = r.faults.filter((f) => !f.effective);
  if (idle.length > 0) {
    lines.push('');
    lines.push(`No job waited on (not counted in recall): ${idle.map((f) => `${f.scenario}:${f.kind}@${f.target}`).join(', ')}`);
  }
  const missed = r.faults.filter((f) => f.effective && !f.detected);
  if (missed.length > 0) {
    lines.push(`Missed: ${missed.map((f) => `${f.scenario}:${f.kind}@${f.target} (verdicts ${JSON.stringify(f.verdicts)})`).join('; ')}`);
  }
  lines.push('');
  lines.push('Rules:');
  for (const rule of r.rules) lines.push(`  - ${rule}`);
  lines.push(
    `Bar (issue 6): precision >= ${r.bar.precision}, recall >= ${r.bar.recall}, every kind's recall >= ${r.bar.kind_recall}, median delay <= ${r.bar.median_delay_ms} ms (${r.bar.median_delay_switch_intervals} switch intervals of ${r.switch_interval_ms} ms)`,
  );
  lines.push(r.pass ? 'PASS' : `FAIL: ${r.failures.join('; ')}`);
  return lines.join('\n') + '\n';
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

function medianOf(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
