/**
 * The bench report: figures by dotted key (`ingest.e2e_rows_per_s`), each the median of its
 * runs, with the runs kept beside it; notes for what was skipped or did not finish; and the
 * readable table printed at the end. report.json nests the keys, so `report.ingest.ratio` is a
 * number (or null when it could not be measured on this machine).
 */
import { median, roundSig } from './stats.js';

export interface Figure {
  key: string;
  label: string;
  unit: string;
  /** Median of `runs`; undefined when nothing was measured. */
  value: number | undefined;
  runs: number[];
}

export interface ReportMeta {
  mode: 'quick' | 'full';
  started_at: string;
  finished_at: string;
  wall_s: number;
  machine: { cpus: number; load_avg_start: number[]; load_avg_end: number[]; node: string };
}

export type ReportJson = Record<string, unknown> & {
  meta: ReportMeta;
  runs: Record<string, number[]>;
  notes: string[];
  details: Record<string, unknown>;
};

export class BenchReport {
  private readonly figures = new Map<string, Figure>();
  readonly notes: string[] = [];
  readonly details: Record<string, unknown> = {};

  /** A measured figure: the median of its runs. */
  record(key: string, label: string, unit: string, runs: readonly number[]): number | undefined {
    const finite = runs.filter(Number.isFinite);
    const figure: Figure = { key, label, unit, value: median(finite), runs: finite };
    this.figures.set(key, figure);
    return figure.value;
  }

  note(section: string, text: string): void {
    this.notes.push(`${section}: ${text}`);
  }

  get(key: string): Figure | undefined {
    return this.figures.get(key);
  }

  all(): Figure[] {
    return [...this.figures.values()];
  }

  toJSON(meta: ReportMeta): ReportJson {
    const out: ReportJson = { meta, runs: {}, notes: [...this.notes], details: this.details };
    for (const f of this.figures.values()) {
      setPath(out, f.key, roundSig(f.value) ?? null);
      out.runs[f.key] = f.runs.map((r) => roundSig(r)!);
    }
    return out;
  }
}

/** Sets a.b.c = value, creating the objects on the way. */
function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const p of parts.slice(0, -1)) {
    const next = node[p];
    if (typeof next !== 'object' || next === null) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

/** Human formatting: thousands separators for big numbers, a few significant digits for small. */
export function formatValue(v: number | undefined): string {
  if (v === undefined) return '—';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return String(roundSig(v, 3));
}

/** The readable table: one row per figure with its median, unit and number of runs; then the notes. */
export function renderTable(figures: readonly Figure[], notes: readonly string[], meta: ReportMeta): string {
  const rows = figures.map((f) => [f.key, formatValue(f.value), f.unit, String(f.runs.length), f.label]);
  const header = ['figure', 'median', 'unit', 'runs', 'what'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 1 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
  return [
    `fabricscope bench (${meta.mode}) — ${meta.started_at}, ${meta.wall_s.toFixed(0)} s, ${meta.machine.cpus} CPUs, ` +
      `load ${load(meta.machine.load_avg_start)} → ${load(meta.machine.load_avg_end)}`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    ...(notes.length ? ['', 'notes:', ...notes.map((n) => `  - ${n}`)] : []),
  ].join('\n');
}
