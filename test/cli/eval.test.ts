/**
 * `fabricscope eval` end to end on a representative subset of examples/suite (two scenarios with
 * two overlapping faults each: incast + straggler, degraded link + credit starvation), through the
 * built CLI, each scenario in its own child process. The full 26-scenario suite is `fabricscope eval
 * --suite examples/suite`; this keeps the test file within a minute on two cores.
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EvalReport } from '../../cli/eval-score.js';
import { REPO_ROOT, runCli, tempDir } from '../harness/cli-process.js';

const SUBSET = ['16-overlap-incast-straggler.yaml', '17-overlap-degraded-credit.yaml'];

describe('fabricscope eval', () => {
  it('scores a suite subset at the bar of issue 6 and prints the table and the JSON', async () => {
    const dir = tempDir('eval');
    const suite = join(dir, 'suite');
    mkdirSync(suite);
    for (const f of SUBSET) copyFileSync(join(REPO_ROOT, 'examples', 'suite', f), join(suite, f));
    const json = join(dir, 'report.json');
    const res = await runCli(['eval', '--suite', suite, '--json', json, '--parallel', '2', '--log-level', 'warn'], 170_000);
    expect(res.stderr).not.toMatch(/scenario failed/);
    expect(res.stdout).toMatch(/^kind\s+verdicts\s+precision/m);
    expect(res.stdout).toMatch(/recall counts only faults that made some job wait/);
    const report = JSON.parse(readFileSync(json, 'utf8')) as EvalReport;
    expect(report.overall.effective_faults).toBe(4);
    expect(report.overall.precision).toBeGreaterThanOrEqual(0.95);
    expect(report.overall.recall).toBeGreaterThanOrEqual(0.95);
    for (const kind of ['incast_congestion', 'straggler_gpu', 'link_degraded', 'credit_starvation']) {
      expect(report.kinds.find((k) => k.kind === kind)!.recall, kind).toBeGreaterThanOrEqual(0.9);
    }
    expect(report.overall.median_delay_ms).toBeLessThanOrEqual(2 * report.switch_interval_ms);
    expect(report.pass).toBe(true);
    expect(res.code).toBe(0);
  }, 180_000);
});
