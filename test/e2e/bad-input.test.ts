/**
 * Bad input at the edges: a scenario with a mistake is refused with a message naming it, and a
 * malformed telemetry payload gets a 400 naming the problem while the platform keeps serving.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, startCli, tempDir, type Service } from '../harness/cli-process.js';

describe('a scenario with a mistake is refused, naming it', () => {
  it.each([
    ['unknown-key.yaml', /sevrity/],
    ['nonexistent-target.yaml', /leaf-7\/p1/],
    ['negative-duration.yaml', /duration_s/],
  ])('%s', async (file, mentions) => {
    const res = await runCli(['run', '--scenario', join(REPO_ROOT, 'examples', 'invalid', file), '--data', tempDir('bad'), '--log-level', 'warn']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(mentions);
    expect(res.stderr).toContain(file);
  });

  it('an unknown flag is named', async () => {
    const res = await runCli(['run', '--scenaro', 'x.yaml']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('--scenaro');
  });
});

describe('a malformed OTLP body while the platform runs', () => {
  let up: Service;

  beforeAll(async () => {
    up = await startCli(
      ['up', '--no-simulator', '--data', tempDir('up'), '--port', '0', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--log-level', 'info'],
      ['api listening', 'OTLP/HTTP receiver listening'],
    );
  });
  afterAll(async () => {
    expect(await up.stop()).toBe(0);
  });

  it('gets 400 naming the problem, and the process keeps serving', async () => {
    const otlp = up.urls['OTLP/HTTP receiver listening']!;
    const bad = await fetch(`${otlp}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceMetrics": [ {' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/JSON/i);

    const wrongType = await fetch(`${otlp}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'x', gauge: { dataPoints: [{ timeUnixNano: 'soon', asDouble: 1 }] } }] }] }] }),
    });
    expect(wrongType.status).toBe(400);
    expect(await wrongType.text()).toContain('timeUnixNano');

    const health = await fetch(`${up.urls['api listening']}/healthz`);
    expect(health.status).toBe(200);
    const good = await fetch(`${otlp}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceMetrics":[]}' });
    expect(good.status).toBe(200);
  });
});
