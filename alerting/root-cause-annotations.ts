/**
 * Ties an alert to the root cause the pipeline found for the stalls behind it: among the stalls
 * of the alert's look-back that concern its labels (its job; its GPU; its port or either end of
 * that link, as culprit or as evidence), the most frequent (kind, location) wins, and its latest
 * stall is named as the one that triggered the alert. The result goes into the annotations.
 */
import type { Stall } from '../core/records.js';
import type { Topology } from '../core/topology.js';
import type { AlertInputs } from './alert-inputs.js';
import { formatValue } from './template.js';

/** Evidence items quoted in the annotation. */
const EVIDENCE_QUOTED = 3;

export function rootCauseStall(labels: Readonly<Record<string, string>>, from: number, to: number, inputs: AlertInputs): Stall | undefined {
  const concerns = stallFilter(labels, inputs.topology);
  if (!concerns) return undefined;
  const groups = new Map<string, { n: number; latest: Stall }>();
  for (const s of inputs.stalls(from, to)) {
    if (!concerns(s)) continue;
    const key = `${s.root_cause.kind}@${s.root_cause.location}`;
    const g = groups.get(key);
    if (g) {
      g.n++;
      g.latest = s; // stalls come in (end, id) order
    } else groups.set(key, { n: 1, latest: s });
  }
  let best: { n: number; latest: Stall } | undefined;
  for (const g of groups.values()) {
    if (!best || g.n > best.n || (g.n === best.n && g.latest.end_ms > best.latest.end_ms)) best = g;
  }
  return best?.latest;
}

export function rootCauseAnnotations(stall: Stall): Record<string, string> {
  const rc = stall.root_cause;
  const evidence = rc.evidence
    .slice(0, EVIDENCE_QUOTED)
    .map((e) => `${e.signal}@${e.location}=${formatValue(e.value)}${e.unit ? ` ${e.unit}` : ''}${e.reference !== undefined ? ` (ref ${formatValue(e.reference)})` : ''}`)
    .join('; ');
  return {
    root_cause: rc.location ? `${rc.kind} at ${rc.location}` : rc.kind,
    root_cause_kind: rc.kind,
    root_cause_location: rc.location,
    root_cause_confidence: formatValue(rc.confidence),
    root_cause_stall: stall.id,
    ...(evidence ? { root_cause_evidence: evidence } : {}),
  };
}

function stallFilter(labels: Readonly<Record<string, string>>, topology: Topology | undefined): ((s: Stall) => boolean) | undefined {
  const same = (a: string, b: string) => a === b || (topology?.sameLocation(a, b) ?? false);
  const { job, gpu, port } = labels;
  const ofJob = (s: Stall) => job === undefined || s.job === job;
  if (gpu !== undefined) return (s) => ofJob(s) && s.root_cause.location === gpu;
  if (port !== undefined) {
    return (s) => ofJob(s) && (same(s.root_cause.location, port) || s.root_cause.evidence.some((e) => same(e.location, port)));
  }
  if (job !== undefined) return ofJob;
  return undefined;
}
