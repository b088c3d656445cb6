/** The bench harness's pure parts: medians, ratios, the report's shape and table, /proc parsing. */
import { describe, expect, it } from 'vitest';
import { BenchReport, formatValue, renderTable, type ReportMeta } from '../../bench/harness/report.js';
import { median, perMillion, ratio, roundSig } from '../../bench/harness/stats.js';
import { parseProcStat } from '../../bench/harness/proc-stat.js';
import { sumMetric } from '../../bench/harness/http.js';
import { clusterShape, scenarioYaml } from '../../bench/harness/scenario-yaml.js';
import { parseScenario } from '../../simulator/scenario.js';

const META: ReportMeta = {
  mode: 'quick',
  started_at: '2026-01-01T00:00:00.000Z',
  finished_at: '2026-01-01T00:04:00.000Z',
  wall_s: 240,
  machine: { cpus: 2, load_avg_start: [1, 1, 1], load_avg_end: [2, 2, 2], node: 'v20.0.0' },
};

describe('stats', () => {
  it('takes the median of odd and even counts and ignores non-finite values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, NaN, Infinity, 1, 3])).toBe(3);
    expect(median([])).toBeUndefined();
  });

  it('gives no ratio rather than a fake one', () => {
    expect(ratio(1, 4)).toBe(0.25);
    expect(ratio(1, 0)).toBeUndefined();
    expect(ratio(undefined, 2)).toBeUndefined();
    expect(ratio(2, undefined)).toBeUndefined();
    expect(perMillion(3, 1_500_000)).toBeCloseTo(2);
    expect(perMillion(3, 0)).toBeUndefined();
  });

  it('rounds to significant digits', () => {
    expect(roundSig(123456, 3)).toBe(123000);
    expect(roundSig(0.00123456, 3)).toBe(0.00123);
    expect(roundSig(undefined)).toBeUndefined();
  });
});

describe('report', () => {
  it('nests dotted keys, keeps each figure\'s runs, and writes null for what was not measured', () => {
    const report = new BenchReport();
    report.record('ingest.e2e_rows_per_s', 'e2e', 'rows/s', [100, 300, 200]);
    report.record('ingest.direct_rows_per_s', 'direct', 'rows/s', [400, 400, 400]);
    report.record('detection.latency_s', 'latency', 's', []);
    report.record('scale.gpus_256.e2e_rows_per_s', 'scale', 'rows/s', [5, NaN]);
    report.note('scale', '4096 GPUs did not finish');
    const json = report.toJSON(META);
    expect(json.ingest).toEqual({ e2e_rows_per_s: 200, direct_rows_per_s: 400 });
    expect(json.detection).toEqual({ latency_s: null });
    expect(json.scale).toEqual({ gpus_256: { e2e_rows_per_s: 5 } });
    expect(json.runs['ingest.e2e_rows_per_s']).toEqual([100, 300, 200]);
    expect(json.notes).toEqual(['scale: 4096 GPUs did not finish']);
    expect(json.meta.mode).toBe('quick');
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('renders one table row per figure, then the notes', () => {
    const report = new BenchReport();
    report.record('ingest.ratio', 'e2e ÷ direct', '×', [0.5, 0.7]);
    report.record('prometheus.cpu_s_per_million_samples', 'cpu', 'CPU s', []);
    report.note('detection', 'skipped');
    const table = renderTable(report.all(), report.notes, META).split('\n');
    expect(table[0]).toContain('quick');
    expect(table.find((l) => l.startsWith('ingest.ratio'))).toMatch(/0\.6\s+×\s+2\s+e2e ÷ direct/);
    expect(table.find((l) => l.startsWith('prometheus.cpu_s_per_million_samples'))).toContain('—');
    expect(table.at(-1)).toBe('  - detection: skipped');
    expect(formatValue(1234567.8)).toBe('1,234,568');
  });
});

describe('measurement helpers', () => {
  it('reads CPU seconds from /proc/<pid>/stat, whatever the command name', () => {
    // pid (comm) state ppid … utime(14) stime(15) cutime(16) cstime(17) …
    const stat = '42 (node (bench) x) S 1 42 42 0 -1 4194304 100 0 0 0 250 50 1000 200 20 0 11 0 1 1 1';
    const t = parseProcStat(stat);
    expect(t.self_s).toBeCloseTo(3); // 300 ticks at USER_HZ 100
    expect(t.children_s).toBeCloseTo(12);
  });

  it('sums a metric from Prometheus text, optionally by labels', () => {
    const text = [
      '# TYPE x counter',
      'x_total{source="dcgm"} 10',
      'x_total{source="nccl"} 5',
      'x_total{source="otlp"} 2.5 1700000000000',
      'x_totalish 100',
      'y 1',
    ].join('\n');
    expect(sumMetric(text, 'x_total')).toBe(17.5);
    expect(sumMetric(text, 'x_total', (l) => /source="(dcgm|otlp)"/.test(l))).toBe(12.5);
    expect(sumMetric('up 1\n', 'up')).toBe(1);
  });

  it('writes bench scenarios the simulator accepts', () => {
    expect(clusterShape(4096)).toEqual({ nodes: 512, leaves: 128, spines: 64 });
    expect(() => clusterShape(100)).toThrow(/multiple of 16/);
    const s = parseScenario(
      scenarioYaml({ name: 'b', gpus: 64, duration_s: 3, faults: [{ kind: 'incast_congestion', target: 'leaf-0/p1', start_s: 1, duration_s: 1, severity: 0.5 }] }),
      'b.yaml',
    );
    expect(s.topology).toMatchObject({ nodes: 8, gpus_per_node: 8, leaves: 2 });
    expect(s.faults).toHaveLength(1);
  });
});
